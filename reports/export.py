"""The CSV export of the report's achievement rows (one row per period x metric x package x
severity x team)."""

from __future__ import annotations

import csv
import io

from .shapes import SLAReport

CSV_COLUMNS = (
    "period",
    "metric",
    "package_id",
    "package",
    "severity_id",
    "severity",
    "team_id",
    "team",
    "achieved",
    "missed",
    "in_progress",
    "total",
    "achievement_percent",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    # Names come from tenant admins: keep a spreadsheet from reading one as a formula.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def achievement_csv(report: SLAReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.achievement:
        package, severity, team = row.package, row.severity, row.team
        assert package is not None and severity is not None and team is not None
        percent = row.achievement_percent
        writer.writerow(
            [
                _cell(value)
                for value in (
                    row.period.isoformat() if row.period else "",
                    row.metric,
                    package.id if package.id is not None else "",
                    package.name,
                    severity.id if severity.id is not None else "",
                    severity.name,
                    team.id if team.id is not None else "",
                    team.name,
                    row.achieved,
                    row.missed,
                    row.in_progress,
                    row.total,
                    "" if percent is None else f"{percent:.1f}",
                )
            ]
        )
    return out.getvalue()


def csv_filename(report: SLAReport) -> str:
    return f"sla-report-{report.start.isoformat()}-{report.end.isoformat()}.csv"
