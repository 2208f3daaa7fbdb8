"""A customer escalates a ticket themselves (issue 6; seed 001: "when an acknowledgement window
is breached, escalate to the escalation distribution list and the organization's account
executive").

Allowed once the first-response (acknowledgement) clock is breached — past due and not met,
or met late — for an escalation-eligible clock and severity, when the tenant's policy allows
customer escalation. Recorded once per ticket (an :class:`~sla.models.Escalation` of kind
``customer``, unique per ticket); a second request returns the first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.models import Membership
from tickets.models import Ticket

from ..models import Escalation, EscalationRole, Metric, SLAClock
from .notify import customer_escalation_notify
from .rules import clock_is_eligible, policy_for, recipients_for, staff_by_email


@dataclass(frozen=True)
class CustomerEscalationState:
    allowed: bool
    allowed_from: dt.datetime | None
    reason: str
    escalation: Escalation | None


class CustomerEscalationNotAllowed(Exception):
    def __init__(self, state: CustomerEscalationState) -> None:
        super().__init__(state.reason)
        self.state = state


def customer_escalation_state(
    *, ticket: Ticket, now: dt.datetime | None = None
) -> CustomerEscalationState:
    """Whether the ticket may be escalated by its customer now, and from when (reads only)."""
    now = now or timezone.now()
    existing = (
        Escalation.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket, kind=Escalation.Kind.CUSTOMER)
        .first()
    )
    if existing is not None:
        return CustomerEscalationState(False, None, "The ticket is already escalated.", existing)
    if not policy_for(ticket.tenant_id).customer_escalation_enabled:
        return CustomerEscalationState(False, None, "Escalation is not offered here.", None)
    clock = (
        SLAClock.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket, metric=Metric.FIRST_RESPONSE)
        .first()
    )
    if clock is None or clock.due_at is None:
        reason = "The ticket has no acknowledgement time to breach."
        if clock is not None and clock.paused_at is not None:
            reason = "The acknowledgement clock is paused."
        return CustomerEscalationState(False, None, reason, None)
    severity = ticket.severity
    if not clock_is_eligible(clock, severity.escalation_eligible if severity else None):
        return CustomerEscalationState(
            False, None, "This severity is not eligible for escalation.", None
        )
    if clock.met_at is not None and clock.met_at <= clock.due_at:
        return CustomerEscalationState(False, None, "The ticket was acknowledged in time.", None)
    if clock.met_at is None and clock.due_at > now:
        return CustomerEscalationState(
            False,
            clock.due_at,
            "You can escalate once the acknowledgement time has passed.",
            None,
        )
    return CustomerEscalationState(True, clock.due_at, "", None)


@transaction.atomic
def ticket_customer_escalate(
    *, ticket: Ticket, by: Membership, reason: str = "", now: dt.datetime | None = None
) -> tuple[Escalation, bool]:
    """Escalate ``ticket`` on its customer's behalf (``reason`` optional): notify the
    escalation distribution list and the organization's account executive, and record it.
    Returns (escalation, created); an already escalated ticket returns the first one. Raises
    :class:`CustomerEscalationNotAllowed` (with the state saying when it becomes allowed).

    Preconditions: ``by`` is a customer of the ticket's tenant who may see the ticket (the
    caller checked it with the ticket selector)."""
    if by.tenant_id != ticket.tenant_id or by.role != Membership.Role.CUSTOMER:
        raise PermissionDenied("Only the ticket's customers escalate it here.")
    now = now or timezone.now()
    # Serialise escalations of one ticket (the row lock), so the state read is still true
    # when the row is written.
    Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket.pk).first()
    state = customer_escalation_state(ticket=ticket, now=now)
    if state.escalation is not None:
        return state.escalation, False
    if not state.allowed:
        raise CustomerEscalationNotAllowed(state)
    policy = policy_for(ticket.tenant_id)
    recipients = recipients_for(
        ticket,
        (EscalationRole.DISTRIBUTION_LIST, EscalationRole.ACCOUNT_EXECUTIVE),
        policy,
        fallback=True,
    )
    staff = staff_by_email(ticket.tenant_id, [r.email for r in recipients])
    recipients = [
        r
        if r.membership_id is not None or r.email not in staff
        else type(r)(email=r.email, membership_id=staff[r.email].pk, time_zone=r.time_zone)
        for r in recipients
    ]
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                tenant_id=ticket.tenant_id,
                kind=Escalation.Kind.CUSTOMER,
                ticket=ticket,
                metric=Metric.FIRST_RESPONSE,
                fired_at=now,
                recipients=[r.email for r in recipients],
                raised_by=by,
                note=reason.strip()[:2000],
            )
    except IntegrityError:
        return Escalation.objects.get(ticket=ticket, kind=Escalation.Kind.CUSTOMER), False
    customer_escalation_notify(
        escalation=escalation, recipients=recipients, ticket=ticket, policy=policy, now=now
    )
    return escalation, True
