"""Adapter from the ticket services' after-commit ``ticket.created`` event to emergency paging
(register with the ticket outbox's ``subscribe`` in an ``AppConfig.ready``)."""

from __future__ import annotations

from typing import Any

from tickets.models import Ticket

from .paging import emergency_ticket_opened


def ticket_event_to_paging(name: str, payload: dict[str, Any]) -> None:
    """``ticket.created`` with ``page_on_call`` true pages every on-call agent (once per
    ticket, whoever calls twice)."""
    if name != "ticket.created" or not payload.get("page_on_call"):
        return
    ticket = (
        Ticket.objects.for_tenant(int(payload["tenant_id"]))
        .select_related("tenant")
        .filter(pk=payload["ticket_id"])
        .first()
    )
    if ticket is not None:
        emergency_ticket_opened(ticket=ticket)
