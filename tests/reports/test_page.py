"""/manage/reports/: who may see it, the no-script filter form, SVG charts with the same numbers
in tables, CSP-clean markup, escaping, isolation and a fixed query count."""

from __future__ import annotations

import re
from typing import Any

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import World

from .conftest import NOW, Desk, fill_desk, make_desk, utc

URL = "/manage/reports/"
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def get(client: Client, params: dict[str, str] | None = None) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params or {})


def test_staff_see_the_report(desk: Desk) -> None:
    w = desk.world
    for member in (w.admin, w.agent, w.lead):
        response = get(w.client(member), MARCH)
        assert response.status_code == 200, member
    html = response.content.decode()
    assert "<h1>SLA report</h1>" in html
    # The figures of the hand-built desk, in tables next to the charts.
    assert (
        "<td>First response</td><td>Gold</td><td>2</td><td>3</td><td>2</td><td>40.0 %</td>" in html
    )
    assert (
        "<td>First response</td><td>Silver</td><td>2</td><td>0</td><td>0</td><td>100.0 %</td>"
        in html
    )
    assert "Breaches (3)" in html
    assert "no first reply within 1 business hour (Office)" in html
    assert "median 30 min, 90th percentile 3 h 36 min, over 5 answered tickets" in html
    # Instants in the tenant's zone: T4 was due 12:00 UTC = 13:00 Berlin.
    assert "Tue 3 Mar 13:00" in html


def test_customers_get_404_and_anonymous_the_login(desk: Desk) -> None:
    w = desk.world
    assert get(w.client(w.owner1)).status_code == 404
    assert get(w.client(w.contact1)).status_code == 404
    anonymous = get(Client(HTTP_HOST=w.host), MARCH)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=/manage/reports/")
    assert w.client(w.agent).post(URL).status_code == 405


def test_charts_are_accessible_svg_without_inline_script_or_style(desk: Desk) -> None:
    html = get(desk.world.client(desk.world.agent), MARCH).content.decode()
    for chart in ("chart-achievement", "chart-first-response", "chart-backlog", "chart-volume"):
        svg = re.search(rf'<svg [^>]*id="{chart}"[^>]*>(.*?)</svg>', html, re.S)
        assert svg is not None, chart
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in svg.group(0)
        assert f'<title id="{chart}-title">' in svg.group(1)
        assert f'<desc id="{chart}-desc">' in svg.group(1)
    assert 'class="goal-line"' in html and ">goal 95 %<" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert "<style" not in html and " style=" not in html  # the CSP forbids inline style
    assert "cdn" not in html.lower()
    assert "/static/reports/reports.css" in html


def test_filter_form_works_without_script(desk: Desk) -> None:
    client = desk.world.client(desk.world.agent)
    html = get(client, MARCH).content.decode()
    form = re.search(r'<form method="get" action="/manage/reports/".*?</form>', html, re.S)
    assert form is not None
    for name in ("start", "end", "granularity", "package", "severity", "team", "channel"):
        assert f'name="{name}"' in form.group(0), name
    assert f'<option value="{desk.gold.pk}">Gold</option>' in form.group(0)
    assert 'type="date"' in form.group(0) and 'value="2026-03-01"' in form.group(0)
    tech = get(client, {**MARCH, "team": str(desk.tech.pk)}).content.decode()
    assert "Breaches (0)" in tech and "<td>Silver</td>" in tech and "<td>Gold</td>" not in tech
    # The CSV link carries the same filters.
    assert (
        f"/api/v1/reports/sla/?start=2026-03-01&amp;end=2026-03-31&amp;team={desk.tech.pk}&amp;format=csv"
        in tech
    )


def test_invalid_filters_show_the_form_with_errors(desk: Desk, beta: World) -> None:
    client = desk.world.client(desk.world.agent)
    bad = get(client, {"start": "2026-03-10", "end": "2026-03-01"})
    assert bad.status_code == 400
    assert "The end date is before the start date." in bad.content.decode()
    other = make_desk(beta)
    foreign = get(client, {**MARCH, "package": str(other.gold.pk)})
    assert foreign.status_code == 400 and "Unknown package." in foreign.content.decode()


def test_breaches_are_paged(desk: Desk) -> None:
    client = desk.world.client(desk.world.agent)
    first = get(client, {**MARCH, "breaches_limit": "2"}).content.decode()
    assert "1\N{EN DASH}2 of 3" in first
    assert (
        'href="?start=2026-03-01&amp;end=2026-03-31&amp;breaches_limit=2&amp;breaches_offset=2#breaches-h">Next'
        in first
    )
    second = get(client, {**MARCH, "breaches_limit": "2", "breaches_offset": "2"}).content.decode()
    assert "3\N{EN DASH}3 of 3" in second and ">Previous<" in second and ">Next<" not in second


def test_names_are_escaped(desk: Desk) -> None:
    desk.gold.name = '<img src=x onerror="alert(1)">'
    desk.gold.save(update_fields=["name"])
    html = get(desk.world.client(desk.world.agent), MARCH).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_an_empty_desk_answers(alpha: World) -> None:
    response = get(alpha.client(alpha.admin))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No ticket with an SLA was opened in this period." in html
    assert "No data for this period." in html or "No tickets opened in this period." in html


def test_other_tenant_sees_nothing_of_this_one(desk: Desk, beta: World) -> None:
    html = get(beta.client(beta.admin), MARCH).content.decode()
    assert "Breaches (0)" in html
    for marker in ("Gold", "Silver", "Office", "T4 subject", desk.world.org1.name):
        assert marker not in html


def _count(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert get(client, {**MARCH, "granularity": "day"}).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_tickets(alpha: World) -> None:
    d = make_desk(alpha)
    fill_desk(d)
    client = alpha.client(alpha.agent)
    few = _count(client)
    for n in range(30):
        start = utc(2026, 3, 1 + n % 28, 8 + n % 9)
        d.fr(f"X{n}", start, start, None, "breached", team=d.tech if n % 2 else d.support)
    assert _count(client) == few
