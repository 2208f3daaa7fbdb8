"""Celery tasks of the SLA engine. Tasks take ids, load, and call a service; every one of them
is safe to run twice (claims and unique keys, see :mod:`sla.escalation.alarms`)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .clocks import sla_recompute_tickets
from .escalation.alarms import alarms_plan, alarms_rearm, alarms_sweep, clock_alarm_fire
from .escalation.paging import pages_repage_due


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def sla_recompute_tickets_task(tenant_id: int, ticket_ids: list[int]) -> int:
    """Recompute the clocks of the tenant's tickets (a calendar, package or contract changed).
    Recomputing is idempotent, so a retry or a duplicate delivery is harmless."""
    return sla_recompute_tickets(tenant_id=tenant_id, ticket_ids=ticket_ids)


@shared_task(
    name="sla.fire_clock",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def fire_clock(clock_id: int, version: int, level: int | None = None) -> int:
    """The ETA task of a clock's alarm: fire what is due for ``version`` (nothing if the clock
    moved on since; ``level`` is informational — whatever is due fires, in order)."""
    # A clock locked elsewhere is being fired (or refreshed, which re-arms it): leave it.
    return len(clock_alarm_fire(clock_id=clock_id, version=version, wait=False))


# Periodic: no retries (the next beat tick does the same work).
@shared_task(name="sla.sweep_alarms", acks_late=True)
def sweep_alarms() -> int:
    """Every ~2 s (beat): fire whatever alarm came and no ETA task fired."""
    return alarms_sweep()


@shared_task(name="sla.plan_alarms", acks_late=True)
def plan_alarms(full: bool = False) -> int:
    """Every 30 s (beat): queue ETA tasks for alarms entering the 10-minute horizon; with
    ``full`` (a worker just started), for every alarm within it."""
    return alarms_plan(full=full)


@shared_task(
    name="sla.rearm_alarms",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def rearm_alarms(tenant_id: int) -> int:
    """The tenant's escalation levels changed: recompute its open clocks' alarms."""
    return alarms_rearm(tenant_id=tenant_id)


# Periodic: no retries (the next beat tick does the same work).
@shared_task(name="sla.repage", acks_late=True)
def repage() -> int:
    """Every 15 s (beat): page again whoever is on call for unacknowledged emergencies."""
    return pages_repage_due()
