"""GET /api/v1/reports/sla/: shape, CSV export, roles, 400s naming the field, tenant isolation,
and a query count that does not grow with the tickets."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports.export import CSV_COLUMNS
from tests.conftest import World

from .conftest import NOW, Desk, api, fill_desk, make_desk, utc

URL = "/api/v1/reports/sla/"
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def get(client: Client, params: dict[str, str] | None = None, **extra: str) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params or {}, **extra)


def test_report_json(desk: Desk) -> None:
    response = get(api(desk.world, desk.world.agent), MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["time_zone"] == "Europe/Berlin"
    assert (body["start"], body["end"], body["granularity"]) == ("2026-03-01", "2026-03-31", "day")
    # Instants in UTC, as everywhere in the API: 00:00 Berlin (winter, then summer time).
    assert body["starts_at"] == "2026-02-28T23:00:00Z"
    assert body["ends_at"] == "2026-03-31T22:00:00Z"
    gold_fr = next(
        r
        for r in body["achievement_by_metric_package"]
        if r["metric"] == "first_response" and r["package"]["name"] == "Gold"
    )
    assert gold_fr["package"]["id"] == desk.gold.pk
    assert (gold_fr["achieved"], gold_fr["missed"], gold_fr["in_progress"]) == (2, 3, 2)
    assert (gold_fr["total"], gold_fr["achievement_percent"]) == (7, 40.0)
    assert body["breaches_total"] == 3 and len(body["breaches"]) == 3
    worst = body["breaches"][0]
    assert worst["reason"] == "no first reply within 1 business hour (Office)"
    assert worst["still_open"] is True and worst["late_seconds"] == 17 * 86400
    assert worst["due_at"] == "2026-03-03T12:00:00Z"
    frt = body["first_response"]
    assert frt["basis"] == "wall_time"
    assert frt["overall"] == {"count": 5, "median_seconds": 1800.0, "p90_seconds": 12960.0}
    assert body["volume"]["total"] == 9
    assert [b["key"] for b in body["backlog"]["by_age"]] == [
        "lt_1d",
        "d1_3",
        "d3_7",
        "d7_30",
        "gte_30d",
    ]
    assert body["filters"] == {
        "package": None,
        "severity": None,
        "team": None,
        "organization": None,
        "channel": "",
    }


def test_filters_and_paging(desk: Desk) -> None:
    client = api(desk.world, desk.world.admin)
    body = get(client, {**MARCH, "team": str(desk.tech.pk)}).json()
    assert [(r["package"]["name"], r["achievement_percent"]) for r in body["achievement"]] == [
        ("Silver", 100.0)
    ]
    assert body["filters"]["team"] == desk.tech.pk
    page = get(client, {**MARCH, "breaches_limit": "1", "breaches_offset": "1"}).json()
    assert page["breaches_total"] == 3 and len(page["breaches"]) == 1
    assert (page["breaches_limit"], page["breaches_offset"]) == (1, 1)


def test_default_period_is_the_last_30_days(desk: Desk) -> None:
    body = get(api(desk.world, desk.world.agent)).json()
    assert (body["start"], body["end"]) == ("2026-02-19", "2026-03-20")
    assert body["volume"]["total"] == 9


def test_any_period_answers(desk: Desk) -> None:
    client = api(desk.world, desk.world.agent)
    empty = get(client, {"start": "1990-01-01", "end": "1990-01-01"})
    assert empty.status_code == 200
    body = empty.json()
    assert body["achievement"] == [] and body["breaches"] == [] and body["breaches_total"] == 0
    assert body["first_response"]["overall"] == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
    }
    assert body["volume"] == {"total": 0, "by_channel": [], "by_period": []}
    huge = get(client, {"start": "1900-01-01", "end": "2200-12-31", "breaches_limit": "2"})
    assert huge.status_code == 200
    body = huge.json()
    assert body["granularity"] == "month" and len(body["breaches"]) == 2
    assert body["breaches_total"] == 3


def test_csv_export(desk: Desk) -> None:
    client = api(desk.world, desk.world.agent)
    response = get(client, {**MARCH, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="sla-report-2026-03-01-2026-03-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 5  # the five per-day rows of tests/reports/test_selectors.py
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first == {
        "period": "2026-03-02",
        "metric": "first_response",
        "package_id": str(desk.gold.pk),
        "package": "Gold",
        "severity_id": str(desk.high.pk),
        "severity": "High",
        "team_id": str(desk.support.pk),
        "team": "Support",
        "achieved": "2",
        "missed": "0",
        "in_progress": "0",
        "total": "2",
        "achievement_percent": "100.0",
    }
    by_accept = get(client, MARCH, HTTP_ACCEPT="text/csv")
    assert by_accept["Content-Type"].startswith("text/csv")
    assert by_accept.content == response.content


def test_csv_cells_never_start_a_formula(desk: Desk) -> None:
    desk.gold.name = "=HYPERLINK(1)"
    desk.gold.save(update_fields=["name"])
    response = get(api(desk.world, desk.world.agent), {**MARCH, "format": "csv"})
    assert "'=HYPERLINK(1)" in response.content.decode()


def test_roles(desk: Desk) -> None:
    w = desk.world
    customer = get(api(w, w.owner1), MARCH)
    assert customer.status_code == 403
    assert customer["Content-Type"] == "application/problem+json"
    anonymous = get(Client(HTTP_HOST=w.host), MARCH)
    assert anonymous.status_code == 401
    for member in (w.admin, w.agent, w.lead):
        assert get(api(w, member), MARCH).status_code == 200
    # The agent workspace's session works too (the page's CSV link).
    assert get(w.client(w.agent), {**MARCH, "format": "csv"}).status_code == 200


def _problem(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert field in body["errors"], body
    assert field in body["detail"]


def test_bad_parameters_are_400_naming_the_field(desk: Desk, beta: World) -> None:
    client = api(desk.world, desk.world.agent)
    other = make_desk(beta)
    _problem(get(client, {"start": "2026-13-01"}), "start")
    _problem(get(client, {"start": "01/03/2026"}), "start")
    _problem(get(client, {"end": "tomorrow"}), "end")
    _problem(get(client, {"start": "2026-03-10", "end": "2026-03-01"}), "end")
    _problem(get(client, {"start": "1800-01-01", "end": "2026-03-01"}), "start")
    _problem(get(client, {**MARCH, "granularity": "year"}), "granularity")
    _problem(get(client, {**MARCH, "package": "999999"}), "package")
    _problem(get(client, {**MARCH, "package": "gold"}), "package")
    _problem(get(client, {**MARCH, "severity": str(other.high.pk)}), "severity")  # beta's
    _problem(get(client, {**MARCH, "team": str(other.tech.pk)}), "team")
    _problem(get(client, {**MARCH, "organization": str(beta.org1.pk)}), "organization")
    _problem(get(client, {**MARCH, "channel": "pigeon"}), "channel")
    _problem(get(client, {**MARCH, "breaches_limit": "0"}), "breaches_limit")
    _problem(get(client, {**MARCH, "format": "xml"}), "format")
    csv_error = get(client, {"start": "nope", "format": "csv"})
    _problem(csv_error, "start")


def test_another_tenant_sees_none_of_it(desk: Desk, beta: World) -> None:
    body = get(api(beta, beta.admin), MARCH).json()
    assert body["achievement"] == [] and body["breaches_total"] == 0
    assert body["volume"]["total"] == 0 and body["backlog"]["total"] == 0
    fill_desk(make_desk(beta))
    mine = get(api(desk.world, desk.world.agent), MARCH).json()
    assert mine["volume"]["total"] == 9 and mine["breaches_total"] == 3
    tickets = {t.pk for t in desk.tickets.values()}
    assert {b["ticket_id"] for b in mine["breaches"]} <= tickets


def _count(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = get(client, {**MARCH, "team": "", "granularity": "day"})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_tickets(alpha: World) -> None:
    d = make_desk(alpha)
    client = api(alpha, alpha.agent)
    fill_desk(d)
    _count(client)  # the token's first use records it (one write, once)
    few = _count(client)
    for n in range(30):
        start = utc(2026, 3, 1 + n % 28, 8 + n % 9)
        d.fr(
            f"X{n}",
            start,
            start + dt.timedelta(hours=1),
            start + dt.timedelta(minutes=7 * n),
            "met" if n % 2 else "breached",
            package=d.silver if n % 3 else d.gold,
            team=d.tech if n % 2 else d.support,
            channel=("web", "email", "chat", "phone", "api")[n % 5],
        )
    assert _count(client) == few
