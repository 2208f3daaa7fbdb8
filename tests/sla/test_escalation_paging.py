"""Emergency paging (seeds 002 and 004): who is on call, paging everyone at once at any hour,
re-paging until someone acknowledges (from the page's link or the API), downgrading a false
emergency (billable without a contract), and when a new ticket needs a page at all."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from channels.notifications.models import Notification, NotificationDelivery
from channels.notifications.services import notification_deliver
from sla.escalation.paging import (
    emergency_downgrade,
    emergency_page,
    emergency_ticket_opened,
    needs_emergency_page,
    on_call_now,
    page_acknowledge,
    pages_repage_due,
)
from sla.escalation.services import escalation_policy_update, on_call_entry_create
from sla.models import EmergencyPage
from tests.conftest import World
from tests.factories import MembershipFactory
from tickets.models import Ticket

from .conftest import api
from .escalation_support import EscalationSetup, make_escalation_setup, utc

NIGHT = utc(2026, 3, 4, 2, 30)  # Wednesday 02:30 UTC: quiet hours for everyone


@pytest.fixture
def esc(alpha: World) -> EscalationSetup:
    return make_escalation_setup(alpha)


def test_needs_emergency_page(esc: EscalationSetup) -> None:
    office = esc.calendar  # 24/7 would always be open; use a Mon-Fri 09-17 calendar instead
    from sla.services import calendar_create

    office = calendar_create(
        tenant=esc.world.tenant,
        name="Office",
        timezone="Europe/Berlin",
        hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    )
    tuesday_noon = utc(2026, 3, 3, 11)  # 12:00 in Berlin
    tuesday_night = utc(2026, 3, 3, 22)
    assert needs_emergency_page(
        is_emergency=True, pages_out_of_hours=False, calendar=office, at=tuesday_noon
    )
    assert not needs_emergency_page(
        is_emergency=False, pages_out_of_hours=False, calendar=office, at=tuesday_night
    )
    # spaceOS' incident: only out of the calendar's hours.
    assert not needs_emergency_page(
        is_emergency=False, pages_out_of_hours=True, calendar=office, at=tuesday_noon
    )
    assert needs_emergency_page(
        is_emergency=False, pages_out_of_hours=True, calendar=office, at=tuesday_night
    )
    assert needs_emergency_page(
        is_emergency=False, pages_out_of_hours=True, calendar=None, at=tuesday_noon
    )


def test_on_call_roster_by_weekday_and_hours_with_the_whole_team_as_fallback(
    esc: EscalationSetup,
) -> None:
    w = esc.world
    # Nobody rostered: every active agent.
    everyone = {r.email for r in on_call_now(tenant=w.tenant, at=NIGHT)}
    assert everyone == {w.agent.user.email, w.lead.user.email, esc.manager.user.email}
    night_owl = MembershipFactory(tenant=w.tenant, role="agent", tier="agent")
    on_call_entry_create(
        tenant=w.tenant,
        membership=night_owl,
        start_minute=22 * 60,
        end_minute=6 * 60,
        pager_address="+15550100",
    )
    on_call_entry_create(
        tenant=w.tenant,
        membership=w.lead,
        weekdays=[0, 1, 2, 3, 4],
        start_minute=9 * 60,
        end_minute=17 * 60,
    )
    at_night = on_call_now(tenant=w.tenant, at=NIGHT)
    assert [(r.email, r.pager_address) for r in at_night] == [(night_owl.user.email, "+15550100")]
    assert [r.email for r in on_call_now(tenant=w.tenant, at=utc(2026, 3, 4, 10))] == [
        w.lead.user.email
    ]
    # Saturday 12:00: a gap in the roster pages everyone.
    assert len(on_call_now(tenant=w.tenant, at=utc(2026, 3, 7, 12))) == 4


def test_an_emergency_pages_everyone_on_call_at_once_any_hour(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(NIGHT, tick=False):
        ticket = esc.ticket(subject="Website hacked")
        page = emergency_ticket_opened(ticket=ticket)
        assert emergency_page(ticket=ticket) == page  # once per ticket
    assert page.rounds == 1
    assert page.next_page_at == NIGHT + dt.timedelta(minutes=10)
    deliveries = NotificationDelivery.objects.filter(source_key=f"page:{page.pk}:1")
    by_channel: dict[str, set[str]] = {}
    for d in deliveries:
        by_channel.setdefault(d.channel, set()).add(d.recipient)
        # Pages never wait for quiet hours.
        assert d.next_attempt_at == NIGHT
    agents = {w.agent.user.email, w.lead.user.email, esc.manager.user.email}
    assert by_channel == {"pager": agents, "email": agents, "inapp": agents}
    assert Notification.objects.filter(kind="emergency_page").count() == 3
    pager = deliveries.get(channel="pager", recipient=w.agent.user.email)
    with time_machine.travel(NIGHT, tick=False):
        assert notification_deliver(delivery_id=pager.pk) == "sent"
        assert notification_deliver(delivery_id=pager.pk) == "not-due"


def test_repage_until_acknowledged(esc: EscalationSetup) -> None:
    w = esc.world
    escalation_policy_update(tenant=w.tenant, repage_minutes=5, max_pages=3)
    with time_machine.travel(NIGHT, tick=False):
        page = emergency_page(ticket=esc.ticket())
    assert pages_repage_due(now=NIGHT + dt.timedelta(minutes=4)) == 0
    assert pages_repage_due(now=NIGHT + dt.timedelta(minutes=5)) == 1
    assert pages_repage_due(now=NIGHT + dt.timedelta(minutes=5)) == 0
    page.refresh_from_db()
    assert page.rounds == 2
    assert NotificationDelivery.objects.filter(source_key=f"page:{page.pk}:2").count() == 9
    with time_machine.travel(NIGHT + dt.timedelta(minutes=6), tick=False):
        page = page_acknowledge(page=page, by=w.lead)
        page_acknowledge(page=page, by=w.agent)  # the first acknowledgement counts
    assert page.acknowledged_by == w.lead
    assert page.next_page_at is None
    assert pages_repage_due(now=NIGHT + dt.timedelta(hours=1)) == 0


def test_repaging_stops_after_max_pages(esc: EscalationSetup) -> None:
    escalation_policy_update(tenant=esc.world.tenant, repage_minutes=1, max_pages=2)
    with time_machine.travel(NIGHT, tick=False):
        page = emergency_page(ticket=esc.ticket())
    assert pages_repage_due(now=NIGHT + dt.timedelta(minutes=1)) == 1
    page.refresh_from_db()
    assert (page.rounds, page.next_page_at) == (2, None)


def test_acknowledge_from_the_pages_link(esc: EscalationSetup) -> None:
    w = esc.world
    page = emergency_page(ticket=esc.ticket())
    url = f"/agent/pages/{page.pk}/ack/"
    client = w.client(w.agent)
    response = client.get(url)
    assert response.status_code == 200
    assert b"acknowledge" in response.content.lower()
    page.refresh_from_db()
    assert page.acknowledged_at is None  # a GET (a link preview) changes nothing
    assert client.post(url).status_code == 303
    page.refresh_from_db()
    assert page.acknowledged_by == w.agent
    # A customer does not see agent pages; anonymous callers are sent to log in.
    assert w.client(w.contact1).get(url).status_code == 404
    assert w.client().get(url).status_code == 302


def test_acknowledge_by_api(esc: EscalationSetup, beta: World) -> None:
    w = esc.world
    page = emergency_page(ticket=esc.ticket())
    url = f"/api/v1/pages/{page.pk}/acknowledge/"
    assert api(w, w.contact1).post(url).status_code == 403
    response = api(w, w.lead).post(url)
    assert response.status_code == 200
    assert response.json()["acknowledged_by"] == w.lead.pk
    assert api(beta, beta.admin).post(url).status_code == 404
    listed = api(w, w.agent).get("/api/v1/pages/").json()["results"]
    assert [p["id"] for p in listed] == [page.pk]


def test_downgrade_makes_a_ticket_without_contract_billable(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(NIGHT, tick=False):
        no_contract = esc.ticket(organization=w.org2)
        covered = esc.ticket()
        page = emergency_page(ticket=no_contract)
        emergency_page(ticket=covered)
        emergency_downgrade(ticket=no_contract, by=w.agent)
        emergency_downgrade(ticket=covered, by=w.agent)
    page.refresh_from_db()
    assert page.downgraded_by == w.agent
    assert page.next_page_at is None
    assert Ticket.objects.get(pk=no_contract.pk).billable is True
    assert Ticket.objects.get(pk=covered.pk).billable is False
    assert pages_repage_due(now=NIGHT + dt.timedelta(hours=1)) == 0
    with pytest.raises(PermissionDenied):
        emergency_downgrade(ticket=covered, by=w.contact1)


def test_downgrade_by_api(esc: EscalationSetup) -> None:
    w = esc.world
    page = emergency_page(ticket=esc.ticket(organization=w.org2))
    response = api(w, w.agent).post(f"/api/v1/pages/{page.pk}/downgrade/")
    assert response.status_code == 200
    assert response.json()["billable"] is True
    assert response.json()["page"]["downgraded_by"] == w.agent.pk
    assert EmergencyPage.objects.get(pk=page.pk).downgraded_at is not None


def test_the_ticket_services_created_event_pages_when_asked(esc: EscalationSetup) -> None:
    from sla.escalation.subscribers import ticket_event_to_paging

    ticket = esc.ticket()
    event = {"tenant_id": esc.world.tenant.pk, "ticket_id": ticket.pk, "page_on_call": False}
    ticket_event_to_paging("ticket.created", event)
    assert not EmergencyPage.objects.exists()
    ticket_event_to_paging("ticket.created", {**event, "page_on_call": True})
    ticket_event_to_paging("ticket.created", {**event, "page_on_call": True})
    assert EmergencyPage.objects.get().ticket_id == ticket.pk
