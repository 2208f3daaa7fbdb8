"""Celery tasks of notices. They take ids and call a service; the claim makes them idempotent."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import notifications_deliver, notifications_sweep


@shared_task(
    name="notifications.deliver_email",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_email(delivery_ids: list[int]) -> dict[str, int]:
    """Send a batch of email notices (the ``email`` queue)."""
    return notifications_deliver(delivery_ids=delivery_ids)


@shared_task(
    name="notifications.deliver",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_notice(delivery_ids: list[int]) -> dict[str, int]:
    """Send a batch of pager (and other non-email) notices."""
    return notifications_deliver(delivery_ids=delivery_ids)


@shared_task(name="notifications.sweep", acks_late=True)
def sweep() -> int:
    return notifications_sweep()
