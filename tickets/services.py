"""Ticket writes. Portal, API and every channel call these and nothing else."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.models import Membership, Organization, Tenant, User
from sla.clocks import sla_recompute, sla_ticket_opened
from sla.models import Severity

from .models import Ticket, TicketCounter


def ticket_number_next(*, tenant: Tenant) -> int:
    """The next reference number: an UPDATE holds the counter row's lock until commit, so
    concurrent creations never share a number. Must run inside a transaction."""
    TicketCounter.objects.get_or_create(tenant=tenant)
    TicketCounter.objects.filter(tenant=tenant).update(last_number=F("last_number") + 1)
    return TicketCounter.objects.values_list("last_number", flat=True).get(tenant=tenant)


@transaction.atomic
def ticket_create(
    *,
    tenant: Tenant,
    subject: str,
    requester_email: str,
    description: str = "",
    organization: Organization | None = None,
    requester: User | None = None,
    channel: str = Ticket.Channel.WEB,
    opened_at: dt.datetime | None = None,
    severity: Severity | None = None,
    cc: list[str] | None = None,
    sla_exempt: bool = False,
) -> Ticket:
    """Create a ticket and start its SLA clocks (``sla.clocks.sla_ticket_opened``: from
    ``opened_at``, which an import may set in the past; no severity means no clock, and the
    ticket says why). A requester who is a pending contact gets a held ticket: kept, out of the
    queue until the contact is verified (seed 003), its SLA starting on release."""
    if not subject.strip():
        raise ValidationError({"subject": "A subject is required."})
    if severity is not None and severity.tenant_id != tenant.pk:
        raise ValidationError({"severity": "Unknown severity."})

    contact = None
    if requester is not None:
        contact = Membership.objects.for_tenant(tenant).filter(user=requester).first()
    if organization is None and contact is not None:
        organization = contact.organization
    held = contact is not None and contact.contact_role == Membership.ContactRole.PENDING
    now = timezone.now()
    if opened_at is not None and opened_at > now:
        opened_at = now  # a sender's clock running ahead (a mail Date header) is not a plan
    ticket = Ticket.objects.create(
        tenant=tenant,
        number=ticket_number_next(tenant=tenant),
        subject=subject.strip(),
        description=description,
        organization=organization,
        requester=requester,
        requester_email=requester_email.lower(),
        channel=channel,
        held_for_verification=held,
        opened_at=opened_at or now,
        severity=severity,
        cc=[c.strip().lower() for c in cc or [] if c.strip()],
        sla_exempt=sla_exempt,
        created_at=now,
        updated_at=now,
    )
    sla_ticket_opened(ticket=ticket)
    return ticket


@transaction.atomic
def ticket_reclassify(*, ticket: Ticket, severity: Severity | None, by: Membership) -> Ticket:
    """Change the ticket's severity (agents may re-classify: the seeds reserve that right) and
    recompute its SLA clocks from their original start, keeping the time already consumed.

    Preconditions: ``by`` is a staff member of the ticket's tenant; ``severity`` is the
    tenant's (or None: no SLA)."""
    if by.tenant_id != ticket.tenant_id or not by.is_staff_member:
        raise ValidationError({"by": "Only the tenant's agents and admins re-classify."})
    if severity is not None and severity.tenant_id != ticket.tenant_id:
        raise ValidationError({"severity": "Unknown severity."})
    if severity == ticket.severity:
        return ticket
    ticket.severity = severity
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["severity", "updated_at"])
    sla_recompute(ticket=ticket)
    return ticket


@transaction.atomic
def ticket_set_sla_exempt(*, ticket: Ticket, exempt: bool, by: Membership) -> Ticket:
    """Mark a ticket as carrying no SLA of its own (seed 003: a duplicate filed without being
    asked) or undo it; its unstopped clocks go (or come back) accordingly.

    Preconditions: ``by`` is a staff member of the ticket's tenant."""
    if by.tenant_id != ticket.tenant_id or not by.is_staff_member:
        raise ValidationError({"by": "Only the tenant's agents and admins decide SLA exemption."})
    if ticket.sla_exempt == exempt:
        return ticket
    ticket.sla_exempt = exempt
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=["sla_exempt", "updated_at"])
    sla_recompute(ticket=ticket)
    return ticket


@transaction.atomic
def tickets_release_held(*, tenant: Tenant, contact: Membership) -> int:
    """Release a newly verified contact's held tickets into the queue and start their SLA
    clocks now (the wait for verification is not the provider's); returns how many."""
    held = Ticket.objects.for_tenant(tenant).filter(
        requester_id=contact.user_id, held_for_verification=True
    )
    ids = list(held.values_list("id", flat=True))
    now = timezone.now()
    released = held.update(
        held_for_verification=False,
        organization_id=contact.organization_id,
        updated_at=now,
    )
    for ticket in Ticket.objects.for_tenant(tenant).select_related("tenant").filter(pk__in=ids):
        sla_ticket_opened(ticket=ticket, at=now)
    return released
