"""Reads of the SLA engine. Every selector scopes to the tenant before it fetches; a missing id
and another tenant's id answer the same 404."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from helpdesk import configcache
from helpdesk.models import Membership, Organization, Tenant

from . import businesstime as bt
from .models import (
    BusinessCalendar,
    Contract,
    Holiday,
    OpeningInterval,
    Severity,
    SLAPolicy,
    SLATarget,
    SupportPackage,
)

T = TypeVar("T")

# --- calendars ------------------------------------------------------------------------------


def calendars_for_tenant(*, tenant: Tenant) -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.for_tenant(tenant).prefetch_related(
        Prefetch("hours", queryset=OpeningInterval.objects.order_by("weekday", "start_minute")),
        Prefetch("holidays", queryset=Holiday.objects.order_by("date", "id")),
    )


def calendar_get(*, tenant: Tenant, calendar_id: int) -> BusinessCalendar:
    """The tenant's calendar with hours and holidays; 404 for a missing or foreign id."""
    calendar = calendars_for_tenant(tenant=tenant).filter(pk=calendar_id).first()
    if calendar is None:
        raise Http404("No such calendar")
    return calendar


# The pure calendars, per (calendar id, version, first year, last year). Versions change on every
# edit, so an entry is never stale; the bound only limits memory.
_COMPUTED: dict[tuple[int, int, dt.datetime, int, int], bt.Calendar] = {}
_COMPUTED_LOCK = threading.Lock()
_COMPUTED_MAX = 512


def _prefetched(calendar: BusinessCalendar, name: str) -> list | None:
    cache = getattr(calendar, "_prefetched_objects_cache", {})
    return list(cache[name]) if name in cache else None


def calendar_compute(calendar: BusinessCalendar, *, years: range) -> bt.Calendar:
    """The pure :class:`~sla.businesstime.Calendar` of ``calendar``, holidays expanded for
    ``years`` (yearly rules repeat; one-off dates outside ``years`` are left out, which is
    harmless as long as ``years`` covers every instant the caller asks about).

    Cached per calendar id, ``version`` (and ``updated_at``, so an id reused after a rollback
    cannot hit a stale entry) and year window: building it costs two queries (none if hours and
    holidays were prefetched) and is not repeated while the calendar is unchanged.
    """
    key = (calendar.pk, calendar.version, calendar.updated_at, years.start, years.stop)
    computed = _COMPUTED.get(key)
    if computed is not None:
        return computed
    hours = _prefetched(calendar, "hours")
    if hours is None:
        hours = list(OpeningInterval.objects.filter(calendar_id=calendar.pk))
    holidays = _prefetched(calendar, "holidays")
    if holidays is None:
        holidays = list(Holiday.objects.filter(calendar_id=calendar.pk))
    named = bt.expand_holidays_named([h.as_rule() for h in holidays], years)
    computed = bt.Calendar.build(
        calendar.timezone,
        [(h.weekday, _clock_time(h.start_minute), _clock_time(h.end_minute)) for h in hours],
        named.keys(),
        {d: n for d, n in named.items() if n},
    )
    with _COMPUTED_LOCK:
        if len(_COMPUTED) >= _COMPUTED_MAX:
            _COMPUTED.clear()
        _COMPUTED[key] = computed
    return computed


def _clock_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def calendar_years(*instants: dt.datetime) -> range:
    """The holiday years to expand around ``instants``: a year before the first to three
    after the last (local dates near New Year fall either side of the UTC year)."""
    years = [i.year for i in instants]
    return range(min(years) - 1, max(years) + 4)


def calendar_evaluate(
    calendar: BusinessCalendar,
    compute: Callable[[bt.Calendar], T],
    *,
    start: dt.datetime,
    end: dt.datetime | None = None,
    reach: Callable[[T], dt.datetime | None] | None = None,
) -> T:
    """Run ``compute`` on the pure calendar with holidays covering [start, end] and, when
    ``reach`` tells the latest instant the result depends on (a deadline), covering that too:
    the window widens until it does, so far-away deadlines still skip every holiday."""
    last = end or start
    while True:
        years = calendar_years(start, last)
        result = compute(calendar_compute(calendar, years=years))
        furthest = reach(result) if reach is not None else None
        if furthest is None or furthest.year < years.stop - 1:
            return result
        last = furthest


def calendar_zone(calendar: BusinessCalendar) -> ZoneInfo:
    return ZoneInfo(calendar.timezone)


# --- catalog --------------------------------------------------------------------------------


def severities_for_tenant(*, tenant: Tenant) -> QuerySet[Severity]:
    return Severity.objects.for_tenant(tenant)


def severity_get(*, tenant: Tenant, severity_id: int) -> Severity:
    severity = severities_for_tenant(tenant=tenant).filter(pk=severity_id).first()
    if severity is None:
        raise Http404("No such severity")
    return severity


def packages_for_tenant(*, tenant: Tenant) -> QuerySet[SupportPackage]:
    return SupportPackage.objects.for_tenant(tenant).prefetch_related(
        "severities",
        Prefetch(
            "targets",
            queryset=SLATarget.objects.order_by("severity_id", "metric", "position", "id"),
        ),
    )


def package_get(*, tenant: Tenant, package_id: int) -> SupportPackage:
    package = packages_for_tenant(tenant=tenant).filter(pk=package_id).first()
    if package is None:
        raise Http404("No such package")
    return package


def contracts_visible_to(*, tenant: Tenant, membership: Membership) -> QuerySet[Contract]:
    """Staff see every contract of the tenant; a contact only their organization's."""
    qs = Contract.objects.for_tenant(tenant)
    if membership.is_staff_member:
        return qs
    if membership.organization_id is None or not membership.is_verified_contact:
        return qs.none()
    return qs.filter(organization_id=membership.organization_id)


def contract_active_for(*, organization: Organization, on: dt.date) -> Contract | None:
    """The organization's contract covering date ``on`` (services keep them from overlapping)."""
    return (
        Contract.objects.for_tenant(organization.tenant_id)
        .select_related("package")
        .filter(organization=organization, starts_on__lte=on)
        .exclude(ends_on__lt=on)
        .order_by("-starts_on")
        .first()
    )


def sla_policy_for(*, tenant: Tenant) -> SLAPolicy | None:
    return SLAPolicy.objects.for_tenant(tenant).select_related("default_package").first()


@dataclass(frozen=True)
class PackageChoice:
    """The package covering an organization, and the tenant's policy when it had to be read
    (no contract applied; None otherwise)."""

    package: SupportPackage | None
    policy: SLAPolicy | None = None


def package_for_organization(
    *, tenant: Tenant, organization: Organization | None, on: dt.date
) -> PackageChoice:
    """The one coverage rule (tickets, chat and phone entitlement alike): the organization's
    contract active on ``on``, else the tenant's default package when its no-contract rule says
    so, else none. The policy is only read when no contract applies.

    Read-only: the choice may be shared by requests (helpdesk.configcache)."""
    organization_id = organization.pk if organization is not None else None
    return configcache.cached(
        tenant.pk,
        ("package_for", organization_id, on),
        lambda: _package_for_organization(tenant=tenant, organization=organization, on=on),
    )


def _package_for_organization(
    *, tenant: Tenant, organization: Organization | None, on: dt.date
) -> PackageChoice:
    if organization is not None:
        contract = contract_active_for(organization=organization, on=on)
        if contract is not None:
            return PackageChoice(contract.package)
    policy = sla_policy_for(tenant=tenant)
    if policy is not None and policy.no_contract_rule == SLAPolicy.NoContractRule.DEFAULT_PACKAGE:
        return PackageChoice(policy.default_package, policy)
    return PackageChoice(None, policy)
