"""The customer portal: file a ticket (``/tickets/new/``, ``/tickets/emergency/``), my tickets
(``/tickets/``) and one ticket (``/tickets/<reference>/``) with its conversation, SLA clock,
reply and escalation.

Every view is thin: parse a form, call one ticket service or selector, render. Every flow works
as a plain POST and redirect; htmx only makes parts of it quicker (the custom fields of a type,
the clock, knowledge-base suggestions).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from helpdesk.models import Membership, Tenant

from ..forms import EmergencyForm, NewTicketForm, ReplyForm
from ..models import Ticket
from . import adapters
from .common import htmx_target, member_required
from .errors import form_add_service_errors

LIST_PAGE_SIZE = 25


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


# --- new ticket ---------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    """The ticket form. A POST with ``refresh`` (the no-JS "update the form" button after the
    type changed) re-renders with everything typed kept and no errors shown."""
    tenant, membership = _tenant(request), _membership(request)
    refresh = request.method == "POST" and "refresh" in request.POST
    if request.method == "POST" and not refresh:
        form = NewTicketForm(request.POST, request.FILES, tenant=tenant, membership=membership)
        if form.is_valid():
            try:
                ticket = adapters.portal_ticket_file(
                    tenant=tenant, membership=membership, form=form
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc, {"type": "ticket_type"})
            else:
                if ticket.held_for_verification:
                    messages.info(request, adapters.HELD_MESSAGE)
                else:
                    messages.success(
                        request,
                        _("Thank you: we received %(reference)s.")
                        % {"reference": ticket.reference},
                    )
                return HttpResponseRedirect(adapters.portal_url(ticket))
    else:
        data = request.POST if refresh else (request.GET if "ticket_type" in request.GET else None)
        initial = _initial_from(data) if data is not None else {}
        form = NewTicketForm(tenant=tenant, membership=membership, initial=initial)
    context = _new_context(request, form)
    if htmx_target(request) == "type-fields":
        return render(request, "portal/_type_fields.html", context)
    status = 400 if form.errors else 200
    return render(request, "portal/ticket_new.html", context, status=status)


def _initial_from(data: Any) -> dict[str, Any]:
    """What the person typed, as initial values (a re-render that must not show errors)."""
    initial: dict[str, Any] = {}
    for key in data:
        if key in ("csrfmiddlewaretoken", "refresh"):
            continue
        values = data.getlist(key)
        initial[key] = values if key == "cc_colleagues" else values[-1]
    return initial


def _new_context(request: HttpRequest, form: NewTicketForm) -> dict[str, Any]:
    tenant, membership = _tenant(request), _membership(request)
    return {
        "form": form,
        "pending": membership.contact_role == Membership.ContactRole.PENDING,
        "emergency_type": adapters.emergency_type(tenant),
        "no_contract_note": adapters.no_contract_note(tenant=tenant, membership=membership),
    }


# --- emergency ------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def ticket_emergency(request: HttpRequest) -> HttpResponse:
    """Seed 002's emergency form: one of the tenant's cases and a description; it pages the
    whole team (the ticket services do). A tenant without an emergency type says so."""
    tenant, membership = _tenant(request), _membership(request)
    emergency = adapters.emergency_type(tenant)
    if emergency is None:
        return render(request, "portal/emergency_unavailable.html")
    cases = adapters.emergency_cases(tenant, emergency)
    form = EmergencyForm(request.POST or None, request.FILES or None, cases=cases)
    if not cases:
        del form.fields["case"]
    if request.method == "POST" and form.is_valid():
        try:
            ticket = adapters.portal_emergency_file(
                tenant=tenant, membership=membership, ticket_type=emergency, form=form
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            if ticket.held_for_verification:
                messages.info(request, adapters.HELD_MESSAGE)
            else:
                messages.success(
                    request,
                    _("Emergency %(reference)s received: our team is being alerted now.")
                    % {"reference": ticket.reference},
                )
            return HttpResponseRedirect(adapters.portal_url(ticket))
    context = {
        "form": form,
        "emergency_type": emergency,
        "pending": membership.contact_role == Membership.ContactRole.PENDING,
    }
    return render(request, "portal/emergency.html", context, status=400 if form.errors else 200)


# --- my tickets -----------------------------------------------------------------------------------


STATE_FILTERS = {
    "open": (_("Open"), [s for s in Ticket.Status if s not in ("solved", "closed")]),
    "done": (_("Solved and closed"), [Ticket.Status.SOLVED, Ticket.Status.CLOSED]),
    "all": (_("All"), None),
}


@require_safe
@member_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    """The viewer's tickets (``tickets_visible_to``: an owner sees the organization's, other
    contacts their own; ``?mine=1`` narrows an owner's list to their own), newest first, with
    status and the next SLA due. One query for the rows whatever the page size."""
    tenant, membership = _tenant(request), _membership(request)
    state = request.GET.get("state", "open")
    state = state if state in STATE_FILTERS else "open"
    only_mine = request.GET.get("mine") == "1"
    qs = adapters.portal_tickets(
        tenant=tenant,
        membership=membership,
        statuses=STATE_FILTERS[state][1],
        only_mine=only_mine,
    )
    page = Paginator(qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = adapters.list_rows(page.object_list)
    context = {
        "page": page,
        "rows": rows,
        "state": state,
        "states": [(key, label) for key, (label, _s) in STATE_FILTERS.items()],
        "only_mine": only_mine,
        "query": urlencode({"state": state, **({"mine": "1"} if only_mine else {})}),
        "is_owner": membership.contact_role == Membership.ContactRole.OWNER,
    }
    return render(request, "portal/ticket_list.html", context)


# --- one ticket ---------------------------------------------------------------------------------


@require_safe
@member_required
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    tenant, membership = _tenant(request), _membership(request)
    ticket = adapters.ticket_for(tenant=tenant, membership=membership, reference=reference)
    return _detail(request, ticket, ReplyForm())


def _detail(
    request: HttpRequest, ticket: Ticket, reply_form: ReplyForm, status: int = 200
) -> HttpResponse:
    membership = _membership(request)
    context = {
        "ticket": ticket,
        "conversation": adapters.conversation_for(ticket=ticket, membership=membership),
        "attachments": adapters.attachments_for(ticket=ticket, membership=membership),
        "clocks": adapters.clock_lines(ticket, customer=True),
        "reply_form": reply_form,
        "custom_values": adapters.custom_values(ticket),
        "escalation": adapters.escalation_state(ticket=ticket, membership=membership),
        "is_staff": membership.is_staff_member,
    }
    return render(request, "portal/ticket_detail.html", context, status=status)


@require_safe
@member_required
def ticket_sla(request: HttpRequest, reference: str) -> HttpResponse:
    """The clock region alone (htmx refreshes it every minute: "due in 2 h 14 min")."""
    tenant, membership = _tenant(request), _membership(request)
    ticket = adapters.ticket_for(tenant=tenant, membership=membership, reference=reference)
    context = {"ticket": ticket, "clocks": adapters.clock_lines(ticket, customer=True)}
    return render(request, "portal/_sla.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def ticket_reply(request: HttpRequest, reference: str) -> HttpResponse:
    """Post a reply. A GET (a reload after a refused reply) shows the ticket page."""
    tenant, membership = _tenant(request), _membership(request)
    ticket = adapters.ticket_for(tenant=tenant, membership=membership, reference=reference)
    if request.method != "POST":
        return _detail(request, ticket, ReplyForm())
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                adapters.portal_reply(ticket=ticket, membership=membership, form=form)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("Your reply was sent."))
            return HttpResponseRedirect(adapters.portal_url(ticket) + "#conversation-end")
    return _detail(request, ticket, form, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def ticket_escalate(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer's "escalate" (once the acknowledgement window is breached for a severity
    eligible for escalation); the escalation service decides and notifies. A GET shows the
    ticket page."""
    tenant, membership = _tenant(request), _membership(request)
    ticket = adapters.ticket_for(tenant=tenant, membership=membership, reference=reference)
    if request.method != "POST":
        return _detail(request, ticket, ReplyForm())
    if membership.is_staff_member:
        raise Http404("Customers escalate here; staff work the ticket")
    reason = request.POST.get("reason", "")[:2000]
    try:
        created = adapters.customer_escalate(ticket=ticket, membership=membership, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if created:
            messages.success(
                request,
                _("Escalated: our escalation team has been notified of %(reference)s.")
                % {"reference": ticket.reference},
            )
        else:
            messages.info(request, _("This ticket was already escalated."))
    return HttpResponseRedirect(adapters.portal_url(ticket))
