"""/api/v1/calendars/: CRUD, deadline and elapsed (exact, DST), every 400 names its field,
cross-tenant 404, wrong-role 403, holiday import preview and apply."""

from __future__ import annotations

from typing import Any

import pytest

from sla.models import BusinessCalendar
from tests.conftest import World

from .conftest import Api, api

OFFICE = {
    "name": "Office",
    "timezone": "Europe/London",
    "hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    "holidays": [{"date": "2026-12-25", "name": "Christmas Day"}],
}
# Nights 00:00-06:00 every day in London: on the spring-forward night (Sun 2026-03-29, 01:00
# GMT -> 02:00 BST) the interval is 5 real hours.
NIGHTS = {
    "name": "Nights",
    "timezone": "Europe/London",
    "hours": [{"weekday": d, "start": "00:00", "end": "06:00"} for d in range(7)],
}


def create(client: Api, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/calendars/", body)
    assert response.status_code == 201, response.content
    return response.json()


def errors(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["errors"]


def test_crud(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    body = create(admin, OFFICE)
    assert body["name"] == "Office" and body["timezone"] == "Europe/London"
    assert body["hours"] == OFFICE["hours"]
    assert body["holidays"] == [
        {"date": "2026-12-25", "end_date": None, "name": "Christmas Day", "yearly": False}
    ]
    url = f"/api/v1/calendars/{body['id']}/"
    assert admin.get(url).json() == body
    listed = admin.get("/api/v1/calendars/").json()["results"]
    assert [c["id"] for c in listed] == [body["id"]]

    twenty_four = {**OFFICE, "hours": [{"weekday": 0, "start": "00:00", "end": "24:00"}]}
    updated = admin.put(url, twenty_four).json()
    assert updated["hours"] == [{"weekday": 0, "start": "00:00", "end": "24:00"}]
    assert updated["version"] == body["version"] + 1
    patched = admin.patch(
        url,
        {
            "holidays": [
                {"date": "2026-08-01", "end_date": "2026-08-14", "name": "Summer", "yearly": True}
            ]
        },
    ).json()
    assert patched["holidays"] == [
        {"date": "2026-08-01", "end_date": "2026-08-14", "name": "Summer", "yearly": True}
    ]
    assert patched["hours"] == updated["hours"]  # untouched by the patch
    assert admin.delete(url).status_code == 204
    assert admin.get(url).status_code == 404


def test_deadline_and_elapsed_exact_on_a_dst_night(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, NIGHTS)
    base = f"/api/v1/calendars/{cal['id']}"
    # From Sat 23:00 GMT (closed): Sun 00:00-01:00 GMT (1 h) + 02:00-06:00 BST (4 h) = 5 h by
    # Sun 05:00 UTC; the 6th hour is Mon 00:00-01:00 BST = Sun 23:00 - Mon 00:00 UTC.
    response = admin.get(
        f"{base}/deadline/", {"start": "2026-03-28T23:00:00+00:00", "minutes": 360}
    )
    assert response.status_code == 200, response.content
    assert response.json()["due"] == "2026-03-30T00:00:00+00:00"
    assert response.json()["explanation"]
    elapsed = admin.get(
        f"{base}/elapsed/",
        {"start": "2026-03-29T00:00:00+00:00", "end": "2026-03-29T06:00:00+01:00"},
    )
    assert elapsed.json() == {"seconds": 5 * 3600}
    # An offset other than UTC, and a "+" left unencoded in the query string.
    raw = admin.client.get(f"{base}/deadline/?start=2026-03-29T03:30:00+01:00&minutes=60")
    assert raw.json()["due"] == "2026-03-29T03:30:00+00:00"  # 04:30 BST


def test_deadline_business_days(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, OFFICE)
    response = admin.get(
        f"/api/v1/calendars/{cal['id']}/deadline/",
        {"start": "2026-12-24T10:00:00Z", "business_days": 1},
    )
    # Thu 24 Dec 10:00 + 1 working day: Fri 25 is Christmas Day -> Mon 28 Dec 10:00.
    assert response.json()["due"] == "2026-12-28T10:00:00+00:00"
    assert "Christmas Day" in response.json()["explanation"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"hours": [{"weekday": 0, "start": "17:00", "end": "09:00"}]}, "hours"),
        ({"hours": [{"weekday": 0, "start": "09:00", "end": "09:00"}]}, "hours"),
        ({"hours": [{"weekday": 7, "start": "09:00", "end": "17:00"}]}, "hours"),
        ({"hours": [{"weekday": -1, "start": "09:00", "end": "17:00"}]}, "hours"),
        ({"hours": [{"weekday": 0, "start": "9am", "end": "17:00"}]}, "hours"),
        ({"hours": [{"weekday": 0, "start": "09:00", "end": "24:30"}]}, "hours"),
        ({"holidays": [{"date": "2026-02-30", "name": "Nope"}]}, "holidays"),
        ({"holidays": [{"date": "2026-03-02", "end_date": "2026-03-01"}]}, "holidays"),
        ({"name": ""}, "name"),
        ({"hours": []}, "hours"),
        ({"hours": [{"weekday": 0, "start": "09:00"}]}, "hours"),
    ],
)
def test_calendar_400s_name_the_field(alpha: World, change: dict[str, Any], field: str) -> None:
    response = api(alpha, alpha.admin).post("/api/v1/calendars/", {**OFFICE, **change})
    assert field in errors(response)


def test_nested_hours_error_names_the_inner_field(alpha: World) -> None:
    body = {**OFFICE, "hours": [{"weekday": 0, "start": "17:00", "end": "09:00"}]}
    errs = errors(api(alpha, alpha.admin).post("/api/v1/calendars/", body))
    assert "end" in errs["hours"]["0"]  # DRF keys list items by index


@pytest.mark.parametrize(
    "change",
    [
        {"hours": [{"weekday": 0}]},
        {"holidays": [{"name": "No date"}]},
        {"timezone": "Nowhere/Land"},
        {"hours": [{"weekday": 9, "start": "09:00", "end": "17:00"}]},
    ],
)
def test_patch_validates_nested_items_whole(alpha: World, change: dict[str, Any]) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, OFFICE)
    response = admin.patch(f"/api/v1/calendars/{cal['id']}/", change)
    assert set(errors(response)) == set(change)
    assert admin.get(f"/api/v1/calendars/{cal['id']}/").json() == cal  # nothing changed


def test_duplicate_name_is_400(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    create(admin, OFFICE)
    assert "name" in errors(admin.post("/api/v1/calendars/", OFFICE))


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"start": "2026-03-02T09:00:00", "minutes": 60}, {"start"}),
        ({"start": "next tuesday", "minutes": 60}, {"start"}),
        ({"start": "2026-13-02T09:00:00Z", "minutes": 60}, {"start"}),
        ({"minutes": 60}, {"start"}),
        ({"start": "2026-03-02T09:00:00Z", "minutes": -5}, {"minutes"}),
        ({"start": "2026-03-02T09:00:00Z", "business_days": -1}, {"business_days"}),
        ({"start": "2026-03-02T09:00:00Z", "minutes": "ten"}, {"minutes"}),
        (
            {"start": "2026-03-02T09:00:00Z", "minutes": 5, "business_days": 1},
            {"minutes", "business_days"},
        ),
        ({"start": "2026-03-02T09:00:00Z"}, {"minutes", "business_days"}),
    ],
)
def test_deadline_400s_name_the_field(
    alpha: World, params: dict[str, Any], fields: set[str]
) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, OFFICE)
    response = admin.get(f"/api/v1/calendars/{cal['id']}/deadline/", params)
    assert set(errors(response)) == fields


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-02T09:00:00", "end": "2026-03-02T10:00:00Z"}, "start"),
        ({"start": "2026-03-02T09:00:00Z", "end": "2026-03-02"}, "end"),
        ({"start": "2026-03-02T09:00:00Z", "end": "2026-03-01T09:00:00Z"}, "end"),
    ],
)
def test_elapsed_400s_name_the_field(alpha: World, params: dict[str, str], field: str) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, OFFICE)
    assert field in errors(admin.get(f"/api/v1/calendars/{cal['id']}/elapsed/", params))


def test_other_tenants_calendar_is_404_everywhere(alpha: World, beta: World) -> None:
    cal = create(api(alpha, alpha.admin), OFFICE)
    intruder = api(beta, beta.admin)
    base = f"/api/v1/calendars/{cal['id']}"
    q = {"start": "2026-03-02T09:00:00Z", "minutes": 60}
    assert intruder.get(f"{base}/").status_code == 404
    assert intruder.get(f"{base}/deadline/", q).status_code == 404
    assert (
        intruder.get(f"{base}/elapsed/", {"start": q["start"], "end": q["start"]}).status_code
        == 404
    )
    assert intruder.put(f"{base}/", OFFICE).status_code == 404
    assert intruder.patch(f"{base}/", {"name": "Mine"}).status_code == 404
    assert intruder.delete(f"{base}/").status_code == 404
    assert (
        intruder.get(f"{base}/holidays/import/", {"country": "US", "years": "2026"}).status_code
        == 404
    )
    assert intruder.get("/api/v1/calendars/").json()["results"] == []
    response = intruder.get("/api/v1/calendars/999999/")
    assert response.status_code == 404 and response["Content-Type"] == "application/problem+json"
    assert BusinessCalendar.objects.get(pk=cal["id"]).name == "Office"


def test_roles(alpha: World) -> None:
    cal = create(api(alpha, alpha.admin), OFFICE)
    agent, customer = api(alpha, alpha.agent), api(alpha, alpha.owner1)
    url = f"/api/v1/calendars/{cal['id']}/"
    assert agent.get(url).status_code == 200  # staff read
    assert agent.post("/api/v1/calendars/", {**OFFICE, "name": "Agent's"}).status_code == 403
    assert agent.patch(url, {"name": "Agent's"}).status_code == 403
    assert agent.delete(url).status_code == 403
    assert customer.get(url).status_code == 403
    assert customer.get("/api/v1/calendars/").status_code == 403
    assert customer.post("/api/v1/calendars/", OFFICE).status_code == 403


def test_calendar_in_use_cannot_be_deleted(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, OFFICE)
    sev = admin.post("/api/v1/severities/", {"key": "s1", "name": "S1", "rank": 1}).json()
    admin.post(
        "/api/v1/packages/",
        {
            "name": "Gold",
            "severities": [sev["id"]],
            "targets": [
                {
                    "metric": "first_response",
                    "severity": sev["id"],
                    "target_minutes": 60,
                    "calendar": cal["id"],
                }
            ],
        },
    )
    response = admin.delete(f"/api/v1/calendars/{cal['id']}/")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"


def test_holiday_import_previews_then_adds_exactly_that(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, {**OFFICE, "timezone": "America/Chicago"})
    url = f"/api/v1/calendars/{cal['id']}/holidays/import/"
    preview = admin.get(url, {"country": "US", "subdiv": "", "years": "2026"})
    assert preview.status_code == 200, preview.content
    rows = preview.json()["holidays"]
    dates = [r["date"] for r in rows]
    assert {"date": "2026-01-01", "name": "New Year's Day"} in rows
    assert "2026-07-03" in dates  # Independence Day (observed): Jul 4 is a Saturday
    assert "2026-12-25" not in dates  # already in the calendar
    assert (
        BusinessCalendar.objects.get(pk=cal["id"]).holidays.count() == 1
    )  # preview writes nothing

    applied = admin.post(url + "?country=US&years=2026")
    assert applied.status_code == 200, applied.content
    assert applied.json()["added"] == rows
    detail = admin.get(f"/api/v1/calendars/{cal['id']}/").json()
    assert sorted(h["date"] for h in detail["holidays"]) == sorted([*dates, "2026-12-25"])
    assert admin.get(url, {"country": "US", "years": "2026"}).json()["holidays"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"country": "XX", "years": "2026"}, "country"),
        ({"country": "US", "subdiv": "ZZ", "years": "2026"}, "subdiv"),
        ({"country": "US", "years": "twenty"}, "years"),
        ({"country": "US"}, "years"),
        ({"years": "2026"}, "country"),
    ],
)
def test_holiday_import_400s(alpha: World, params: dict[str, str], field: str) -> None:
    admin = api(alpha, alpha.admin)
    cal = create(admin, OFFICE)
    assert field in errors(admin.get(f"/api/v1/calendars/{cal['id']}/holidays/import/", params))


def test_holiday_import_is_admin_only(alpha: World) -> None:
    cal = create(api(alpha, alpha.admin), OFFICE)
    url = f"/api/v1/calendars/{cal['id']}/holidays/import/"
    assert api(alpha, alpha.agent).get(url, {"country": "US", "years": "2026"}).status_code == 403
    assert api(alpha, alpha.agent).post(url + "?country=US&years=2026").status_code == 403
