"""Celery tasks of outbound webhooks. They take ids and call a service; the claim makes them
idempotent, and the backoff lives in the delivery row (so a lost task is only late)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import webhook_deliver, webhooks_sweep


@shared_task(
    name="webhooks.deliver",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver(delivery_id: int) -> str:
    return webhook_deliver(delivery_id=delivery_id)


@shared_task(name="webhooks.sweep", acks_late=True)
def sweep() -> int:
    return webhooks_sweep()
