"""The SLA report: pure reads, every figure aggregated in the database.

Definitions (the contract the tests and the page's footnotes hold us to)
------------------------------------------------------------------------
* **Period.** ``start`` and ``end`` are calendar days in the tenant's time zone, both included:
  the instants [``start`` 00:00, the day after ``end`` 00:00) local. A ticket belongs to the
  period when its ``opened_at`` falls in it; its SLA clocks go with it, whenever they stop.
  Period buckets (day, week from Monday, month) are truncated in the tenant's time zone.
* **Left out.** Tickets carrying no SLA of their own (``sla_exempt``: seed 003's duplicates filed
  without being asked) and tickets merged into another (``merged_into``, once tickets have it)
  count nowhere in this report.
* **Package and severity** of a clock are those of the target it was measured against (a clock
  whose target was deleted has neither); team, organization and channel are the ticket's.
* **Outcome** of a clock, as of now (the report's ``generated_at``): *achieved* — met on time
  (status met: stopped at or before its due instant); *missed* — status breached (not stopped
  by its due instant, or stopped late), or still running or paused with its due instant passed
  (the workers' sweep has not marked it yet); *in progress* — running or paused and not yet due.
  Achievement % = achieved / (achieved + missed); in-progress clocks are counted but left out of
  the percentage, and a row with nothing decided has no percentage (null, not 0).
* **First-response time** is wall-clock time from the first-response clock's start (the ticket's
  opening; its release, for a held ticket) to the first public agent reply (``met_at``), over
  answered first-response clocks; nights, weekends and pauses count. Median and p90 interpolate
  linearly between neighbouring values (PostgreSQL ``percentile_cont``).
* **Backlog** as of the end of the period (or now, if the period ends later): tickets opened before
  that instant and not solved or closed by then (known from ``solved_at``/``closed_at`` once
  tickets have them; until then, from the current status), not held for verification; by their
  current status and by age at that instant (<1 d, 1-3 d, 3-7 d, 7-30 d, ≥30 d).
* **Volume**: tickets opened in the period by channel, and by channel per period bucket.

Every query is scoped to the tenant before anything else, and the number of queries does not
depend on the number of tickets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from helpdesk.models import Tenant
from helpdesk.selectors import tenant_zone

from .sections import (
    Names,
    achievement,
    backlog,
    breaches,
    first_response,
    report_clocks,
    volume,
)
from .shapes import DEFAULT_GOAL_PERCENT, Granularity, ReportFilters, SLAReport

GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")
# More buckets than this and a finer granularity is coarsened: the output stays readable and
# bounded whatever period is asked for.
MAX_BUCKETS = 366
BREACHES_LIMIT = 50
BREACHES_MAX_LIMIT = 500
DAY = dt.timedelta(days=1)


# --- the period ---------------------------------------------------------------------------------


def period_bounds(tenant: Tenant, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in the tenant's zone, as aware instants."""
    zone = tenant_zone(tenant)
    starts_at = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
    ends_at = dt.datetime.combine(end + DAY, dt.time(0), tzinfo=zone)
    return starts_at, ends_at


def granularity_for(start: dt.date, end: dt.date, requested: str = "") -> Granularity:
    """The requested granularity, or (none requested) day up to 62 days, week up to a year and
    month beyond; either way coarsened while it would give more than MAX_BUCKETS buckets."""
    days = (end - start).days + 1
    if requested in GRANULARITIES:
        chosen: Granularity = requested
    else:
        chosen = "day" if days <= 62 else "week" if days <= 366 else "month"
    if chosen == "day" and days > MAX_BUCKETS:
        chosen = "week"
    if chosen == "week" and days / 7 > MAX_BUCKETS:
        chosen = "month"
    return chosen


@contextmanager
def analytic_queries() -> Iterator[None]:
    """On PostgreSQL, the report's queries run in one transaction with JIT compilation off: over
    a million clocks the planner's estimates switch JIT on, and it then spends 2-4 s compiling
    the achievement query alone (bench/reports.py; EXPLAIN's "JIT Timing") for no gain."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def sla_report(
    *,
    tenant: Tenant,
    start: dt.date,
    end: dt.date,
    filters: ReportFilters | None = None,
    granularity: str = "",
    goal_percent: int = DEFAULT_GOAL_PERCENT,
    breaches_limit: int = BREACHES_LIMIT,
    breaches_offset: int = 0,
    now: dt.datetime | None = None,
) -> SLAReport:
    """The SLA report of ``tenant`` for the days ``start``..``end`` (both included, in the
    tenant's time zone; see the module doc for every definition).

    Preconditions: ``start <= end``; the filters' ids were checked to be the tenant's (another
    tenant's id would only match nothing). The number of queries is fixed: 8 on PostgreSQL
    (JIT off, catalog names 2, achievement, breaches, first response, backlog, volume).
    """
    with analytic_queries():
        return _sla_report(
            tenant=tenant,
            start=start,
            end=end,
            filters=filters or ReportFilters(),
            granularity=granularity,
            goal_percent=goal_percent,
            breaches_limit=breaches_limit,
            breaches_offset=breaches_offset,
            now=now or timezone.now(),
        )


def _sla_report(
    *,
    tenant: Tenant,
    start: dt.date,
    end: dt.date,
    filters: ReportFilters,
    granularity: str,
    goal_percent: int,
    breaches_limit: int,
    breaches_offset: int,
    now: dt.datetime,
) -> SLAReport:
    zone = tenant_zone(tenant)
    starts_at, ends_at = period_bounds(tenant, start, end)
    chosen = granularity_for(start, end, granularity)
    names = Names.of(tenant)
    clocks = report_clocks(tenant=tenant, starts_at=starts_at, ends_at=ends_at, filters=filters)
    limit = max(1, min(breaches_limit, BREACHES_MAX_LIMIT))
    offset = max(0, breaches_offset)
    met = achievement(clocks, now=now, zone=zone, granularity=chosen, names=names)
    return SLAReport(
        time_zone=zone.key,
        start=start,
        end=end,
        starts_at=starts_at,
        ends_at=ends_at,
        granularity=chosen,
        granularity_requested=granularity,
        generated_at=now,
        filters=filters,
        goal_percent=goal_percent,
        achievement=met.rows,
        achievement_by_metric_package=met.by_metric_package,
        achievement_by_metric=met.by_metric,
        breaches=breaches(clocks, tenant=tenant, now=now, limit=limit, offset=offset, names=names),
        breaches_total=met.missed_total,
        breaches_limit=limit,
        breaches_offset=offset,
        first_response=first_response(clocks, names=names),
        backlog=backlog(tenant=tenant, as_of=min(ends_at, now), filters=filters),
        volume=volume(
            tenant=tenant,
            starts_at=starts_at,
            ends_at=ends_at,
            filters=filters,
            zone=zone,
            granularity=chosen,
        ),
    )
