"""Console calendars (/manage/calendars/): the weekly grid, holidays, the holiday import with its
preview, delete refused while in use, roles and tenants."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from sla.models import BusinessCalendar, Holiday, OpeningInterval, Severity, SLATarget
from sla.services import package_create
from tests.conftest import World
from tests.factories import BusinessCalendarFactory, SeverityFactory
from tests.tickets.page_helpers import assert_csp_clean

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """What a browser would submit from ``<form id=…>``: text, hidden, checked boxes, selected
    options, textareas (the submit buttons excepted)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.depth = 0
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_value: str | None = None
        self.select_first: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
            return
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value") or "on"))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self.select, self.select_value, self.select_first = a["name"], None, None
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                self.select_value = value
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.text = a["name"], ""

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            value = self.select_value if self.select_value is not None else self.select_first
            self.fields.append((self.select, value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.lstrip("\n")))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data


def form_fields(html: str, form_id: str) -> dict[str, Any]:
    """The form's fields as the test client's POST data (repeated names become lists)."""
    parser = _FormFields(form_id)
    parser.feed(html)
    out: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    assert out, f"no form #{form_id}"
    return out


def hours_of(calendar: BusinessCalendar) -> list[tuple[int, int, int]]:
    return list(
        OpeningInterval.objects.filter(calendar=calendar).values_list(
            "weekday", "start_minute", "end_minute"
        )
    )


def test_list_shows_calendars_and_their_packages(alpha: World) -> None:
    calendar: BusinessCalendar = BusinessCalendarFactory(tenant=alpha.tenant, name="Office hours")
    severity: Severity = SeverityFactory(tenant=alpha.tenant, name="Urgent")
    package_create(
        tenant=alpha.tenant,
        name="Gold",
        severities=[severity],
        targets=[
            {
                "metric": "first_response",
                "severity": severity,
                "target_minutes": 60,
                "calendar": calendar,
            }
        ],
    )
    response = alpha.client(alpha.admin).get("/manage/calendars/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Office hours" in html and "Gold" in html and "09:00" in html
    assert_csp_clean(html)


def test_create_with_weekly_grid_and_holidays(alpha: World) -> None:
    client = alpha.client(alpha.admin)
    page = client.get("/manage/calendars/new/")
    assert page.status_code == 200
    assert_csp_clean(page.content.decode())
    data = form_fields(page.content.decode(), "calendar")
    data.update(
        {
            "name": "Support desk",
            "timezone": "America/New_York",
            "hours_0": "08:00\u201312:00, 13:00-17:00",
            "hours_5": "00:00 - 24:00",
            "closed_5": "",
            "holidays-0-date": "2026-12-24",
            "holidays-0-end_date": "2026-12-31",
            "holidays-0-name": "Winter break",
            "holidays-1-date": "2026-07-04",
            "holidays-1-name": "Independence Day",
            "holidays-1-yearly": "on",
        }
    )
    data.pop("closed_5", None)
    response = client.post("/manage/calendars/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    calendar = BusinessCalendar.objects.for_tenant(alpha.tenant).get(name="Support desk")
    assert calendar.timezone == "America/New_York"
    hours = hours_of(calendar)
    assert (0, 480, 720) in hours and (0, 780, 1020) in hours
    assert (5, 0, 1440) in hours
    assert (6, 0, 1440) not in hours and not any(wd == 6 for wd, _s, _e in hours)
    assert (1, 540, 1020) in hours  # the default grid kept for Tuesday
    holidays = {
        (h.date, h.end_date, h.name, h.yearly) for h in Holiday.objects.filter(calendar=calendar)
    }
    assert holidays == {
        (dt.date(2026, 12, 24), dt.date(2026, 12, 31), "Winter break", False),
        (dt.date(2026, 7, 4), None, "Independence Day", True),
    }
    # The edit page shows the grid as saved.
    edit = client.get(response["Location"]).content.decode()
    assert "08:00\u201312:00, 13:00\u201317:00" in edit and "Winter break" in edit


def test_edit_replaces_hours_and_removes_holiday(alpha: World) -> None:
    calendar = BusinessCalendarFactory(tenant=alpha.tenant, name="Desk")
    Holiday.objects.create(
        tenant=alpha.tenant, calendar=calendar, date=dt.date(2026, 1, 1), name="New Year"
    )
    Holiday.objects.create(
        tenant=alpha.tenant, calendar=calendar, date=dt.date(2026, 5, 1), name="May Day"
    )
    client = alpha.client(alpha.admin)
    url = f"/manage/calendars/{calendar.pk}/"
    data = form_fields(client.get(url).content.decode(), "calendar")
    assert data["holidays-0-name"] == "New Year"
    data["hours_4"] = "09:00-13:00"
    data["holidays-1-DELETE"] = "on"
    version = calendar.version
    response = client.post(url, data)
    assert response.status_code == 302
    assert (4, 540, 780) in hours_of(calendar) and (4, 540, 1020) not in hours_of(calendar)
    assert (0, 540, 1020) in hours_of(calendar)
    assert list(Holiday.objects.filter(calendar=calendar).values_list("name", flat=True)) == [
        "New Year"
    ]
    calendar.refresh_from_db()
    assert calendar.version > version


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours_0", "9-17", "is not an interval like"),
        ("hours_0", "17:00-09:00", "the end must be after the start"),
        ("hours_0", "08:00-12:00, 11:00-14:00", "The intervals overlap"),
        ("hours_0", "08:00-24:30", "not a time HH:MM"),
        ("hours_1", "", "or tick Closed"),
    ],
)
def test_invalid_grid_shows_error_and_keeps_input(
    alpha: World, field: str, value: str, message: str
) -> None:
    calendar = BusinessCalendarFactory(tenant=alpha.tenant, name="Desk")
    client = alpha.client(alpha.admin)
    url = f"/manage/calendars/{calendar.pk}/"
    data = form_fields(client.get(url).content.decode(), "calendar")
    data[field] = value
    data["hours_2"] = "07:30-18:00"
    data["holidays-0-date"] = "2026-03-03"
    data["holidays-0-name"] = "Typed holiday"
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'value="07:30-18:00"' in html and "Typed holiday" in html  # nothing lost
    assert (2, 540, 1020) in hours_of(calendar)  # nothing saved


def test_all_closed_and_bad_holiday_range_are_refused(alpha: World) -> None:
    client = alpha.client(alpha.admin)
    data = form_fields(client.get("/manage/calendars/new/").content.decode(), "calendar")
    data["name"] = "Never"
    for wd in range(7):
        data[f"closed_{wd}"] = "on"
    response = client.post("/manage/calendars/new/", data)
    assert response.status_code == 400
    assert "at least one opening interval" in response.content.decode()

    data = form_fields(client.get("/manage/calendars/new/").content.decode(), "calendar")
    data.update(
        {"name": "Ranges", "holidays-0-date": "2026-05-10", "holidays-0-end_date": "2026-05-01"}
    )
    response = client.post("/manage/calendars/new/", data)
    assert response.status_code == 400
    assert "The range ends before it starts." in response.content.decode()
    assert not BusinessCalendar.objects.for_tenant(alpha.tenant).filter(name="Ranges").exists()


def test_duplicate_name_is_a_field_error(alpha: World) -> None:
    BusinessCalendarFactory(tenant=alpha.tenant, name="Taken")
    client = alpha.client(alpha.admin)
    data = form_fields(client.get("/manage/calendars/new/").content.decode(), "calendar")
    data["name"] = "Taken"
    response = client.post("/manage/calendars/new/", data)
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_holiday_import_preview_then_import(alpha: World) -> None:
    calendar = BusinessCalendarFactory(tenant=alpha.tenant, name="US desk")
    Holiday.objects.create(
        tenant=alpha.tenant, calendar=calendar, date=dt.date(2026, 12, 25), name="Christmas (ours)"
    )
    client = alpha.client(alpha.admin)
    url = f"/manage/calendars/{calendar.pk}/holidays/import/"
    assert client.get(url).status_code == 200
    preview = client.get(url, {"country": "US", "years": "2026"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert_csp_clean(html)
    for day, name in [
        ("2026-01-01", "New Year's Day"),
        ("2026-01-19", "Martin Luther King Jr. Day"),
        ("2026-07-03", "Independence Day (observed)"),
        ("2026-07-04", "Independence Day"),
        ("2026-11-26", "Thanksgiving"),
    ]:
        assert day in html and name.replace("'", "&#x27;") in html, (day, name)
    assert "2026-12-25" not in html  # already closed: not imported again
    assert "Import these 11 dates" in html
    assert Holiday.objects.filter(calendar=calendar).count() == 1  # a preview writes nothing

    data = form_fields(
        html.replace(
            '<form method="post" class="form-actions">', '<form method="post" id="confirm">'
        ),
        "confirm",
    )
    assert data["years"] == "2026" and data["country"] == "US"
    response = client.post(url, data)
    assert response.status_code == 302
    dates = set(Holiday.objects.filter(calendar=calendar).values_list("date", flat=True))
    assert len(dates) == 12
    assert dt.date(2026, 11, 26) in dates and dt.date(2026, 1, 19) in dates
    assert "Imported 11 holidays" in client.get(response["Location"]).content.decode()


def test_holiday_import_errors(alpha: World) -> None:
    calendar = BusinessCalendarFactory(tenant=alpha.tenant)
    client = alpha.client(alpha.admin)
    url = f"/manage/calendars/{calendar.pk}/holidays/import/"
    response = client.get(url, {"country": "US", "subdiv": "ZZ", "years": "2026"})
    assert response.status_code == 400
    assert "is not a subdivision of US" in response.content.decode()
    response = client.get(url, {"country": "US", "years": "twenty"})
    assert response.status_code == 400
    assert "Give years like 2026, 2027." in response.content.decode()
    response = client.post(url, {"country": "XX", "years": "2026"})
    assert response.status_code == 400
    assert not Holiday.objects.filter(calendar=calendar).exists()
    # A subdivision's own holidays.
    response = client.get(url, {"country": "US", "subdiv": "CA", "years": "2026"})
    assert "César Chávez Day" in response.content.decode() or "Cesar Chavez Day" in (
        response.content.decode()
    )


def test_delete_refused_while_a_target_uses_it(alpha: World) -> None:
    calendar: BusinessCalendar = BusinessCalendarFactory(tenant=alpha.tenant, name="Busy")
    severity: Severity = SeverityFactory(tenant=alpha.tenant, name="High")
    package_create(
        tenant=alpha.tenant,
        name="Silver",
        severities=[severity],
        targets=[
            {
                "metric": "resolution",
                "severity": severity,
                "target_business_days": 2,
                "calendar": calendar,
            }
        ],
    )
    client = alpha.client(alpha.admin)
    url = f"/manage/calendars/{calendar.pk}/delete/"
    page = client.get(url).content.decode()
    assert "cannot be deleted" in page and "Silver" in page and "High · Resolution" in page
    response = client.post(url)
    assert response.status_code == 409
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()

    SLATarget.objects.filter(calendar=calendar).delete()
    response = client.post(url)
    assert response.status_code == 302
    assert not BusinessCalendar.objects.filter(pk=calendar.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/manage/calendars/",
        "/manage/calendars/new/",
        "/manage/calendars/{pk}/",
        "/manage/calendars/{pk}/delete/",
        "/manage/calendars/{pk}/holidays/import/",
    ],
)
def test_roles(alpha: World, path: str) -> None:
    calendar = BusinessCalendarFactory(tenant=alpha.tenant)
    url = path.format(pk=calendar.pk)
    for member in (alpha.agent, alpha.lead, alpha.contact1, alpha.owner1):
        assert alpha.client(member).get(url).status_code == 404, (member, url)
        assert alpha.client(member).post(url, {}).status_code == 404, (member, url)
    anonymous = Client(HTTP_HOST=alpha.host).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert alpha.client(alpha.admin).get(url).status_code == 200
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()


def test_other_tenants_calendar_is_404(alpha: World, beta: World) -> None:
    calendar = BusinessCalendarFactory(tenant=alpha.tenant, name="ALPHA-ONLY")
    client = beta.client(beta.admin)
    for path in ("", "delete/", "holidays/import/?country=US&years=2026"):
        assert client.get(f"/manage/calendars/{calendar.pk}/{path}").status_code == 404
    assert client.post(f"/manage/calendars/{calendar.pk}/delete/").status_code == 404
    assert "ALPHA-ONLY" not in client.get("/manage/calendars/").content.decode()
    assert BusinessCalendar.objects.filter(pk=calendar.pk).exists()
