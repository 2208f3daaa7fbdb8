"""CCs: email addresses (not necessarily users) that follow a ticket's public conversation."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from helpdesk.models import Membership, User

from .. import outbox
from ..models import Ticket, TicketEvent
from .events import event_record, lock_ticket, touch

MAX_CC = 50


def cc_clean(emails: Iterable[str], *, requester_email: str = "") -> list[str]:
    """Lower-cased, de-duplicated, valid addresses; the requester is never their own CC."""
    out: list[str] = []
    for raw in emails:
        email = str(raw).strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"cc": f"'{raw}' is not an email address."}) from None
        if email != requester_email.lower() and email not in out:
            out.append(email)
    if len(out) > MAX_CC:
        raise ValidationError({"cc": f"At most {MAX_CC} CCs."})
    return out


@transaction.atomic
def ticket_add_cc(
    *, ticket: Ticket, emails: Iterable[str], by: Membership | User | None
) -> list[str]:
    """Add CCs (the requester, duplicates and addresses already there are skipped); one event
    per address added. Returns the addresses added.

    Preconditions: ``by`` may see the ticket (staff, or a customer it is visible to)."""
    lock_ticket(ticket, "cc")
    new = [
        e for e in cc_clean(emails, requester_email=ticket.requester_email) if e not in ticket.cc
    ]
    if not new:
        return []
    cc_clean([*ticket.cc, *new])  # the limit holds for the whole list
    ticket.cc = [*ticket.cc, *new]
    touch(ticket, "cc")
    for email in new:
        event_record(ticket=ticket, kind=TicketEvent.Kind.CC_ADDED, by=by, field="cc", after=email)
    outbox.publish("ticket.updated", tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
    return new


@transaction.atomic
def ticket_remove_cc(
    *, ticket: Ticket, emails: Iterable[str], by: Membership | User | None
) -> list[str]:
    """Remove CCs; returns the addresses removed (unknown ones are ignored).

    Preconditions: as :func:`ticket_add_cc`."""
    lock_ticket(ticket, "cc")
    gone = {str(e).strip().lower() for e in emails}
    removed = [e for e in ticket.cc if e in gone]
    if not removed:
        return []
    ticket.cc = [e for e in ticket.cc if e not in gone]
    touch(ticket, "cc")
    for email in removed:
        event_record(
            ticket=ticket, kind=TicketEvent.Kind.CC_REMOVED, by=by, field="cc", before=email
        )
    outbox.publish("ticket.updated", tenant_id=ticket.tenant_id, ticket_id=ticket.pk)
    return removed
