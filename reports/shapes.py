"""What the SLA report is made of: plain, immutable values (the selectors fill them, the page,
the API and the CSV read them), and the words the report uses for durations and breaches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sla.models import Metric, SLATarget

Granularity = Literal["day", "week", "month"]
DEFAULT_GOAL_PERCENT = 95


def duration_words(seconds: float) -> str:
    """Wall-clock seconds in words a manager reads: "45 min", "2 h 30 min", "3 d 4 h"."""
    total_minutes = round(seconds) // 60
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{round(seconds)} s"


_REASONS = {
    Metric.FIRST_RESPONSE: ("no first reply within {}", "first reply later than {}"),
    Metric.NEXT_RESPONSE: ("no next reply within {}", "next reply later than {}"),
    Metric.RESOLUTION: ("not solved within {}", "solved later than {}"),
}


def breach_reason(
    *,
    metric: str,
    target_minutes: int | None,
    target_business_days: int | None,
    calendar_name: str | None,
    stopped: bool,
) -> str:
    """E.g. "no first reply within 24 business hours (Standard hours)"."""
    target = SLATarget(target_minutes=target_minutes, target_business_days=target_business_days)
    words = target.duration_label
    if calendar_name:
        words += f" ({calendar_name})"
    unstopped, late = _REASONS.get(Metric(metric), ("not met within {}", "met later than {}"))
    return (late if stopped else unstopped).format(words)


@dataclass(frozen=True)
class ReportFilters:
    """Narrow the report; ids are the tenant's (another tenant's id simply matches nothing)."""

    package_id: int | None = None
    severity_id: int | None = None
    team_id: int | None = None
    organization_id: int | None = None
    channel: str = ""


@dataclass(frozen=True)
class Ref:
    """A package, severity or team as the report names it (``id`` None: none / removed)."""

    id: int | None
    name: str


@dataclass(frozen=True)
class AchievementRow:
    metric: str
    achieved: int
    missed: int
    in_progress: int
    period: dt.date | None = None
    package: Ref | None = None
    severity: Ref | None = None
    team: Ref | None = None

    @property
    def metric_label(self) -> str:
        return str(Metric(self.metric).label)

    @property
    def decided(self) -> int:
        return self.achieved + self.missed

    @property
    def total(self) -> int:
        return self.achieved + self.missed + self.in_progress

    @property
    def achievement_percent(self) -> float | None:
        return round(100 * self.achieved / self.decided, 1) if self.decided else None


@dataclass(frozen=True)
class Breach:
    clock_id: int
    ticket_id: int
    reference: str
    subject: str
    metric: str
    status: str
    started_at: dt.datetime
    due_at: dt.datetime
    breached_at: dt.datetime | None
    met_at: dt.datetime | None
    late_seconds: int
    severity: Ref
    package: Ref
    team: Ref
    reason: str

    @property
    def still_open(self) -> bool:
        return self.met_at is None

    @property
    def late_label(self) -> str:
        return duration_words(self.late_seconds)

    @property
    def metric_label(self) -> str:
        return str(Metric(self.metric).label)


@dataclass(frozen=True)
class Percentiles:
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    package: Ref | None = None
    severity: Ref | None = None

    @property
    def median_label(self) -> str:
        return "—" if self.median_seconds is None else duration_words(self.median_seconds)

    @property
    def p90_label(self) -> str:
        return "—" if self.p90_seconds is None else duration_words(self.p90_seconds)


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class FirstResponse:
    overall: Percentiles
    histogram: list[Bucket]
    by_package_severity: list[Percentiles]
    basis: str = "wall_time"


@dataclass(frozen=True)
class BacklogStatus:
    status: str
    label: str
    count: int
    ages: list[Bucket]


@dataclass(frozen=True)
class Backlog:
    as_of: dt.datetime
    total: int
    by_age: list[Bucket]
    by_status: list[BacklogStatus]


@dataclass(frozen=True)
class VolumeRow:
    period: dt.date
    channel: str
    label: str
    count: int


@dataclass(frozen=True)
class Volume:
    total: int
    by_channel: list[Bucket]
    by_period: list[VolumeRow]


@dataclass(frozen=True)
class SLAReport:
    time_zone: str
    start: dt.date
    end: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    granularity: Granularity
    granularity_requested: str
    generated_at: dt.datetime
    filters: ReportFilters
    achievement: list[AchievementRow]
    achievement_by_metric_package: list[AchievementRow]
    achievement_by_metric: list[AchievementRow]
    breaches: list[Breach]
    breaches_total: int
    breaches_limit: int
    breaches_offset: int
    first_response: FirstResponse
    backlog: Backlog
    volume: Volume
    goal_percent: int = DEFAULT_GOAL_PERCENT
