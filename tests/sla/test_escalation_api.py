"""The escalation API: a customer's own escalation (409 before the acknowledgement window is
breached, once after), the tenant's escalation policy, the on-call roster, the escalation list —
with wrong-role and cross-tenant checks and flat query counts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.notifications.models import Notification, NotificationDelivery
from sla.escalation.alarms import alarms_sweep
from sla.models import Escalation
from tests.conftest import World
from tickets.models import Ticket

from .conftest import api
from .escalation_support import EscalationSetup, make_escalation_setup, utc

T0 = utc(2026, 3, 2, 10)


@pytest.fixture
def esc(alpha: World) -> EscalationSetup:
    return make_escalation_setup(alpha)


def queries(ctx: CaptureQueriesContext) -> int:
    return sum(1 for q in ctx.captured_queries if not q["sql"].startswith("UPDATE"))


def escalate_url(ticket: Ticket) -> str:
    return f"/api/v1/tickets/{ticket.pk}/escalate/"


def test_customer_escalation_waits_for_the_acknowledgement_breach(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
        early = api(w, w.contact1).post(escalate_url(ticket), {"reason": "Nobody answers"})
        assert early.status_code == 409
        assert early["Content-Type"] == "application/problem+json"
        body = early.json()
        assert body["allowed_from"] == (T0 + dt.timedelta(hours=1)).isoformat()
        assert "2026-03-02T11:00:00+00:00" in body["detail"]
        state = api(w, w.contact1).get(escalate_url(ticket)).json()
        assert state["allowed"] is False
        assert state["allowed_from"] == (T0 + dt.timedelta(hours=1)).isoformat()

    with time_machine.travel(T0 + dt.timedelta(minutes=61), tick=False):
        response = api(w, w.contact1).post(escalate_url(ticket), {"reason": "Nobody answers"})
        assert response.status_code == 201, response.content
        created = response.json()
        assert created["kind"] == "customer"
        assert created["recipients"] == ["escalations@alpha.test", "ae@alpha.test"]
        again = api(w, w.contact1).post(escalate_url(ticket))
        assert again.status_code == 200
        assert again.json()["id"] == created["id"]
    escalation = Escalation.objects.get(ticket=ticket, kind="customer")
    assert escalation.raised_by == w.contact1
    assert escalation.note == "Nobody answers"
    emails = set(
        NotificationDelivery.objects.filter(
            source_key=f"esc:{escalation.pk}", channel="email"
        ).values_list("recipient", flat=True)
    )
    assert emails == {"escalations@alpha.test", "ae@alpha.test"}


def test_customer_escalation_roles_and_tenancy(esc: EscalationSetup, beta: World) -> None:
    w = esc.world
    with time_machine.travel(T0 - dt.timedelta(hours=2), tick=False):
        ticket = esc.ticket()
    # Staff do not escalate through the customer's door; another contact of the organization
    # who cannot see the ticket gets a 404, like another tenant.
    assert api(w, w.agent).post(escalate_url(ticket)).status_code == 403
    assert api(w, w.owner2).post(escalate_url(ticket)).status_code == 404
    assert api(beta, beta.contact1).post(escalate_url(ticket)).status_code == 404
    assert api(w, w.agent).get(escalate_url(ticket)).json()["allowed"] is True
    assert api(w, w.owner1).post(escalate_url(ticket)).status_code == 201  # the org's owner


def test_an_ineligible_severity_cannot_be_escalated(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0 - dt.timedelta(hours=2), tick=False):
        ticket = esc.ticket(severity=esc.low)
    response = api(w, w.contact1).post(escalate_url(ticket))
    assert response.status_code == 409
    assert "not eligible" in response.json()["detail"]
    assert response.json()["allowed_from"] is None


def test_a_ticket_acknowledged_in_time_cannot_be_escalated(esc: EscalationSetup) -> None:
    from sla.clocks import sla_agent_public_reply

    w = esc.world
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
        sla_agent_public_reply(ticket=ticket, at=T0 + dt.timedelta(minutes=10))
    with time_machine.travel(T0 + dt.timedelta(hours=3), tick=False):
        response = api(w, w.contact1).post(escalate_url(ticket))
    assert response.status_code == 409
    assert "in time" in response.json()["detail"]


def test_escalation_policy_defaults_and_admin_updates(esc: EscalationSetup) -> None:
    w = esc.world
    policy = api(w, w.agent).get("/api/v1/escalation-policy/").json()
    assert [lv["level"] for lv in policy["levels"]] == [0, 1, 2, 3]
    assert policy["levels"][2] == {
        "level": 2,
        "offset_minutes": 60,
        "recipients": ["manager", "distribution_list"],
        "channels": ["email", "inapp"],
        "metrics": [],
        "active": True,
    }
    assert policy["quiet_hours_start"] == 22 * 60
    body = {
        "distribution_emails": ["duty@alpha.test"],
        "quiet_hours_enabled": False,
        "levels": [
            {"level": 0, "recipients": ["assignee"]},
            {"level": 1, "offset_minutes": 0, "recipients": ["team_lead"], "channels": ["pager"]},
            {"level": 2, "offset_minutes": 15, "recipients": ["account_executive"]},
        ],
    }
    assert api(w, w.agent).put("/api/v1/escalation-policy/", body).status_code == 403
    assert api(w, w.contact1).get("/api/v1/escalation-policy/").status_code == 403
    response = api(w, w.admin).put("/api/v1/escalation-policy/", body)
    assert response.status_code == 200, response.content
    saved = response.json()
    assert saved["distribution_emails"] == ["duty@alpha.test"]
    assert [(lv["level"], lv["offset_minutes"]) for lv in saved["levels"]] == [
        (0, 0),
        (1, 0),
        (2, 15),
    ]
    bad = api(w, w.admin).patch(
        "/api/v1/escalation-policy/",
        {"levels": [{"level": 1, "recipients": ["the_ceo"]}]},
    )
    assert bad.status_code == 400
    assert bad["Content-Type"] == "application/problem+json"


def test_on_call_roster_api(esc: EscalationSetup, beta: World) -> None:
    w = esc.world
    body = {"membership": w.agent.pk, "weekdays": [5, 6], "pager_address": "+15550101"}
    assert api(w, w.agent).post("/api/v1/on-call/", body).status_code == 403
    created = api(w, w.admin).post("/api/v1/on-call/", body)
    assert created.status_code == 201, created.content
    entry = created.json()
    assert entry["weekdays"] == [5, 6]
    customer = api(w, w.admin).post("/api/v1/on-call/", {"membership": w.contact1.pk})
    assert customer.status_code == 400
    foreign = api(w, w.admin).post("/api/v1/on-call/", {"membership": beta.agent.pk})
    assert foreign.status_code == 400
    url = f"/api/v1/on-call/{entry['id']}/"
    patched = api(w, w.admin).patch(url, {"start_minute": 480, "end_minute": 1200})
    assert patched.json()["start_minute"] == 480
    assert api(w, w.agent).get("/api/v1/on-call/").json()["results"][0]["id"] == entry["id"]
    assert api(beta, beta.admin).get(url).status_code == 404
    assert api(w, w.admin).delete(url).status_code == 204


def test_escalation_list_for_staff_with_a_flat_query_count(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        tickets = [esc.ticket(opened_at=T0 - dt.timedelta(minutes=61)) for _ in range(2)]
        alarms_sweep()
    client = api(w, w.agent)
    with CaptureQueriesContext(connection) as few:
        response = client.get("/api/v1/escalations/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 4
    with time_machine.travel(T0, tick=False):
        tickets += [esc.ticket(opened_at=T0 - dt.timedelta(minutes=61)) for _ in range(3)]
        alarms_sweep()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/escalations/")
    assert len(response.json()["results"]) == 10
    # (A token's last use is written at most once a minute: not part of the page's cost.)
    assert queries(many) == queries(few)
    only = client.get("/api/v1/escalations/", {"ticket": tickets[0].pk}).json()["results"]
    assert {e["ticket"] for e in only} == {tickets[0].pk}
    assert api(w, w.contact1).get("/api/v1/escalations/").status_code == 403


def test_notifications_api_own_only_and_mark_read(esc: EscalationSetup, beta: World) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        esc.ticket(opened_at=T0 - dt.timedelta(minutes=50))
        alarms_sweep()
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        alarms_sweep()
    mine = api(w, w.agent).get("/api/v1/notifications/").json()["results"]
    assert len(mine) == 2  # the warning and the breach
    assert {n["kind"] for n in mine} == {"sla_warning", "sla_escalation"}
    lead_ids = set(Notification.objects.filter(recipient=w.lead).values_list("pk", flat=True))
    assert not lead_ids & {n["id"] for n in mine}
    one = mine[0]["id"]
    assert api(w, w.lead).get(f"/api/v1/notifications/{one}/").status_code == 404
    assert (
        api(beta, beta.admin).patch(f"/api/v1/notifications/{one}/", {"read": True}).status_code
        == 404
    )
    read = api(w, w.agent).patch(f"/api/v1/notifications/{one}/", {"read": True})
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    unread = api(w, w.agent).get("/api/v1/notifications/", {"unread": "1"}).json()["results"]
    assert [n["id"] for n in unread] == [mine[1]["id"]]


def test_the_bell_and_the_notifications_page(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(opened_at=T0 - dt.timedelta(minutes=50))
        alarms_sweep()
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        alarms_sweep()
    client = w.client(w.agent)
    bell = client.get("/agent/notifications/?bell=1")
    assert bell.status_code == 200
    assert b'class="badge bell-count">2<' in bell.content
    page = client.get("/agent/notifications/")
    assert page.status_code == 200
    assert ticket.reference.encode() in page.content
    assert client.post("/agent/notifications/", {"all": "1"}).status_code == 303
    assert b"bell-count" not in client.get("/agent/notifications/?bell=1").content
    assert w.client(w.contact1).get("/agent/notifications/").status_code == 404
    assert w.client().get("/agent/notifications/").status_code == 302
    from django.template.loader import render_to_string

    assert "/agent/notifications/?bell=1" in render_to_string("agent/_bell.html")
