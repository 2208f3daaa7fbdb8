"""Reads of escalations, for the ticket resource and the escalation API."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet

from helpdesk.models import Membership, Tenant

from ..models import Escalation
from .notify import escalation_output


def escalations_queryset() -> QuerySet[Escalation]:
    """Escalations in the order a reader follows them: as they fired, lowest level first."""
    return Escalation.objects.order_by("fired_at", "level", "id")


def escalations_prefetch(to_attr: str | None = None) -> Prefetch:
    """``Prefetch("escalations", …)`` for a ticket queryset (one query for a whole page)."""
    return Prefetch("escalations", queryset=escalations_queryset(), to_attr=to_attr)


def escalations_for_tickets(ticket_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """``{ticket_id: [{"metric", "level", "fired_at", "recipients", …}, …]}`` for the ticket
    resource's ``escalations`` field (one query). Level 0 is the warning, 1… the escalation
    levels; a customer's own escalation has ``"kind": "customer"`` and ``"level": null``.
    Precondition: the ids were scoped to the caller's tenant and visibility."""
    ids = list(ticket_ids)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return {}
    for escalation in escalations_queryset().filter(ticket_id__in=ids):
        out[escalation.ticket_id].append(escalation_output(escalation))
    return {i: out.get(i, []) for i in ids}


def escalations_visible_to(*, tenant: Tenant, membership: Membership) -> QuerySet[Escalation]:
    """Staff see the tenant's escalations; customers none (their tickets show their own)."""
    qs = Escalation.objects.for_tenant(tenant).order_by("-fired_at", "-id")
    return qs if membership.is_staff_member else qs.none()
