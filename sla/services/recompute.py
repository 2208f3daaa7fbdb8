"""When configuration changes, the clocks it touches are recomputed: inline for a few tickets,
by a Celery task (enqueued on commit) for many."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import Q

from helpdesk.models import Organization, Tenant
from tickets.models import Ticket

from ..clocks import STOPPED_STATUSES, sla_recompute_tickets
from ..models import BusinessCalendar, SLAClock

INLINE_LIMIT = 50
TASK_BATCH = 500


def sla_recompute_schedule(*, tenant_id: int, ticket_ids: Iterable[int]) -> str:
    """Recompute the tenant's ``ticket_ids``: inline when there are at most ``INLINE_LIMIT``
    (the caller's transaction sees the result), otherwise in Celery tasks of ``TASK_BATCH``
    ids each, enqueued when the caller's transaction commits. Returns "inline" or "queued"."""
    from ..tasks import sla_recompute_tickets_task  # tasks import services, not back

    ids = sorted(set(ticket_ids))
    if len(ids) <= INLINE_LIMIT:
        sla_recompute_tickets(tenant_id=tenant_id, ticket_ids=ids)
        return "inline"
    for i in range(0, len(ids), TASK_BATCH):
        batch = ids[i : i + TASK_BATCH]
        transaction.on_commit(partial(sla_recompute_tickets_task.delay, tenant_id, batch))
    return "queued"


def _open_tickets(tenant_id: int) -> Iterable[int]:
    return (
        Ticket.objects.for_tenant(tenant_id)
        .exclude(status__in=STOPPED_STATUSES)
        .filter(severity__isnull=False)
        .values_list("id", flat=True)
    )


def calendar_changed(*, calendar: BusinessCalendar) -> str:
    """Recompute every unstopped clock computed on ``calendar`` or on a target whose condition
    reads it."""
    ids = (
        SLAClock.objects.for_tenant(calendar.tenant_id)
        .filter(met_at__isnull=True)
        .filter(
            Q(calendar=calendar)
            | Q(target__calendar=calendar)
            | Q(target__condition_calendar=calendar)
        )
        .values_list("ticket_id", flat=True)
        .distinct()
    )
    return sla_recompute_schedule(tenant_id=calendar.tenant_id, ticket_ids=ids)


def package_changed(*, tenant: Tenant) -> str:
    """A package, its coverage or its targets changed: recompute the tenant's open tickets."""
    return sla_recompute_schedule(tenant_id=tenant.pk, ticket_ids=_open_tickets(tenant.pk))


def policy_changed(*, tenant: Tenant) -> str:
    return sla_recompute_schedule(tenant_id=tenant.pk, ticket_ids=_open_tickets(tenant.pk))


def contract_changed(*, organization: Organization) -> str:
    """An organization's contracts changed: recompute its open tickets."""
    ids = _open_tickets(organization.tenant_id).filter(organization=organization)  # type: ignore[attr-defined]
    return sla_recompute_schedule(tenant_id=organization.tenant_id, ticket_ids=ids)
