"""The SLA report's sections, each one aggregation (or two) in the database over the report's
querysets; the definitions are in :mod:`reports.selectors`. Rows come back grouped on narrow ids
and are named afterwards from the tenant's catalog (:class:`Names`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Trunc

from helpdesk.models import Tenant
from sla.models import Metric, SLAClock, SLATarget
from tickets.models import Team, Ticket

from .db import (
    WallSeconds,
    percentiles_per_group_and_total,
    rollup,
    uses_percentile_cont,
    window_percentiles,
)
from .shapes import (
    AchievementRow,
    Backlog,
    BacklogStatus,
    Breach,
    Bucket,
    FirstResponse,
    Granularity,
    Percentiles,
    Ref,
    ReportFilters,
    Volume,
    VolumeRow,
    breach_reason,
)

RUNNING, PAUSED = SLAClock.Status.RUNNING, SLAClock.Status.PAUSED
MET, BREACHED = SLAClock.Status.MET, SLAClock.Status.BREACHED
OPEN_STATUSES = (
    Ticket.Status.NEW,
    Ticket.Status.OPEN,
    Ticket.Status.PENDING,
    Ticket.Status.ON_HOLD,
)
DONE_STATUSES = (Ticket.Status.SOLVED, Ticket.Status.CLOSED)
DAY = dt.timedelta(days=1)
# Age buckets of the backlog: (key, label, lower bound inclusive, upper bound exclusive).
AGE_BUCKETS: tuple[tuple[str, str, dt.timedelta, dt.timedelta | None], ...] = (
    ("lt_1d", "< 1 day", dt.timedelta(0), DAY),
    ("d1_3", "1-3 days", DAY, 3 * DAY),
    ("d3_7", "3-7 days", 3 * DAY, 7 * DAY),
    ("d7_30", "7-30 days", 7 * DAY, 30 * DAY),
    ("gte_30d", "30 days or more", 30 * DAY, None),
)
MINUTE, HOUR = 60, 3600
# First-response histogram: (label, lower seconds inclusive, upper seconds exclusive).
FRT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("< 15 min", 0, 15 * MINUTE),
    ("15-60 min", 15 * MINUTE, HOUR),
    ("1-4 h", HOUR, 4 * HOUR),
    ("4-8 h", 4 * HOUR, 8 * HOUR),
    ("8-24 h", 8 * HOUR, 24 * HOUR),
    ("1-3 days", 24 * HOUR, 72 * HOUR),
    ("3 days or more", 72 * HOUR, None),
)


# --- the base querysets ---------------------------------------------------------------------------


def _ticket_has(name: str) -> bool:
    try:
        Ticket._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def reportable_tickets(*, tenant: Tenant) -> QuerySet[Ticket]:
    """The tenant's tickets that SLA reports count: not SLA-exempt (seed 003's unrequested
    duplicates) and not merged into another ticket (when tickets can be merged)."""
    tickets = Ticket.objects.for_tenant(tenant).filter(sla_exempt=False)
    if _ticket_has("merged_into"):
        tickets = tickets.filter(merged_into__isnull=True)
    return tickets


def _ticket_filters(tickets: QuerySet[Ticket], filters: ReportFilters) -> QuerySet[Ticket]:
    if filters.severity_id is not None:
        tickets = tickets.filter(severity_id=filters.severity_id)
    if filters.team_id is not None:
        tickets = tickets.filter(team_id=filters.team_id)
    if filters.organization_id is not None:
        tickets = tickets.filter(organization_id=filters.organization_id)
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    if filters.package_id is not None:
        # A ticket has no package of its own: it is under a package when one of its clocks is
        # measured against that package's target.
        tickets = tickets.filter(
            Exists(
                SLAClock.objects.filter(
                    ticket_id=OuterRef("pk"), target__package_id=filters.package_id
                )
            )
        )
    return tickets


def report_clocks(
    *, tenant: Tenant, starts_at: dt.datetime, ends_at: dt.datetime, filters: ReportFilters
) -> QuerySet[SLAClock]:
    """The clocks of the reportable tickets opened in [starts_at, ends_at), filtered."""
    clocks = SLAClock.objects.for_tenant(tenant).filter(
        ticket__tenant=tenant,
        ticket__opened_at__gte=starts_at,
        ticket__opened_at__lt=ends_at,
        ticket__sla_exempt=False,
    )
    if _ticket_has("merged_into"):
        clocks = clocks.filter(ticket__merged_into__isnull=True)
    if filters.package_id is not None:
        clocks = clocks.filter(target__package_id=filters.package_id)
    if filters.severity_id is not None:
        clocks = clocks.filter(target__severity_id=filters.severity_id)
    if filters.team_id is not None:
        clocks = clocks.filter(ticket__team_id=filters.team_id)
    if filters.organization_id is not None:
        clocks = clocks.filter(ticket__organization_id=filters.organization_id)
    if filters.channel:
        clocks = clocks.filter(ticket__channel=filters.channel)
    return clocks


def _outcomes(now: dt.datetime) -> dict[str, Q]:
    overdue = Q(status__in=(RUNNING, PAUSED), due_at__lte=now)
    return {
        "achieved": Q(status=MET),
        "missed": Q(status=BREACHED) | overdue,
        "in_progress": Q(status__in=(RUNNING, PAUSED)) & ~overdue,
    }


def _rows(values: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The rows of a ``.values()`` queryset, typed as the plain dicts they are (the stubs infer
    a TypedDict that knows nothing of annotations passed as ``**kwargs``)."""
    yield from values


NO_PACKAGE, NO_SEVERITY, NO_TEAM = "No package", "No severity", "No team"


@dataclass(frozen=True)
class Names:
    """What the grouped queries' ids are called: the tenant's packages, severities and teams
    (its catalog, a few rows; grouping on narrow ids and naming afterwards keeps the big
    aggregations' sort and hash keys small)."""

    packages: dict[int, str]
    severities: dict[int, tuple[str, int]]
    teams: dict[int, str]

    @classmethod
    def of(cls, tenant: Tenant) -> Names:
        packages: dict[int, str] = {}
        severities: dict[int, tuple[str, int]] = {}
        targets = SLATarget.objects.for_tenant(tenant).values_list(
            "package_id", "package__name", "severity_id", "severity__name", "severity__rank"
        )
        for package_id, package_name, severity_id, severity_name, rank in targets:
            packages[package_id] = package_name
            severities[severity_id] = (severity_name, rank)
        teams = dict(Team.objects.for_tenant(tenant).values_list("id", "name"))
        return cls(packages, severities, teams)

    def package(self, pk: int | None) -> Ref:
        return Ref(pk, self.packages.get(pk, NO_PACKAGE) if pk is not None else NO_PACKAGE)

    def severity(self, pk: int | None) -> Ref:
        if pk is None or pk not in self.severities:
            return Ref(pk, NO_SEVERITY)
        return Ref(pk, self.severities[pk][0])

    def severity_rank(self, pk: int | None) -> int:
        if pk is None or pk not in self.severities:
            return 10**6  # unknown severities sort last
        return self.severities[pk][1]

    def team(self, pk: int | None) -> Ref:
        return Ref(pk, self.teams.get(pk, NO_TEAM) if pk is not None else NO_TEAM)


_GROUP_KEYS = {
    "package_id": F("target__package_id"),
    "severity_id": F("target__severity_id"),
    "team_id": F("ticket__team_id"),
}


# --- the sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Achievement:
    rows: list[AchievementRow]
    by_metric_package: list[AchievementRow]
    by_metric: list[AchievementRow]
    missed_total: int


def achievement(
    clocks: QuerySet[SLAClock],
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    granularity: Granularity,
    names: Names,
) -> Achievement:
    """Achieved / missed / in-progress clocks per period x metric x package x severity x team,
    with their totals per metric x package, per metric and in all: one grouped query whose
    roll-ups are window sums over the grouped counts (computed in the database, in the same
    scan)."""
    outcomes = _outcomes(now)
    counts: dict[str, Any] = {k: Count("pk", filter=q) for k, q in outcomes.items()}
    for key, q in outcomes.items():
        counts[f"mp_{key}"] = rollup(Count("pk", filter=q), "metric", "package_id")
        counts[f"m_{key}"] = rollup(Count("pk", filter=q), "metric")
    counts["all_missed"] = rollup(Count("pk", filter=outcomes["missed"]))
    period = Trunc("ticket__opened_at", granularity, output_field=DateTimeField(), tzinfo=zone)
    rows = list(_rows(clocks.values("metric", period=period, **_GROUP_KEYS).annotate(**counts)))

    def line(row: dict[str, Any], prefix: str = "", **parts: Any) -> AchievementRow:
        return AchievementRow(
            metric=row["metric"],
            achieved=row[f"{prefix}achieved"],
            missed=row[f"{prefix}missed"],
            in_progress=row[f"{prefix}in_progress"],
            **parts,
        )

    fine = [
        line(
            row,
            period=row["period"].astimezone(zone).date(),
            package=names.package(row["package_id"]),
            severity=names.severity(row["severity_id"]),
            team=names.team(row["team_id"]),
        )
        for row in rows
    ]
    fine.sort(
        key=lambda r: (
            r.period,
            r.metric,
            r.package.name if r.package else "",
            names.severity_rank(r.severity.id if r.severity else None),
            r.team.name if r.team else "",
        )
    )
    # The roll-up columns repeat on every row of their group: one row per group is kept.
    per_package = {
        (row["metric"], row["package_id"]): line(
            row, "mp_", package=names.package(row["package_id"])
        )
        for row in rows
    }
    per_metric = {row["metric"]: line(row, "m_") for row in rows}
    return Achievement(
        rows=fine,
        by_metric_package=sorted(
            per_package.values(), key=lambda r: (r.metric, r.package.name if r.package else "")
        ),
        by_metric=[per_metric[m] for m in sorted(per_metric)],
        missed_total=rows[0]["all_missed"] if rows else 0,
    )


def breaches(
    clocks: QuerySet[SLAClock],
    *,
    tenant: Tenant,
    now: dt.datetime,
    limit: int,
    offset: int,
    names: Names,
) -> list[Breach]:
    """One page of the missed clocks, latest first (by how late: the stop instant, or now while
    unstopped, minus the due instant). Their number is the achievement's ``missed_total``."""
    missed = clocks.filter(_outcomes(now)["missed"], due_at__isnull=False)
    late = ExpressionWrapper(
        Coalesce(F("met_at"), Value(now, output_field=DateTimeField())) - F("due_at"),
        output_field=DurationField(),
    )
    rows = (
        missed.annotate(late=late)
        .order_by("-late", "-id")
        .values(
            "id",
            "ticket_id",
            "metric",
            "status",
            "started_at",
            "due_at",
            "breached_at",
            "met_at",
            "late",
            "target_minutes",
            "target_business_days",
            number=F("ticket__number"),
            subject=F("ticket__subject"),
            calendar_name=F("calendar__name"),
            **_GROUP_KEYS,
        )[offset : offset + limit]
    )
    return [
        Breach(
            clock_id=row["id"],
            ticket_id=row["ticket_id"],
            reference=f"{tenant.ticket_prefix}-{row['number']}",
            subject=row["subject"],
            metric=row["metric"],
            status=row["status"],
            started_at=row["started_at"],
            due_at=row["due_at"],
            breached_at=row["breached_at"] or row["due_at"],
            met_at=row["met_at"],
            late_seconds=max(0, round(row["late"].total_seconds())),
            severity=names.severity(row["severity_id"]),
            package=names.package(row["package_id"]),
            team=names.team(row["team_id"]),
            reason=breach_reason(
                metric=row["metric"],
                target_minutes=row["target_minutes"],
                target_business_days=row["target_business_days"],
                calendar_name=row["calendar_name"],
                stopped=row["met_at"] is not None,
            ),
        )
        for row in _rows(rows)
    ]


def first_response(clocks: QuerySet[SLAClock], *, names: Names) -> FirstResponse:
    """Wall-clock time to the first public agent reply: count, median, p90 and a histogram,
    overall and per package x severity."""
    answered = clocks.filter(metric=Metric.FIRST_RESPONSE, met_at__isnull=False)
    seconds = WallSeconds("met_at", "started_at")
    groups = {key: _GROUP_KEYS[key] for key in ("package_id", "severity_id")}
    group_keys = list(groups)
    overall: dict[str, Any]
    if uses_percentile_cont():
        # One statement, one read of the clocks for the groups and the total (percentile_cont
        # cannot run in parallel, so the second scan a separate query needs is the cost).
        overall, grouped = percentiles_per_group_and_total(
            answered,
            value=seconds,
            groups=groups,
            fractions=(0.5, 0.9),
            buckets=[(low, high) for _, low, high in FRT_BUCKETS],
        )
        for row in [overall, *grouped]:
            row["median"], row["p90"] = row.pop("q") or (None, None)
    else:
        histogram = {
            f"b{i}": Count(
                "pk",
                filter=Q(met_at__gte=F("started_at") + dt.timedelta(seconds=low))
                & (
                    Q()
                    if high is None
                    else Q(met_at__lt=F("started_at") + dt.timedelta(seconds=high))
                ),
            )
            for i, (_, low, high) in enumerate(FRT_BUCKETS)
        }
        overall = answered.aggregate(n=Count("pk"), **histogram)
        grouped = list(_rows(answered.values(**groups).annotate(n=Count("pk"))))
        found = window_percentiles(answered, seconds, [], (0.5, 0.9)).get((), {})
        overall.update(median=found.get(0.5), p90=found.get(0.9))
        per_group = window_percentiles(answered.annotate(**groups), seconds, group_keys, (0.5, 0.9))
        for row in grouped:
            key: tuple[Hashable, ...] = tuple(row[k] for k in group_keys)
            row["median"] = per_group.get(key, {}).get(0.5)
            row["p90"] = per_group.get(key, {}).get(0.9)
    by_group = [
        Percentiles(
            row["n"],
            row["median"],
            row["p90"],
            package=names.package(row["package_id"]),
            severity=names.severity(row["severity_id"]),
        )
        for row in grouped
    ]
    by_group.sort(
        key=lambda p: (
            p.package.name if p.package else "",
            names.severity_rank(p.severity.id if p.severity else None),
        )
    )
    return FirstResponse(
        overall=Percentiles(overall["n"], overall["median"], overall["p90"]),
        histogram=[
            Bucket(f"b{i}", label, overall[f"b{i}"]) for i, (label, _, _) in enumerate(FRT_BUCKETS)
        ],
        by_package_severity=by_group,
    )


def backlog(*, tenant: Tenant, as_of: dt.datetime, filters: ReportFilters) -> Backlog:
    """Tickets in the queue at ``as_of``, by current status and by age at ``as_of``; the
    all-status totals are window sums over the per-status counts (one query)."""
    tickets = _ticket_filters(reportable_tickets(tenant=tenant), filters).filter(
        opened_at__lt=as_of, held_for_verification=False
    )
    in_queue = Q(status__in=OPEN_STATUSES)
    done_fields = [name for name in ("solved_at", "closed_at") if _ticket_has(name)]
    if done_fields:
        # Solved or closed since as_of: it was still in the queue then.
        done_at = Coalesce(*done_fields) if len(done_fields) > 1 else F(done_fields[0])
        tickets = tickets.annotate(_done_at=done_at)
        in_queue |= Q(status__in=DONE_STATUSES, _done_at__gt=as_of)
    tickets = tickets.filter(in_queue)
    ages: dict[str, Any] = {}
    for key, _, low, high in AGE_BUCKETS:
        q = Q(opened_at__lte=as_of - low)
        if high is not None:
            q &= Q(opened_at__gt=as_of - high)
        ages[key] = Count("pk", filter=q)
        ages[f"all_{key}"] = rollup(Count("pk", filter=q))
    rows = list(
        _rows(tickets.values("status").annotate(n=Count("pk"), all_n=rollup(Count("pk")), **ages))
    )
    order: list[str] = [*OPEN_STATUSES, *DONE_STATUSES]
    rows.sort(key=lambda row: order.index(row["status"]) if row["status"] in order else 99)
    first = rows[0] if rows else {}
    return Backlog(
        as_of=as_of,
        total=first.get("all_n", 0),
        by_age=[Bucket(key, label, first.get(f"all_{key}", 0)) for key, label, _, _ in AGE_BUCKETS],
        by_status=[
            BacklogStatus(
                status=row["status"],
                label=str(Ticket.Status(row["status"]).label),
                count=row["n"],
                ages=[Bucket(k, label, row[k]) for k, label, _, _ in AGE_BUCKETS],
            )
            for row in rows
        ],
    )


def _channel_label(channel: str) -> str:
    try:
        return str(Ticket.Channel(channel).label)
    except ValueError:
        return channel


def volume(
    *,
    tenant: Tenant,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    filters: ReportFilters,
    zone: ZoneInfo,
    granularity: Granularity,
) -> Volume:
    """Tickets opened in the period per bucket and channel, with the per-channel and overall
    totals as window sums over those counts (one query)."""
    tickets = _ticket_filters(reportable_tickets(tenant=tenant), filters).filter(
        opened_at__gte=starts_at, opened_at__lt=ends_at
    )
    period = Trunc("opened_at", granularity, output_field=DateTimeField(), tzinfo=zone)
    rows = list(
        _rows(
            tickets.values("channel", period=period)
            .annotate(
                n=Count("pk"), channel_n=rollup(Count("pk"), "channel"), all_n=rollup(Count("pk"))
            )
            .order_by("period", "channel")
        )
    )
    per_channel = {row["channel"]: row["channel_n"] for row in rows}
    return Volume(
        total=rows[0]["all_n"] if rows else 0,
        by_channel=[
            Bucket(channel, _channel_label(channel), n)
            for channel, n in sorted(per_channel.items(), key=lambda item: (-item[1], item[0]))
        ],
        by_period=[
            VolumeRow(
                row["period"].astimezone(zone).date(),
                row["channel"],
                _channel_label(row["channel"]),
                row["n"],
            )
            for row in rows
        ],
    )
