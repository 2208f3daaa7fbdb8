"""Writing the append-only event log (every ticket service goes through here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import models
from django.utils import timezone

from helpdesk.models import Membership, User
from helpdesk.tenancy import check_same_tenant

from ..models import Ticket, TicketEvent


def snapshot(value: Any) -> Any:
    """A JSON value for ``before``/``after``: rows as ``{"id", "name"}``, dates in ISO 8601."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Membership):
        user = value.user
        return {"id": value.pk, "email": user.email, "name": user.name or user.email}
    if isinstance(value, models.Model):
        name = getattr(value, "name", None) or getattr(value, "label", None) or str(value)
        return {"id": value.pk, "name": str(name)}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [snapshot(v) for v in value]
    return str(value)


def actor_of(by: Membership | User | None) -> User | None:
    if by is None:
        return None
    return by.user if isinstance(by, Membership) else by


def event_new(
    *,
    ticket: Ticket,
    kind: str,
    by: Membership | User | None,
    field: str = "",
    before: Any = None,
    after: Any = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    """The event ``event_record`` appends, unsaved: ``events_record`` inserts several at once."""
    return TicketEvent(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        actor=actor_of(by),
        kind=kind,
        field=field,
        before=snapshot(before),
        after=snapshot(after),
        created_at=at or timezone.now(),
    )


def event_record(
    *,
    ticket: Ticket,
    kind: str,
    by: Membership | User | None,
    field: str = "",
    before: Any = None,
    after: Any = None,
    at: dt.datetime | None = None,
) -> TicketEvent:
    """Append one event to ``ticket``'s log. ``before``/``after`` are snapshotted to JSON."""
    event = event_new(
        ticket=ticket, kind=kind, by=by, field=field, before=before, after=after, at=at
    )
    event.save(force_insert=True)
    return event


def events_record(events: Sequence[TicketEvent]) -> list[TicketEvent]:
    """Append events made by ``event_new`` in one INSERT, in order (their ids follow it)."""
    for event in events:
        check_same_tenant(event)  # what TicketEvent.save() checks; bulk_create does not call it
    return TicketEvent.objects.bulk_create(events)


def lock_ticket(ticket: Ticket, *fields: str) -> None:
    """Lock the ticket's row for the rest of the transaction and reload ``fields`` (plus
    ``updated_at``): a read-modify-write of the status or the CC list then works on the latest
    committed values, whoever else is writing. Must run inside a transaction."""
    Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk", flat=True).first()
    ticket.refresh_from_db(fields=[*dict.fromkeys(fields), "updated_at"])


def touch(ticket: Ticket, *fields: str) -> None:
    """Save ``fields`` and move ``updated_at`` strictly forward: the ETag is made of it, so two
    writes within one clock tick (or under a frozen test clock) must still differ."""
    now = timezone.now()
    previous = ticket.updated_at
    if previous is not None and now <= previous:
        now = previous + dt.timedelta(microseconds=1)
    ticket.updated_at = now
    ticket.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
