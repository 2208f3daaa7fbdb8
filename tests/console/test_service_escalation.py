"""Console escalation (/manage/escalation/): policy and levels through escalation_policy_update,
the on-call roster through on_call_entry_*, roles and tenants."""

from __future__ import annotations

import pytest
from django.test import Client

from sla.models import EscalationPolicy, EscalationRule, OnCallEntry
from tests.conftest import World
from tests.console.test_service_calendars import form_fields
from tests.tickets.page_helpers import assert_csp_clean

pytestmark = pytest.mark.django_db


def test_defaults_render_and_save_as_the_tenants_own(alpha: World) -> None:
    client = alpha.client(alpha.admin)
    page = client.get("/manage/escalation/")
    assert page.status_code == 200
    html = page.content.decode()
    assert_csp_clean(html)
    assert "built-in chain" in html
    data = form_fields(html, "escalation")
    assert data["levels-0-level"] == "0" and data["levels-2-delay"] == "1"
    assert data["levels-2-delay_unit"] == "hours"
    assert data["quiet_hours_start"] == "22:00" and data["quiet_hours_end"] == "07:00"
    response = client.post("/manage/escalation/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    rules = list(
        EscalationRule.objects.for_tenant(alpha.tenant).values_list(
            "level", "offset_minutes", "recipients"
        )
    )
    assert rules == [
        (0, 0, ["assignee"]),
        (1, 0, ["assignee", "team_lead"]),
        (2, 60, ["manager", "distribution_list"]),
        (3, 240, ["account_executive"]),
    ]


def test_change_levels_and_policy(alpha: World) -> None:
    client = alpha.client(alpha.admin)
    data = form_fields(client.get("/manage/escalation/").content.decode(), "escalation")
    data.update(
        {
            "distribution_emails": "Oncall@Alpha.example\nboss@alpha.example",
            "quiet_hours_start": "21:30",
            "quiet_hours_end": "06:00",
            "repage_minutes": "5",
            "urgent_max_rank": "2",
            "levels-3-DELETE": "on",  # drop the account executive level
            "levels-4-level": "4",
            "levels-4-delay": "90",
            "levels-4-delay_unit": "minutes",
            "levels-4-recipients": ["principal"],
            "levels-4-channels": ["pager"],
            "levels-4-metrics": ["resolution"],
            "levels-4-active": "on",
        }
    )
    data.pop("customer_escalation_enabled", None)
    response = client.post("/manage/escalation/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = EscalationPolicy.objects.get(tenant=alpha.tenant)
    assert policy.distribution_emails == ["oncall@alpha.example", "boss@alpha.example"]
    assert (policy.quiet_hours_start, policy.quiet_hours_end) == (21 * 60 + 30, 6 * 60)
    assert policy.repage_minutes == 5 and policy.urgent_max_rank == 2
    assert not policy.customer_escalation_enabled
    levels = {r.level: r for r in EscalationRule.objects.for_tenant(alpha.tenant)}
    assert sorted(levels) == [0, 1, 2, 4]
    assert levels[4].offset_minutes == 90 and levels[4].channels == ["pager"]
    assert levels[4].metrics == ["resolution"] and levels[4].recipients == ["principal"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"levels-0-delay": "10"}, "it has no delay"),
        ({"levels-1-level": "2"}, "Level 2 is listed twice."),
        ({"levels-1-recipients": []}, "Choose who this level notifies."),
        ({"distribution_emails": "not-an-address"}, "Not an email address: not-an-address."),
        ({"quiet_hours_start": "25:00"}, "is not a time HH:MM"),
        ({"repage_minutes": "0"}, "greater than or equal to 1"),
    ],
)
def test_invalid_input_is_refused_and_kept(
    alpha: World, changes: dict[str, object], message: str
) -> None:
    client = alpha.client(alpha.admin)
    data = form_fields(client.get("/manage/escalation/").content.decode(), "escalation")
    data["levels-3-delay"] = "7"
    data.update(changes)
    response = client.post("/manage/escalation/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert form_fields(html, "escalation")["levels-3-delay"] == "7"
    assert not EscalationRule.objects.for_tenant(alpha.tenant).exists()
    assert not EscalationPolicy.objects.for_tenant(alpha.tenant).exists()


def test_on_call_roster_add_edit_remove(alpha: World, beta: World) -> None:
    client = alpha.client(alpha.admin)
    page = client.get("/manage/escalation/on-call/")
    assert page.status_code == 200
    html = page.content.decode()
    assert_csp_clean(html)
    assert alpha.agent.user.email in html and alpha.contact1.user.email not in html
    assert beta.agent.user.email not in html
    response = client.post(
        "/manage/escalation/on-call/",
        {
            "membership": alpha.agent.pk,
            "weekdays": ["5", "6"],
            "start_minute": "22:00",
            "end_minute": "06:00",
            "pager_address": "+44 7700 900123",
            "active": "on",
        },
    )
    assert response.status_code == 302
    entry = OnCallEntry.objects.get(tenant=alpha.tenant)
    assert (entry.membership_id, entry.weekdays) == (alpha.agent.pk, [5, 6])
    assert (entry.start_minute, entry.end_minute) == (22 * 60, 6 * 60)
    roster = client.get("/manage/escalation/on-call/").content.decode()
    assert "Saturday, Sunday" in roster and "22:00" in roster and "+44 7700 900123" in roster

    url = f"/manage/escalation/on-call/{entry.pk}/"
    data = form_fields(client.get(url).content.decode(), "on-call")
    assert data["start_minute"] == "22:00" and data["end_minute"] == "06:00"
    data.update({"end_minute": "24:00", "weekdays": []})
    data.pop("active")
    data["membership"] = str(alpha.lead.pk)  # ignored: an entry keeps its member
    assert client.post(url, data).status_code == 302
    entry.refresh_from_db()
    assert (entry.weekdays, entry.end_minute, entry.active) == ([], 1440, False)
    assert entry.membership_id == alpha.agent.pk

    data.update({"start_minute": "7"})
    response = client.post(url, data)
    assert response.status_code == 400 and "is not a time HH:MM" in response.content.decode()

    assert client.get(f"{url}delete/").status_code == 200
    assert client.post(f"{url}delete/").status_code == 302
    assert not OnCallEntry.objects.filter(pk=entry.pk).exists()


def test_on_call_refuses_customers_and_other_tenants_members(alpha: World, beta: World) -> None:
    client = alpha.client(alpha.admin)
    for membership in (alpha.contact1, beta.agent):
        response = client.post(
            "/manage/escalation/on-call/",
            {"membership": membership.pk, "start_minute": "00:00", "end_minute": "24:00"},
        )
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    assert not OnCallEntry.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/manage/escalation/",
        "/manage/escalation/on-call/",
        "/manage/escalation/on-call/{pk}/",
        "/manage/escalation/on-call/{pk}/delete/",
    ],
)
def test_roles(alpha: World, path: str) -> None:
    entry = OnCallEntry.objects.create(tenant=alpha.tenant, membership=alpha.agent)
    url = path.format(pk=entry.pk)
    for member in (alpha.agent, alpha.owner1):
        assert alpha.client(member).get(url).status_code == 404, (member, url)
        assert alpha.client(member).post(url, {}).status_code == 404, (member, url)
    anonymous = Client(HTTP_HOST=alpha.host).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert OnCallEntry.objects.filter(pk=entry.pk).exists()
    assert not EscalationPolicy.objects.exists()


def test_other_tenants_entry_is_404(alpha: World, beta: World) -> None:
    entry = OnCallEntry.objects.create(
        tenant=alpha.tenant, membership=alpha.agent, pager_address="ALPHA-PAGER"
    )
    client = beta.client(beta.admin)
    for path in ("", "delete/"):
        assert client.get(f"/manage/escalation/on-call/{entry.pk}/{path}").status_code == 404
        assert client.post(f"/manage/escalation/on-call/{entry.pk}/{path}", {}).status_code == 404
    assert "ALPHA-PAGER" not in client.get("/manage/escalation/on-call/").content.decode()
    assert OnCallEntry.objects.filter(pk=entry.pk).exists()
