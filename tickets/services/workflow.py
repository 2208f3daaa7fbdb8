"""Status, assignment, re-classification and the other changes staff make to a ticket."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.models import Membership, User
from sla.clocks import sla_recompute, sla_status_changed
from sla.models import Severity

from .. import outbox
from ..models import BusinessImpact, Priority, ProductArea, Team, Ticket, TicketEvent, TicketType
from ..routing import routing_pick_assignee, routing_rule_for
from .catalog import check_tenant, custom_fields_clean, custom_fields_for, priority_default
from .events import event_record, lock_ticket, touch

S = Ticket.Status

# The one transitions table (oscar's set_status). Closed is final: a reply on a closed ticket is
# refused, and the customer opens a new ticket.
ALLOWED_TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.PENDING: frozenset({S.OPEN, S.SOLVED, S.ON_HOLD}),
    S.ON_HOLD: frozenset({S.OPEN, S.SOLVED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}


class _Unset:
    """An argument that was not given (``None`` is a value: "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()


def require_staff(ticket: Ticket, by: Membership | None, action: str) -> Membership:
    if by is None or by.tenant_id != ticket.tenant_id or not by.is_staff_member:
        raise ValidationError({"by": f"Only the tenant's agents and admins {action}."})
    return by


def transition_apply(
    ticket: Ticket,
    new: str,
    *,
    by: Membership | User | None,
    at: dt.datetime | None = None,
    force: bool = False,
) -> bool:
    """Move ``ticket`` to ``new`` by the table (``force``: a merge closes a duplicate whatever
    its status), record the event and tell the SLA engine. Returns False if already there.
    Callers hold the transaction (and usually the ticket's row lock)."""
    lock_ticket(ticket, "status")
    old = ticket.status
    if new not in S.values:
        raise ValidationError({"status": f"Unknown status '{new}'."})
    if new == old:
        return False
    if not force and new not in ALLOWED_TRANSITIONS[old]:
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[old])) or "nothing (closed is final)"
        raise ValidationError(
            {"status": f"A {old} ticket cannot become {new}; it may become: {allowed}."}
        )
    at = at or timezone.now()
    ticket.status = new
    fields = ["status"]
    if new == S.SOLVED:
        ticket.solved_at = at
        fields.append("solved_at")
    elif new == S.CLOSED:
        ticket.closed_at = at
        fields.append("closed_at")
    elif old == S.SOLVED:
        ticket.solved_at = None  # reopened
        fields.append("solved_at")
    touch(ticket, *fields)
    event_record(
        ticket=ticket, kind=TicketEvent.Kind.STATUS, by=by, field="status", before=old, after=new
    )
    sla_status_changed(ticket=ticket, old=old, new=new, at=at)
    outbox.publish(
        "ticket.updated", tenant_id=ticket.tenant_id, ticket_id=ticket.pk, status=new, old=old
    )
    return True


@transaction.atomic
def ticket_transition(
    *, ticket: Ticket, status: str, by: Membership, at: dt.datetime | None = None
) -> Ticket:
    """Staff move a ticket along the transitions table (new → open/pending/on hold/solved …;
    closed is final); pending (and on hold where the SLA policy says so) pauses resolution,
    solved stops the clocks, a reopen resumes them.

    Preconditions: ``by`` is a staff member of the ticket's tenant. Customers reopen a solved
    ticket by replying (``ticket_reply``)."""
    require_staff(ticket, by, "change a ticket's status")
    transition_apply(ticket, status, by=by, at=at)
    return ticket


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    assignee: Membership | Any | None = UNSET,
    team: Team | Any | None = UNSET,
    by: Membership | None,
) -> Ticket:
    """Set the assignee and/or the team (``None`` clears; unset leaves as is). The assignee is
    an active agent or admin of the ticket's tenant. ``by`` None is the system (routing).

    Preconditions: ``by``, when given, is a staff member of the ticket's tenant."""
    if by is not None:
        require_staff(ticket, by, "assign tickets")
    if assignee is not UNSET and assignee is not None:
        check_tenant(ticket.tenant_id, assignee=assignee)
        if not (assignee.is_staff_member and assignee.is_active):
            raise ValidationError({"assignee": "Assign to an active agent or admin."})
    if team is not UNSET and team is not None:
        check_tenant(ticket.tenant_id, team=team)
    fields = []
    if team is not UNSET and team != ticket.team:
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.TEAM,
            by=by,
            field="team",
            before=ticket.team,
            after=team,
        )
        ticket.team = team
        fields.append("team")
    if assignee is not UNSET and assignee != ticket.assignee:
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.ASSIGNEE,
            by=by,
            field="assignee",
            before=ticket.assignee,
            after=assignee,
        )
        ticket.assignee = assignee
        fields.append("assignee")
    if fields:
        touch(ticket, *fields)
        if "assignee" in fields and ticket.assignee is not None:
            outbox.publish(
                "ticket.assigned",
                tenant_id=ticket.tenant_id,
                ticket_id=ticket.pk,
                assignee_id=ticket.assignee_id,
            )
        outbox.publish("ticket.updated", tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
    return ticket


def _priority_follow_matrix(ticket: Ticket, by: Membership | None) -> None:
    """A ticket whose priority no agent chose follows the matrix."""
    if ticket.priority_overridden:
        return
    default = priority_default(
        tenant=ticket.tenant_id, severity=ticket.severity, business_impact=ticket.business_impact
    )
    if default != ticket.priority:
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.PRIORITY,
            by=by,
            field="priority",
            before=ticket.priority,
            after=default,
        )
        ticket.priority = default
        ticket.save(update_fields=["priority"])


@transaction.atomic
def ticket_reclassify(*, ticket: Ticket, severity: Severity | None, by: Membership) -> Ticket:
    """Change the ticket's severity (agents may re-classify: the seeds reserve that right) and
    recompute its SLA clocks from their original start, keeping the time already consumed. The
    priority follows the matrix unless an agent chose it; a routing rule on the new severity
    (seed 003: severity 1 goes to Technical Support only) moves the ticket to its team.

    Preconditions: ``by`` is a staff member of the ticket's tenant; ``severity`` is the
    tenant's (or None: no SLA)."""
    if by.tenant_id != ticket.tenant_id or not by.is_staff_member:
        raise ValidationError({"by": "Only the tenant's agents and admins re-classify."})
    if severity is not None and severity.tenant_id != ticket.tenant_id:
        raise ValidationError({"severity": "Unknown severity."})
    if severity == ticket.severity:
        return ticket
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.SEVERITY,
        by=by,
        field="severity",
        before=ticket.severity,
        after=severity,
    )
    ticket.severity = severity
    touch(ticket, "severity")
    _priority_follow_matrix(ticket, by)
    rule = routing_rule_for(ticket=ticket)
    if rule is not None and rule.severity_id is not None and rule.team_id != ticket.team_id:
        team = copy.copy(rule.team)  # the rule is shared (configcache); the ticket's team not
        assignee_id = ticket.assignee_id
        keep = assignee_id is not None and team.members.filter(membership_id=assignee_id).exists()
        ticket_assign(ticket=ticket, team=team, by=None)
        if not keep:
            ticket_assign(ticket=ticket, assignee=routing_pick_assignee(team=team), by=None)
    sla_recompute(ticket=ticket)
    outbox.publish("ticket.updated", tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
    return ticket


@transaction.atomic
def ticket_set_sla_exempt(*, ticket: Ticket, exempt: bool, by: Membership) -> Ticket:
    """Mark a ticket as carrying no SLA of its own (seed 003: a duplicate filed without being
    asked) or undo it; its unstopped clocks go (or come back) accordingly. SLA reports leave
    exempt tickets out.

    Preconditions: ``by`` is a staff member of the ticket's tenant."""
    if by.tenant_id != ticket.tenant_id or not by.is_staff_member:
        raise ValidationError({"by": "Only the tenant's agents and admins decide SLA exemption."})
    if ticket.sla_exempt == exempt:
        return ticket
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.SLA_EXEMPT,
        by=by,
        field="sla_exempt",
        before=ticket.sla_exempt,
        after=exempt,
    )
    ticket.sla_exempt = exempt
    touch(ticket, "sla_exempt")
    sla_recompute(ticket=ticket)
    return ticket


def _field_change(ticket: Ticket, by: Membership, name: str, value: Any, fields: list[str]) -> None:
    before = getattr(ticket, name)
    if before == value:
        return
    kind = TicketEvent.Kind.PRIORITY if name == "priority" else TicketEvent.Kind.FIELD
    event_record(ticket=ticket, kind=kind, by=by, field=name, before=before, after=value)
    setattr(ticket, name, value)
    fields.append(name)


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    by: Membership,
    subject: str | Any = UNSET,
    priority: Priority | Any | None = UNSET,
    ticket_type: TicketType | Any | None = UNSET,
    business_impact: BusinessImpact | Any | None = UNSET,
    business_impact_text: str | Any = UNSET,
    product_area: ProductArea | Any | None = UNSET,
    requested_due_date: dt.date | Any | None = UNSET,
    billable: bool | Any = UNSET,
    custom_fields: dict[str, Any] | Any = UNSET,
) -> Ticket:
    """Change what is given; one event per field that changed.

    * ``priority``: a Priority is an agent's override (``priority_overridden``); ``None`` hands
      the priority back to the matrix.
    * ``custom_fields`` merges into the current values (a ``None`` value removes a key); the
      result is checked against the catalog for the (possibly new) type. On a type change,
      values of fields that do not apply to the new type are dropped.
    * Impact changes move a matrix-given priority.

    Preconditions: ``by`` is a staff member of the ticket's tenant."""
    require_staff(ticket, by, "edit tickets")
    lock_ticket(ticket, "custom_fields")
    check_tenant(
        ticket.tenant_id,
        priority=priority if isinstance(priority, Priority) else None,
        type=ticket_type if isinstance(ticket_type, TicketType) else None,
        business_impact=business_impact if isinstance(business_impact, BusinessImpact) else None,
        product_area=product_area if isinstance(product_area, ProductArea) else None,
    )
    fields: list[str] = []
    if subject is not UNSET:
        if not str(subject).strip():
            raise ValidationError({"subject": "A subject is required."})
        _field_change(ticket, by, "subject", str(subject).strip(), fields)
    type_changed = ticket_type is not UNSET and ticket_type != ticket.type
    if ticket_type is not UNSET:
        _field_change(ticket, by, "type", ticket_type, fields)
    if business_impact is not UNSET:
        _field_change(ticket, by, "business_impact", business_impact, fields)
    impact = ticket.business_impact
    text = ticket.business_impact_text if business_impact_text is UNSET else business_impact_text
    text = (text or "").strip() if impact is not None else ""
    if impact is not None and impact.requires_text and not text:
        raise ValidationError({"business_impact_text": f"Describe the impact ({impact.name})."})
    _field_change(ticket, by, "business_impact_text", text, fields)
    if product_area is not UNSET:
        _field_change(ticket, by, "product_area", product_area, fields)
    if requested_due_date is not UNSET:
        _field_change(ticket, by, "requested_due_date", requested_due_date, fields)
    if billable is not UNSET:
        _field_change(ticket, by, "billable", bool(billable), fields)
    if custom_fields is not UNSET or type_changed:
        _custom_fields_change(ticket, by, custom_fields, type_changed, fields)
    if priority is not UNSET:
        overridden = priority is not None
        if priority is None:
            priority = priority_default(
                tenant=ticket.tenant_id,
                severity=ticket.severity,
                business_impact=ticket.business_impact,
            )
        _field_change(ticket, by, "priority", priority, fields)
        if ticket.priority_overridden != overridden:
            ticket.priority_overridden = overridden
            fields.append("priority_overridden")
    elif "business_impact" in fields and not ticket.priority_overridden:
        _field_change(
            ticket,
            by,
            "priority",
            priority_default(
                tenant=ticket.tenant_id,
                severity=ticket.severity,
                business_impact=ticket.business_impact,
            ),
            fields,
        )
    if fields:
        touch(ticket, *fields)
        outbox.publish("ticket.updated", tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
    return ticket


def _custom_fields_change(
    ticket: Ticket, by: Membership, changes: Any, type_changed: bool, fields: list[str]
) -> None:
    current = dict(ticket.custom_fields or {})
    if type_changed:
        applicable = {
            f.key for f in custom_fields_for(tenant=ticket.tenant_id, ticket_type=ticket.type)
        }
        current = {k: v for k, v in current.items() if k in applicable}
    if changes is not UNSET:
        if not isinstance(changes, dict):
            raise ValidationError({"custom_fields": "An object of field key → value."})
        for key, value in changes.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
    cleaned = custom_fields_clean(tenant=ticket.tenant_id, ticket_type=ticket.type, values=current)
    old = ticket.custom_fields or {}
    for key in sorted(set(old) | set(cleaned)):
        if old.get(key) != cleaned.get(key):
            event_record(
                ticket=ticket,
                kind=TicketEvent.Kind.CUSTOM_FIELD,
                by=by,
                field=f"custom_fields.{key}",
                before=old.get(key),
                after=cleaned.get(key),
            )
    if cleaned != old:
        ticket.custom_fields = cleaned
        fields.append("custom_fields")
