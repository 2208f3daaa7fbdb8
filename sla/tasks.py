"""Celery tasks of the SLA engine. Tasks take ids, load, and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .clocks import sla_recompute_tickets


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def sla_recompute_tickets_task(tenant_id: int, ticket_ids: list[int]) -> int:
    """Recompute the clocks of the tenant's tickets (a calendar, package or contract changed).
    Recomputing is idempotent, so a retry or a duplicate delivery is harmless."""
    return sla_recompute_tickets(tenant_id=tenant_id, ticket_ids=ticket_ids)
