"""The event log in words for the agent page: "Alex Agent · Status: New → Open"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from ..models import Ticket, TicketEvent

K = TicketEvent.Kind
# Events whose before → after is a plain field change worth showing.
CHANGES = {K.STATUS, K.ASSIGNEE, K.TEAM, K.SEVERITY, K.PRIORITY, K.FIELD, K.CUSTOM_FIELD}
_STATUS_LABELS = dict(Ticket.Status.choices)


@dataclass(frozen=True)
class EventLine:
    at: dt.datetime
    actor: str
    kind: str
    text: str


def shown(value: Any, field: str = "") -> str:
    """A snapshot (``tickets.services.events.snapshot``) as words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        for key in ("reference", "name", "email"):
            if value.get(key):
                return str(value[key])
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value) or "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field == "status":
        return str(_STATUS_LABELS.get(str(value), value))
    return str(value)


def _text(event: TicketEvent) -> str:
    label = str(event.get_kind_display())
    if event.kind in CHANGES:
        name = event.field.removeprefix("custom_fields.") if event.field else ""
        head = f"{label} ({name})" if event.kind in (K.FIELD, K.CUSTOM_FIELD) and name else label
        return f"{head}: {shown(event.before, event.field)} → {shown(event.after, event.field)}"
    if event.kind == K.CREATED and isinstance(event.after, dict):
        return _("Created via %(channel)s") % {"channel": event.after.get("channel", "web")}
    if event.kind in (K.CC_ADDED, K.CC_REMOVED):
        return f"{label}: {shown(event.after if event.kind == K.CC_ADDED else event.before)}"
    if event.kind in (K.MERGED, K.MERGE_RECEIVED, K.ATTACHMENT_ADDED):
        detail = event.after if isinstance(event.after, dict) else {}
        ref = detail.get("reference") or detail.get("filename") or ""
        return f"{label}: {ref}" if ref else label
    if event.kind == K.SLA_EXEMPT:
        return f"{label}: {shown(event.before)} → {shown(event.after)}"
    return label


def event_lines(events: Iterable[TicketEvent]) -> list[EventLine]:
    return [
        EventLine(
            at=e.created_at,
            actor=(e.actor.name or e.actor.email) if e.actor is not None else _("System"),
            kind=e.kind,
            text=_text(e),
        )
        for e in events
    ]
