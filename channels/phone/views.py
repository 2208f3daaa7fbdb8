"""Pages of the phone channel: the contact's personal code in the portal, the agent's "Log a
call", and the console's list of codes (``/manage/phone/``). Thin: parse, call one selector or
service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.access import admin_required
from console.nav import console_nav
from helpdesk.models import Membership, Tenant
from sla.models import PackageSeverity
from tickets.views.adapters import agent_url
from tickets.views.common import member_required, staff_required
from tickets.views.errors import form_add_service_errors

from .forms import CallNoteForm, CallTicketForm, CodeForm, RegenerateForm
from .models import CODE_LENGTH
from .selectors import (
    Caller,
    caller_get,
    caller_open_tickets,
    caller_ticket_get,
    phone_caller_for_code,
    phone_contacts_entitled,
    phone_entitlement_for,
)
from .services import (
    phone_call_note,
    phone_call_ticket_create,
    phone_code_ensure,
    phone_code_regenerate,
)
from .throttling import phone_verify_wait

# How long a verification made at the start of a call stays good for logging it.
CALLER_MAX_AGE = 2 * 3600
CONSOLE_PAGE_SIZE = 50


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _next_url(request: HttpRequest, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


# --- the portal -----------------------------------------------------------------------------


def portal_panel(membership: Membership | None) -> dict[str, Any]:
    """What ``phone/_portal_code.html`` shows ``membership``: their code (created on first view)
    when their package includes phone, else the reason it does not. Staff see nothing."""
    if membership is None or membership.role != Membership.Role.CUSTOMER:
        return {"phone_shown": False}
    entitlement = phone_entitlement_for(membership=membership)
    code = phone_code_ensure(membership=membership).code if entitlement.entitled else None
    return {"phone_shown": True, "phone_entitlement": entitlement, "phone_code": code}


@require_http_methods(["GET", "HEAD", "POST"])
@member_required
def portal_phone(request: HttpRequest) -> HttpResponse:
    """The contact's phone support page: their personal code and "Regenerate" (POST)."""
    membership = _membership(request)
    if request.method == "POST":
        if membership.role != Membership.Role.CUSTOMER:
            raise Http404("No such page")
        try:
            phone_code_regenerate(membership=membership, by=membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("Your new personal code is ready; the old one no longer works.")
            )
        return HttpResponseRedirect(_next_url(request, reverse("phone-portal")))
    # The panel (``{% phone_code_panel %}``) makes the code on the contact's first view.
    return render(request, "phone/portal.html")


# --- the agent's "Log a call" ---------------------------------------------------------------


def _salt(tenant: Tenant, agent: Membership) -> str:
    return f"channels.phone.caller:{tenant.pk}:{agent.pk}"


def caller_token(*, tenant: Tenant, agent: Membership, caller: Membership) -> str:
    """Carries "this agent verified this caller" from the code step to the logging step, so the
    form does not post the code again (and the check is not counted twice)."""
    return signing.dumps(caller.pk, salt=_salt(tenant, agent), compress=False)


def _caller_from_token(request: HttpRequest) -> Membership | None:
    tenant, agent = _tenant(request), _membership(request)
    try:
        pk = signing.loads(
            request.POST.get("caller", ""), salt=_salt(tenant, agent), max_age=CALLER_MAX_AGE
        )
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return caller_get(tenant=tenant, membership_id=pk)


def _call_context(
    request: HttpRequest,
    caller: Caller,
    *,
    ticket_form: CallTicketForm | None = None,
    note_form: CallNoteForm | None = None,
) -> dict[str, Any]:
    tenant, agent = _tenant(request), _membership(request)
    token = caller_token(tenant=tenant, agent=agent, caller=caller.contact)
    open_tickets = caller_open_tickets(tenant=tenant, agent=agent, caller=caller.contact)
    package = caller.entitlement.package
    covered = (
        list(
            PackageSeverity.objects.for_tenant(tenant)
            .filter(package=package)
            .select_related("severity")
            .order_by("severity__rank", "severity_id")
        )
        if package is not None
        else []
    )
    if caller.entitlement.entitled:
        ticket_form = ticket_form or CallTicketForm(tenant=tenant, initial={"caller": token})
        if open_tickets:
            note_form = note_form or CallNoteForm(tickets=open_tickets, initial={"caller": token})
    code_form = CodeForm()
    code_form.fields["code"].widget.attrs.pop("autofocus", None)  # the caller's forms come first
    return {
        "code_form": code_form,
        "caller": caller.contact,
        "entitlement": caller.entitlement,
        "covered_severities": [ps.severity for ps in covered],
        "open_tickets": open_tickets,
        "ticket_form": ticket_form,
        "note_form": note_form if open_tickets else None,
        "code_length": CODE_LENGTH,
    }


def _render_code_step(
    request: HttpRequest, form: CodeForm, *, status: int = 200, retry_after: int | None = None
) -> HttpResponse:
    response = render(
        request,
        "phone/agent_call.html",
        {"code_form": form, "code_length": CODE_LENGTH},
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _render_code_step(request, form, status=400)
    wait = phone_verify_wait(request)
    if wait is not None:
        form.add_error(
            "code",
            _("Too many code checks. Try again in %(n)d seconds.") % {"n": wait},
        )
        return _render_code_step(request, form, status=429, retry_after=wait)
    caller = phone_caller_for_code(tenant=_tenant(request), code=form.cleaned_data["code"])
    if caller is None:
        form.add_error("code", _("Unknown code. Ask the caller to read it again."))
        return _render_code_step(request, form, status=400)
    return render(request, "phone/agent_call.html", _call_context(request, caller))


def _expired(request: HttpRequest) -> HttpResponse:
    form = CodeForm()
    messages.error(request, _("The caller's verification has expired: enter their code again."))
    return _render_code_step(request, form, status=400)


def _create(request: HttpRequest) -> HttpResponse:
    tenant, agent = _tenant(request), _membership(request)
    contact = _caller_from_token(request)
    if contact is None:
        return _expired(request)
    caller = Caller(contact=contact, entitlement=phone_entitlement_for(membership=contact))
    if "refresh" in request.POST:
        # The no-JS "update the form for this type": keep what was typed, show no errors.
        initial = {k: request.POST.get(k) for k in request.POST if k != "csrfmiddlewaretoken"}
        form = CallTicketForm(tenant=tenant, initial=initial)
        return render(
            request, "phone/agent_call.html", _call_context(request, caller, ticket_form=form)
        )
    form = CallTicketForm(request.POST, tenant=tenant)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = phone_call_ticket_create(
                agent=agent,
                caller=contact,
                subject=data["subject"],
                description=data["description"],
                severity=data.get("severity"),
                ticket_type=data.get("ticket_type"),
                business_impact=data.get("business_impact"),
                product_area=data.get("product_area"),
                custom_fields=form.custom_values(),
                assign_to_agent=bool(data.get("assign_to_me")),
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc, {"type": "ticket_type"})
        else:
            messages.success(
                request,
                _("Call logged as %(reference)s.") % {"reference": ticket.reference},
            )
            return HttpResponseRedirect(agent_url(ticket))
    context = _call_context(request, caller, ticket_form=form)
    return render(request, "phone/agent_call.html", context, status=400)


def _note(request: HttpRequest) -> HttpResponse:
    tenant, agent = _tenant(request), _membership(request)
    contact = _caller_from_token(request)
    if contact is None:
        return _expired(request)
    caller = Caller(contact=contact, entitlement=phone_entitlement_for(membership=contact))
    open_tickets = caller_open_tickets(tenant=tenant, agent=agent, caller=contact)
    form = CallNoteForm(request.POST, tickets=open_tickets)
    if form.is_valid():
        ticket = caller_ticket_get(
            tenant=tenant, agent=agent, caller=contact, ticket_id=form.cleaned_data["ticket"]
        )
        if ticket is None:
            form.add_error("ticket", _("Choose one of the caller's tickets in progress."))
        else:
            try:
                phone_call_note(
                    agent=agent, caller=contact, ticket=ticket, notes=form.cleaned_data["notes"]
                )
            except ValidationError as exc:
                form_add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Call noted on %(reference)s.") % {"reference": ticket.reference},
                )
                return HttpResponseRedirect(agent_url(ticket))
    context = _call_context(request, caller, note_form=form)
    return render(request, "phone/agent_call.html", context, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
def agent_call(request: HttpRequest) -> HttpResponse:
    """Log a call: the caller's code (verified and throttled), who they are and what their
    package includes, then a new ticket (channel phone) or a note on one of their tickets."""
    if request.method != "POST":
        return _render_code_step(request, CodeForm())
    action = request.POST.get("action", "verify")
    if action == "create":
        return _create(request)
    if action == "note":
        return _note(request)
    return _verify(request)


# --- the console ----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@admin_required
def console_phone(request: HttpRequest) -> HttpResponse:
    """``/manage/phone/``: the contacts whose package includes phone, their codes, and
    "regenerate" (a code read out to the wrong person, say)."""
    tenant, admin = _tenant(request), _membership(request)
    contacts = phone_contacts_entitled(tenant=tenant)
    if request.method == "POST":
        form = RegenerateForm(request.POST)
        if not form.is_valid():
            raise Http404("No such contact")
        contact = contacts.filter(pk=form.cleaned_data["contact"]).first()
        if contact is None:
            raise Http404("No such contact")
        try:
            phone_code_regenerate(membership=contact, by=admin)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("A new code for %(email)s is ready; the old one no longer works.")
                % {"email": contact.user.email},
            )
        return HttpResponseRedirect(_next_url(request, reverse("console-phone")))
    query = request.GET.get("q", "").strip()[:200]
    if query:
        contacts = contacts.filter(
            Q(user__email__icontains=query)
            | Q(user__name__icontains=query)
            | Q(organization__name__icontains=query)
        )
    page = Paginator(contacts, CONSOLE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **console_nav(request),
        "page": page,
        "query": query,
        "here": request.get_full_path(),
    }
    return render(request, "phone/console.html", context)
