"""What the pages need from the ticket domain, in one place: finding a ticket by its reference
for a viewer, turning a valid form into one service call, and the read models the templates
show (rows with their next SLA due, clocks in words, the conversation a viewer may see).

Writes go through the ticket services only (``tickets.services``); reads scope to the tenant
and the viewer before they fetch (``tickets.selectors.tickets_visible_to``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.models import Membership, Tenant
from sla.models import Metric, SLAClock, SLAPolicy

from ..forms import EmergencyForm, NewTicketForm, ReplyForm
from ..models import Attachment, CustomField, Message, Ticket, TicketType
from ..selectors import (
    attachments_visible_to,
    messages_visible_to,
    ticket_get_for_user,
    tickets_visible_to,
)
from ..services import attachment_add, ticket_create, ticket_reply
from .common import ClockLine, clock_line, next_due_words
from .queue_query import QueueRow, next_due_subquery

HELD_MESSAGE = gettext_lazy(
    "Thank you: we have your request and kept everything you wrote. Your account is waiting "
    "for verification by your organization or our team; we start on it as soon as you are "
    "verified."
)
TICKET_RELATED = (
    "tenant",
    "severity",
    "priority",
    "type",
    "business_impact",
    "product_area",
    "organization",
    "assignee__user",
    "team",
    "merged_into",
    "requester",
)


def portal_url(ticket: Ticket) -> str:
    return reverse("portal-ticket", kwargs={"reference": ticket.reference})


def agent_url(ticket: Ticket) -> str:
    return reverse("agent-ticket", kwargs={"reference": ticket.reference})


def ticket_for(
    *, tenant: Tenant, membership: Membership, reference: str, lock: bool = False
) -> Ticket:
    """The ticket with ``reference`` if ``membership`` may see it (``ticket_get_for_user``:
    404 for a missing one and a forbidden one alike), with what the pages show joined in.
    ``lock`` takes the row lock for a write (call inside a transaction)."""
    ticket = ticket_get_for_user(
        tenant=tenant, membership=membership, reference=reference, write=lock
    )
    if lock:
        return ticket
    return Ticket.objects.select_related(*TICKET_RELATED).get(pk=ticket.pk)


# --- filing -----------------------------------------------------------------------------------


def emergency_type(tenant: Tenant) -> TicketType | None:
    return TicketType.objects.for_tenant(tenant).filter(is_emergency=True).first()


def emergency_cases(tenant: Tenant, ticket_type: TicketType) -> list[tuple[str, str]]:
    """The emergency form's cases: the options of a select field of the emergency type, else
    the tenant's policy template's (seed 002: offline/down, hacked, main functionality)."""
    from ..services.catalog import custom_fields_for

    for cf in custom_fields_for(tenant=tenant, ticket_type=ticket_type):
        if cf.kind == cf.Kind.SELECT and cf.ticket_types.exists():
            return [
                (str(o.get("value")), str(o.get("label") or o.get("value"))) for o in cf.options
            ]
    policy = SLAPolicy.objects.for_tenant(tenant).first()
    if policy is not None and policy.template:
        from sla.policies import TEMPLATES

        template = TEMPLATES.get(policy.template)
        cases = template.data.get("emergency_cases", []) if template is not None else []
        return [(str(c), str(c)) for c in cases]
    return []


def _emergency_field(tenant: Tenant, ticket_type: TicketType) -> str | None:
    from ..services.catalog import custom_fields_for

    for cf in custom_fields_for(tenant=tenant, ticket_type=ticket_type):
        if cf.kind == cf.Kind.SELECT and cf.ticket_types.exists():
            return cf.key
    return None


def no_contract_note(*, tenant: Tenant, membership: Membership) -> str:
    """What the form tells a customer whose organization has no active contract under a
    "no SLA" rule (seed 002: first come, first served; seed 004: contact sales)."""
    from helpdesk.selectors import tenant_today
    from sla.selectors import contract_active_for

    if membership.is_staff_member:
        return ""
    policy = SLAPolicy.objects.for_tenant(tenant).first()
    if policy is None or policy.no_contract_rule != SLAPolicy.NoContractRule.NONE:
        return ""
    org = membership.organization
    if org is not None and contract_active_for(organization=org, on=tenant_today(tenant)):
        return ""
    return policy.no_contract_note


def attach_files(ticket: Ticket, files: Iterable[Any], membership: Membership) -> list[Attachment]:
    """Store uploaded files on ``ticket`` through the attachment service (the tenant's size and
    type rules live there; its ValidationError names ``file``)."""
    return [
        attachment_add(
            ticket=ticket,
            upload=upload,
            filename=upload.name,
            declared_content_type=getattr(upload, "content_type", "") or "",
            by=membership.user,
        )
        for upload in files
    ]


@transaction.atomic
def portal_ticket_file(*, tenant: Tenant, membership: Membership, form: NewTicketForm) -> Ticket:
    """One ticket from a valid portal form: ``ticket_create`` (the requester is the viewer; a
    pending contact's ticket is held by the service) and its attachments."""
    data = form.cleaned_data
    user = membership.user
    ticket = ticket_create(
        tenant=tenant,
        subject=data["subject"],
        description=data["description"],
        requester=user,
        requester_email=user.email,
        channel=Ticket.Channel.WEB,
        ticket_type=data.get("ticket_type"),
        severity=data.get("severity"),
        business_impact=data.get("business_impact"),
        business_impact_text=data.get("business_impact_text", ""),
        product_area=data.get("product_area"),
        custom_fields=form.custom_values(),
        cc=data.get("all_cc", []),
        requested_due_date=data.get("requested_due_date"),
        by=membership,
    )
    attach_files(ticket, data.get("attachments") or [], membership)
    return ticket


@transaction.atomic
def portal_emergency_file(
    *, tenant: Tenant, membership: Membership, ticket_type: TicketType, form: EmergencyForm
) -> Ticket:
    data = form.cleaned_data
    case_label = dict(form.cases).get(str(data.get("case") or ""), "")
    lines = [data["description"]]
    if data.get("website"):
        lines.append(_("Website: %(url)s") % {"url": data["website"]})
    if data.get("phone"):
        lines.append(_("Reach me at: %(phone)s") % {"phone": data["phone"]})
    field_key = _emergency_field(tenant, ticket_type)
    custom = {field_key: data["case"]} if field_key and data.get("case") else {}
    from sla.models import Severity

    # The severity that drives the emergency SLA: the tenant's most severe level.
    severity = Severity.objects.for_tenant(tenant).order_by("rank", "id").first()
    user = membership.user
    ticket = ticket_create(
        tenant=tenant,
        subject=_("Emergency: %(case)s") % {"case": case_label or ticket_type.name},
        description="\n\n".join(lines),
        requester=user,
        requester_email=user.email,
        channel=Ticket.Channel.WEB,
        ticket_type=ticket_type,
        severity=severity,
        custom_fields=custom,
        by=membership,
    )
    attach_files(ticket, data.get("attachments") or [], membership)
    return ticket


def portal_reply(*, ticket: Ticket, membership: Membership, form: ReplyForm) -> Message:
    attachments = attach_files(ticket, form.cleaned_data.get("attachments") or [], membership)
    return ticket_reply(
        ticket=ticket,
        body=form.cleaned_data["body"],
        author=membership.user,
        attachments=attachments,
    )


# --- reads --------------------------------------------------------------------------------------


def portal_tickets(
    *,
    tenant: Tenant,
    membership: Membership,
    statuses: Sequence[str] | None,
    only_mine: bool,
) -> QuerySet[Ticket]:
    qs = tickets_visible_to(tenant=tenant, membership=membership)
    if only_mine:
        qs = qs.filter(requester_id=membership.user_id)
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    return (
        qs.annotate(next_due=next_due_subquery(tenant))
        .select_related("tenant", "severity", "organization", "type")
        # Newest first by reference number: the (tenant, number) index keeps the walk inside
        # the tenant (by id, an owner's "organization OR mine" filter made PostgreSQL walk the
        # primary key backwards through every tenant's newer tickets).
        .order_by("-number")
    )


def list_rows(tickets: Iterable[Ticket]) -> list[dict[str, Any]]:
    """Rows of a ticket list: each ticket with its next due in words (``next_due`` annotated
    by the query)."""
    now = timezone.now()
    rows = []
    for ticket in tickets:
        state, words = next_due_words(getattr(ticket, "next_due", None), now=now)
        rows.append({"ticket": ticket, "due_state": state, "due_words": words})
    return rows


def queue_rows(rows: Iterable[QueueRow]) -> list[dict[str, Any]]:
    """The queue's rows with their link and next due in words."""
    now = timezone.now()
    template = reverse("agent-ticket", kwargs={"reference": "X-0"}).replace("X-0", "{}")
    out = []
    for row in rows:
        state, words = next_due_words(row.next_due, now=now)
        out.append(
            {
                "row": row,
                "url": template.format(row.reference),
                "due_state": state,
                "due_words": words,
            }
        )
    return out


def conversation_for(*, ticket: Ticket, membership: Membership) -> list[Message]:
    """The messages ``membership`` may read (``messages_visible_to``: customers never get an
    internal note, not even in the HTML)."""
    return list(
        messages_visible_to(ticket=ticket, membership=membership).order_by("created_at", "id")
    )


def attachments_for(*, ticket: Ticket, membership: Membership) -> list[Attachment]:
    """Every attachment of the ticket the viewer may download (customers: the public ones)."""
    return list(
        attachments_visible_to(ticket=ticket, membership=membership).order_by("created_at", "id")
    )


_METRIC_ORDER = {Metric.FIRST_RESPONSE: 0, Metric.NEXT_RESPONSE: 1, Metric.RESOLUTION: 2}


def clocks_of(ticket: Ticket) -> list[SLAClock]:
    clocks = SLAClock.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket)
    return sorted(clocks, key=lambda c: _METRIC_ORDER.get(c.metric, 9))


def clock_lines(ticket: Ticket, *, customer: bool) -> list[ClockLine]:
    """The ticket's clocks in words. Customers see the ones still running (and how the first
    response went); staff see every clock."""
    now = timezone.now()
    lines = [clock_line(c, now=now) for c in clocks_of(ticket)]
    if customer:
        lines = [
            ln
            for ln in lines
            if ln.state not in ("met", "met_late") or ln.metric == "first_response"
        ]
    return lines


# --- escalation (the escalation engine's: sla.escalation) -----------------------------------


def escalation_state(*, ticket: Ticket, membership: Membership) -> Any:
    """Whether the customer may escalate now (``customer_escalation_state``: the
    acknowledgement window breached on an eligible clock and severity, the tenant allowing
    it), already did, or from when; None for staff and closed tickets."""
    if membership.is_staff_member or ticket.status in (
        Ticket.Status.SOLVED,
        Ticket.Status.CLOSED,
    ):
        return None
    from sla.escalation import customer_escalation_state

    return customer_escalation_state(ticket=ticket)


def customer_escalate(*, ticket: Ticket, membership: Membership, reason: str) -> bool:
    """Escalate on the customer's behalf; True if this request escalated it (False: it
    already was). Raises ValidationError with the engine's reason when it is not allowed."""
    from sla.escalation import CustomerEscalationNotAllowed, ticket_customer_escalate

    try:
        _escalation, created = ticket_customer_escalate(ticket=ticket, by=membership, reason=reason)
    except CustomerEscalationNotAllowed as exc:
        raise ValidationError(exc.state.reason) from None
    return bool(created)


def custom_values(ticket: Ticket) -> list[tuple[str, str]]:
    """The ticket's custom fields as (label, shown value), in the catalog's order."""
    values = ticket.custom_fields or {}
    if not values:
        return []
    out = []
    for cf in CustomField.objects.for_tenant(ticket.tenant_id).order_by("position", "id"):
        if cf.key not in values:
            continue
        value = values[cf.key]
        if cf.kind == CustomField.Kind.SELECT:
            labels = {
                str(o.get("value")): str(o.get("label") or o.get("value")) for o in cf.options
            }
            value = labels.get(str(value), value)
        out.append((cf.label, str(value)))
    return out
