"""Coverage: which package and which targets apply to a ticket, or why none do (the rules are
stated in :mod:`sla.clocks`). Reads only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists

from helpdesk import configcache
from helpdesk.selectors import tenant_today
from tickets.models import Ticket

from . import businesstime as bt
from .models import PackageSeverity, Severity, SLATarget, SupportPackage
from .selectors import calendar_evaluate, package_for_organization

NO_CONTRACT_NOTE = "No support contract: requests are handled first come, first served."
NO_SEVERITY_NOTE = "No severity chosen: no SLA clock runs."
EXEMPT_NOTE = "Exempt from SLA (a duplicate filed without being asked carries no SLA)."
HELD_NOTE = "Held until the requester is verified; the SLA starts when it is released."


@dataclass(frozen=True)
class Coverage:
    package: SupportPackage | None
    targets: dict[str, SLATarget]
    note: str


def _package_for(ticket: Ticket) -> tuple[SupportPackage | None, str]:
    choice = package_for_organization(
        tenant=ticket.tenant,
        organization=ticket.organization,
        on=tenant_today(ticket.tenant, ticket.opened_at),
    )
    if choice.package is not None:
        return choice.package, ""
    policy = choice.policy
    return None, (policy.no_contract_note if policy and policy.no_contract_note else "") or (
        NO_CONTRACT_NOTE
    )


def _condition_holds(target: SLATarget, opened_at: dt.datetime) -> bool:
    if not target.condition:
        return True
    assert target.condition_calendar is not None
    inside = calendar_evaluate(
        target.condition_calendar, lambda cal: bt.is_open(cal, opened_at), start=opened_at
    )
    return inside if target.condition == SLATarget.Condition.OPENED_WITHIN else not inside


def _targets(
    tenant_id: int, package: SupportPackage, severity: Severity
) -> tuple[bool, list[SLATarget]]:
    """Whether ``package`` covers ``severity``, and its targets for it in the order the first
    match wins (read-only: shared by requests, see helpdesk.configcache)."""
    covering = PackageSeverity.objects.for_tenant(tenant_id).filter(
        package=package, severity=severity
    )
    # The targets carry the (uncorrelated) coverage check, so a covered severity with targets
    # costs one query; without targets the check runs on its own.
    candidates = list(
        SLATarget.objects.for_tenant(tenant_id)
        .filter(package=package, severity=severity)
        .select_related("calendar", "condition_calendar")
        .annotate(severity_covered=Exists(covering))
        .order_by("metric", "position", "id")
    )
    covered = candidates[0].severity_covered if candidates else covering.exists()
    return covered, candidates


def sla_resolve(*, ticket: Ticket) -> Coverage:
    """Which package covers ``ticket`` and, per metric, the first matching target (module doc);
    or no package and the reason a customer reads. Reads only."""
    if ticket.sla_exempt:
        return Coverage(None, {}, EXEMPT_NOTE)
    if ticket.held_for_verification:
        return Coverage(None, {}, HELD_NOTE)
    severity = ticket.severity
    if severity is None:
        return Coverage(None, {}, NO_SEVERITY_NOTE)
    package, note = _package_for(ticket)
    if package is None:
        return Coverage(None, {}, note)
    covered, candidates = configcache.cached(
        ticket.tenant_id,
        ("targets", package.pk, severity.pk),
        lambda: _targets(ticket.tenant_id, package, severity),
    )
    if not covered:
        return Coverage(
            package, {}, f"{severity.name} is not covered by your {package.name} package."
        )
    chosen: dict[str, SLATarget] = {}
    for target in candidates:
        if target.metric not in chosen and _condition_holds(target, ticket.opened_at):
            chosen[target.metric] = target
    note = "" if chosen else f"The {package.name} package sets no SLA target for {severity.name}."
    return Coverage(package, chosen, note)
