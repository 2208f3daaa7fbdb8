"""What the ticket services tell the rest of the desk, after commit.

A service calls :func:`publish` with an event name (``ticket.created``, ``ticket.updated``,
``message.created``, ``ticket.assigned``, ``ticket.emergency`` …) and ids; subscribers (webhooks,
notifications, emergency paging) register once in their ``AppConfig.ready`` with
:func:`subscribe` and receive ``(name, payload)`` after the transaction commits — never for a
rolled-back change. A subscriber enqueues a Celery task; it does not do slow work inline.
A failing subscriber is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Subscriber = Callable[[str, dict[str, Any]], None]
_SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _SUBSCRIBERS:
        _SUBSCRIBERS.remove(subscriber)


def _deliver(name: str, payload: dict[str, Any]) -> None:
    for subscriber in list(_SUBSCRIBERS):
        try:
            subscriber(name, payload)
        except Exception:
            logger.exception("ticket outbox subscriber %r failed on %s", subscriber, name)


def publish(name: str, *, tenant_id: int, ticket_id: int, **data: Any) -> None:
    """Deliver ``name`` to every subscriber once the current transaction commits."""
    payload = {"tenant_id": tenant_id, "ticket_id": ticket_id, **data}
    transaction.on_commit(lambda: _deliver(name, payload))
