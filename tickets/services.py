"""Ticket writes. Portal, API and every channel call these and nothing else."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.models import Membership, Organization, Tenant, User

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
) -> Ticket:
    """Create a ticket. A requester who is a pending contact gets a held ticket: kept, out of the
    queue until the contact is verified (seed 003)."""
    if not subject.strip():
        raise ValidationError({"subject": "A subject is required."})
    contact = None
    if requester is not None:
        contact = Membership.objects.for_tenant(tenant).filter(user=requester).first()
    if organization is None and contact is not None:
        organization = contact.organization
    held = contact is not None and contact.contact_role == Membership.ContactRole.PENDING
    now = timezone.now()
    return Ticket.objects.create(
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
        created_at=now,
        updated_at=now,
    )


def tickets_release_held(*, tenant: Tenant, contact: Membership) -> int:
    """Release a newly verified contact's held tickets into the queue; returns how many."""
    return (
        Ticket.objects.for_tenant(tenant)
        .filter(requester_id=contact.user_id, held_for_verification=True)
        .update(
            held_for_verification=False,
            organization_id=contact.organization_id,
            updated_at=timezone.now(),
        )
    )
