"""``/manage/reports/``: the SLA report page for the desk's staff.

Who: every staff member (admins, and agents of any tier). The API hands the same figures to every
agent, so a narrower page would hide nothing; customers get 404 (the page does not exist for
them), anonymous visitors the login page. Filters are a plain GET form: no script needed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import charts, selectors
from .forms import ReportForm
from .shapes import AchievementRow, SLAReport, duration_words

# The page shows this many achievement rows; the CSV has them all.
PAGE_ROWS = 500


def _query(params: QueryDict, **changes: Any) -> str:
    query = params.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return query.urlencode()


def _percent_text(row: AchievementRow) -> str:
    percent = row.achievement_percent
    if percent is None:
        return f"no decided clocks ({row.in_progress} in progress)"
    return f"{percent:.1f} % ({row.achieved} of {row.decided})"


def report_charts(report: SLAReport) -> dict[str, Any]:
    goal = report.goal_percent
    achievement = [
        charts.Datum(
            label=f"{row.metric_label} · {row.package.name if row.package else ''}",
            value=row.achievement_percent,
            text=_percent_text(row),
            tone="neutral"
            if row.achievement_percent is None
            else "ok"
            if row.achievement_percent >= goal
            else "bad",
        )
        for row in report.achievement_by_metric_package
    ]
    period = f"{report.start:%d %b %Y} to {report.end:%d %b %Y}"
    frt = report.first_response
    frt_overall = frt.overall
    frt_summary = (
        f"median {duration_words(frt_overall.median_seconds)}, "
        f"90th percentile {duration_words(frt_overall.p90_seconds)}, "
        f"over {frt_overall.count} answered tickets"
        if frt_overall.count
        and frt_overall.median_seconds is not None
        and frt_overall.p90_seconds is not None
        else "no answered tickets"
    )
    backlog = report.backlog
    return {
        "achievement": charts.bar_chart(
            chart_id="chart-achievement",
            title="SLA achievement by metric and package",
            desc=f"Share of SLA clocks met on time, tickets opened {period}; the dashed line is "
            f"the goal of {goal} %. " + "; ".join(f"{d.label}: {d.text}" for d in achievement),
            data=achievement,
            maximum=100,
            goal=goal,
            goal_label=f"goal {goal} %",
        ),
        "first_response": charts.column_chart(
            chart_id="chart-first-response",
            title="Time to first response",
            desc=f"Wall-clock time from opening to the first public agent reply, tickets opened "
            f"{period}: {frt_summary}. "
            + "; ".join(f"{b.label}: {b.count}" for b in frt.histogram),
            data=[charts.Datum(b.label, b.count, str(b.count)) for b in frt.histogram],
            empty="No answered tickets in this period.",
        ),
        "backlog": charts.bar_chart(
            chart_id="chart-backlog",
            title="Backlog by age",
            desc=f"{backlog.total} open tickets by age on {backlog.as_of:%d %b %Y %H:%M} UTC. "
            + "; ".join(f"{b.label}: {b.count}" for b in backlog.by_age),
            data=[
                charts.Datum(b.label, b.count, str(b.count), "bad" if i >= 3 else "neutral")
                for i, b in enumerate(backlog.by_age)
            ],
        ),
        "volume": charts.bar_chart(
            chart_id="chart-volume",
            title="Tickets by channel",
            desc=f"{report.volume.total} tickets opened {period}, by channel. "
            + "; ".join(f"{b.label}: {b.count}" for b in report.volume.by_channel),
            data=[charts.Datum(b.label, b.count, str(b.count)) for b in report.volume.by_channel],
            empty="No tickets opened in this period.",
        ),
        "frt_summary": frt_summary,
    }


@require_safe
def sla_report_page(request: HttpRequest) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    if membership is None:
        return redirect_to_login(request.get_full_path())
    if not membership.is_staff_member:
        raise Http404
    tenant = request.tenant  # type: ignore[attr-defined]
    form = ReportForm(request.GET, tenant=tenant)
    if not form.is_valid():
        return render(request, "reports/sla.html", {"form": form}, status=400)
    report = selectors.sla_report(tenant=tenant, **form.report_kwargs())
    params = request.GET
    limit, offset = report.breaches_limit, report.breaches_offset
    context = {
        "form": form,
        "report": report,
        "charts": report_charts(report),
        "rows": report.achievement[:PAGE_ROWS],
        "rows_hidden": max(0, len(report.achievement) - PAGE_ROWS),
        "csv_url": reverse("api-reports-sla")
        + "?"
        + _query(params, format="csv", breaches_limit=None, breaches_offset=None),
        "breaches_next": _query(params, breaches_offset=offset + limit)
        if offset + limit < report.breaches_total
        else None,
        "breaches_prev": _query(params, breaches_offset=max(0, offset - limit) or None)
        if offset > 0
        else None,
        "breaches_shown_to": offset + len(report.breaches),
    }
    return render(request, "reports/sla.html", context)
