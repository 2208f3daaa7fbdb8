"""One ticket in the agent workspace (``/agent/tickets/<reference>/``): the whole conversation
with internal notes, reply and note (with canned responses), assign, re-classify, status,
merge, CCs, every SLA clock with its explanation, the event log, and who else is on it.

Each action has its own URL and is a plain POST that redirects back (no JavaScript needed); a
GET of an action URL shows the ticket page. A refused action re-renders the page with the
form's errors inline (status 400) and nothing typed lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from helpdesk.models import Membership, Tenant

from ..forms import (
    AgentMessageForm,
    AssignForm,
    CcAddForm,
    CcRemoveForm,
    MergeForm,
    ReclassifyForm,
    TransitionForm,
)
from ..models import Ticket
from ..selectors import events_for, ticket_get_for_user, ticket_similar
from ..services import (
    ALLOWED_TRANSITIONS,
    ticket_add_cc,
    ticket_assign,
    ticket_merge,
    ticket_note,
    ticket_reclassify,
    ticket_remove_cc,
    ticket_reply,
    ticket_transition,
)
from . import adapters, presence
from .common import bell_template, staff_required
from .errors import form_add_service_errors
from .events import event_lines
from .kb_links import link_candidates, link_markdown
from .macros import macro_body, macros_for


def _who(request: HttpRequest) -> tuple[Tenant, Membership]:
    return request.tenant, request.membership  # type: ignore[attr-defined]


def allowed_statuses(ticket: Ticket) -> list[tuple[str, Any]]:
    allowed = ALLOWED_TRANSITIONS.get(ticket.status, frozenset())
    return [(value, label) for value, label in Ticket.Status.choices if value in allowed]


def _page(request: HttpRequest, ticket: Ticket, status: int = 200, **forms: Any) -> HttpResponse:
    tenant, membership = _who(request)
    statuses = allowed_statuses(ticket)
    # No-JavaScript inserts: a canned response (?macro=) and/or a KB article link (?kb_article=).
    prefill = "\n\n".join(
        text
        for text in (
            macro_body(tenant, request.GET.get("macro", "")),
            link_markdown(tenant, request.GET.get("kb_article", ""), request),
        )
        if text
    )
    kb_query = request.GET.get("kb_q", "").strip()[:200]
    bound = forms.get("message_form")
    reply_form = AgentMessageForm(
        kind=AgentMessageForm.KIND_REPLY, allowed_statuses=statuses, initial={"body": prefill}
    )
    note_form = AgentMessageForm(kind=AgentMessageForm.KIND_NOTE, allowed_statuses=statuses)
    if bound is not None and bound.compose_kind == AgentMessageForm.KIND_NOTE:
        note_form = bound
    elif bound is not None:
        reply_form = bound
    context = {
        "ticket": ticket,
        "conversation": adapters.conversation_for(ticket=ticket, membership=membership),
        "attachments": adapters.attachments_for(ticket=ticket, membership=membership),
        "clocks": adapters.clock_lines(ticket, customer=False),
        "events": event_lines(events_for(ticket=ticket)),
        "custom_values": adapters.custom_values(ticket),
        "reply_form": reply_form,
        "note_form": note_form,
        "assign_form": forms.get("assign_form")
        or AssignForm(
            tenant=tenant, initial={"assignee": ticket.assignee_id, "team": ticket.team_id}
        ),
        "reclassify_form": forms.get("reclassify_form")
        or ReclassifyForm(tenant=tenant, initial={"severity": ticket.severity_id}),
        "status_form": forms.get("status_form") or TransitionForm(allowed=statuses),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "cc_form": forms.get("cc_form") or CcAddForm(),
        "similar": ticket_similar(ticket=ticket) if ticket.merged_into_id is None else [],
        "macros": macros_for(tenant),
        "kb_query": kb_query,
        "kb_results": link_candidates(tenant, kb_query, request) if kb_query else None,
        "others": presence.others(ticket=ticket, membership=membership),
        "bell_template": bell_template(),
    }
    return render(request, "agent/ticket.html", context, status=status)


def _ticket(request: HttpRequest, reference: str, *, lock: bool = False) -> Ticket:
    tenant, membership = _who(request)
    return adapters.ticket_for(tenant=tenant, membership=membership, reference=reference, lock=lock)


def _back(ticket: Ticket, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(adapters.agent_url(ticket) + (f"#{anchor}" if anchor else ""))


@require_safe
@staff_required
def ticket_page(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, _ticket(request, reference))


@require_safe
@staff_required
def ticket_kb_search(request: HttpRequest, reference: str) -> HttpResponse:
    """The article picker's results alone (htmx swaps them in as the agent types)."""
    ticket = _ticket(request, reference)
    tenant, _membership = _who(request)
    query = request.GET.get("kb_q", "").strip()[:200]
    context = {
        "ticket": ticket,
        "kb_query": query,
        "kb_results": link_candidates(tenant, query, request) if query else None,
    }
    return render(request, "agent/_kb_results.html", context)


@require_safe
@staff_required
def ticket_sla(request: HttpRequest, reference: str) -> HttpResponse:
    """The clocks region alone (htmx refreshes it every minute)."""
    ticket = _ticket(request, reference)
    context = {"ticket": ticket, "clocks": adapters.clock_lines(ticket, customer=False)}
    return render(request, "agent/_sla.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_message(request: HttpRequest, reference: str) -> HttpResponse:
    """A public reply (meets the first response; may set a status) or an internal note."""
    if request.method != "POST":
        return ticket_page(request, reference)
    _tenant, membership = _who(request)
    ticket = _ticket(request, reference)
    kind = request.POST.get("kind", "")
    kind = kind if kind == AgentMessageForm.KIND_NOTE else AgentMessageForm.KIND_REPLY
    form = AgentMessageForm(
        request.POST, request.FILES, kind=kind, allowed_statuses=allowed_statuses(ticket)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                locked = _ticket(request, reference, lock=True)
                files = adapters.attach_files(locked, data["attachments"] or [], membership)
                if data["kind"] == AgentMessageForm.KIND_NOTE:
                    message = ticket_note(
                        ticket=locked, body=data["body"], by=membership, attachments=files
                    )
                    if data["then_status"]:
                        ticket_transition(ticket=locked, status=data["then_status"], by=membership)
                else:
                    message = ticket_reply(
                        ticket=locked,
                        body=data["body"],
                        author=membership.user,
                        status=data["then_status"] or None,
                        attachments=files,
                    )
        except ValidationError as exc:
            form_add_service_errors(form, exc, {"status": "then_status"})
        else:
            presence.record(ticket=ticket, membership=membership, state=presence.VIEWING)
            note = data["kind"] == AgentMessageForm.KIND_NOTE
            messages.success(request, _("Internal note added.") if note else _("Reply sent."))
            return _back(ticket, f"message-{message.pk}")
    return _page(request, ticket, status=400, message_form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_assign_view(request: HttpRequest, reference: str) -> HttpResponse:
    tenant, membership = _who(request)
    form = AssignForm(request.POST or None, tenant=tenant)
    return _apply(
        request,
        reference,
        form,
        "assign_form",
        lambda ticket: ticket_assign(
            ticket=ticket,
            assignee=form.cleaned_data["assignee"],
            team=form.cleaned_data["team"],
            by=membership,
        ),
        _("Assignment saved."),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_reclassify_view(request: HttpRequest, reference: str) -> HttpResponse:
    tenant, membership = _who(request)
    form = ReclassifyForm(request.POST or None, tenant=tenant)
    return _apply(
        request,
        reference,
        form,
        "reclassify_form",
        lambda ticket: ticket_reclassify(
            ticket=ticket, severity=form.cleaned_data["severity"], by=membership
        ),
        _("Severity re-classified; the SLA clocks were recomputed."),
        anchor="sla",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_status_view(request: HttpRequest, reference: str) -> HttpResponse:
    if request.method != "POST":
        return ticket_page(request, reference)
    _tenant, membership = _who(request)
    form = TransitionForm(request.POST, allowed=allowed_statuses(_ticket(request, reference)))
    return _apply(
        request,
        reference,
        form,
        "status_form",
        lambda ticket: ticket_transition(
            ticket=ticket, status=form.cleaned_data["status"], by=membership
        ),
        _("Status changed."),
    )


def _apply(
    request: HttpRequest,
    reference: str,
    form: Any,
    form_name: str,
    run: Callable[[Ticket], object],
    success: str,
    anchor: str = "",
) -> HttpResponse:
    """One agent action: GET shows the page; a valid POST runs the service on the locked ticket
    and redirects back; a refusal re-renders the page with the errors in the form (400)."""
    if request.method != "POST":
        return ticket_page(request, reference)
    ticket = _ticket(request, reference)
    if form.is_valid():
        try:
            with transaction.atomic():
                run(_ticket(request, reference, lock=True))
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return _back(ticket, anchor)
    return _page(request, ticket, status=400, **{form_name: form})


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_merge_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Merge this ticket (the duplicate) into the one named by reference (the original)."""
    if request.method != "POST":
        return ticket_page(request, reference)
    tenant, membership = _who(request)
    ticket = _ticket(request, reference)
    form = MergeForm(request.POST)
    if form.is_valid():
        try:
            master = ticket_get_for_user(
                tenant=tenant, membership=membership, reference=form.cleaned_data["into"]
            )
        except Http404:  # an unknown reference is a form error here, not a missing page
            form.add_error(
                "into", _("There is no ticket %(ref)s.") % {"ref": form.cleaned_data["into"]}
            )
        else:
            try:
                ticket_merge(
                    duplicate=ticket,
                    master=master,
                    by=membership,
                    filed_without_request=request.POST.get("unasked") == "1",
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc, {"ticket": "into"})
            else:
                messages.success(
                    request,
                    _("%(dup)s was merged into %(master)s.")
                    % {"dup": ticket.reference, "master": master.reference},
                )
                return _back(master)
    return _page(request, ticket, status=400, merge_form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_cc_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Add CCs (``emails``) or remove one (``remove``)."""
    if request.method != "POST":
        return ticket_page(request, reference)
    _tenant, membership = _who(request)
    ticket = _ticket(request, reference)
    if "remove" in request.POST:
        remove = CcRemoveForm({"email": request.POST.get("remove", "")})
        if remove.is_valid():
            with transaction.atomic():
                ticket_remove_cc(
                    ticket=_ticket(request, reference, lock=True),
                    emails=[remove.cleaned_data["email"]],
                    by=membership,
                )
            messages.success(request, _("CC removed."))
        return _back(ticket, "cc")
    form = CcAddForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                ticket_add_cc(
                    ticket=_ticket(request, reference, lock=True),
                    emails=form.cleaned_data["emails"],
                    by=membership,
                )
        except ValidationError as exc:
            form_add_service_errors(form, exc, {"cc": "emails"})
        else:
            messages.success(request, _("CC added."))
            return _back(ticket, "cc")
    return _page(request, ticket, status=400, cc_form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def ticket_presence(request: HttpRequest, reference: str) -> HttpResponse:
    """Who else is on this ticket. htmx POSTs here every ~10 s with ``state`` (viewing or
    replying); the answer is the notice about the others (a GET only reads)."""
    _tenant, membership = _who(request)
    ticket = _ticket(request, reference)
    if request.method == "POST":
        presence.record(ticket=ticket, membership=membership, state=request.POST.get("state", ""))
    context = {"ticket": ticket, "others": presence.others(ticket=ticket, membership=membership)}
    return render(request, "agent/_presence.html", context)
