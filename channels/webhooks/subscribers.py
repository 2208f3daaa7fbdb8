"""Adapters from the ticket services' after-commit events to webhooks (register with the ticket
outbox's ``subscribe`` in an ``AppConfig.ready``). Each event becomes one webhook event with a
stable id, so a repeated publication delivers once."""

from __future__ import annotations

from typing import Any

from .services import webhook_emit

TICKET_EVENTS = frozenset({"ticket.created", "ticket.updated", "message.created"})
# What the outbox tells its other subscribers (paging, mail), not integrators.
INTERNAL = frozenset({"tenant_id", "page_on_call", "channel", "held"})


def ticket_event_to_webhooks(name: str, payload: dict[str, Any]) -> None:
    """``(name, {"tenant_id", "ticket_id", …})`` → ``webhook_emit``. Other events are ignored.
    ``ticket.updated`` carries no id of its own, so each publication is its own event."""
    if name not in TICKET_EVENTS:
        return
    data = {k: v for k, v in payload.items() if k not in INTERNAL}
    event_id = None
    if name == "ticket.created":
        event_id = f"ticket-{payload['ticket_id']}-created"
    elif name == "message.created" and payload.get("message_id") is not None:
        event_id = f"message-{payload['message_id']}-created"
    webhook_emit(tenant=int(payload["tenant_id"]), event=name, payload=data, event_id=event_id)
