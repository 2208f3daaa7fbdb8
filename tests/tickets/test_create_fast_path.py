"""Ticket creation writes each row once with its final values and the API answers from what it
wrote: the answer, the rows and the log must be what the slower read-back would have given."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import Membership
from sla.clocks import sla_recompute
from sla.models import SLAClock
from tests.conftest import World
from tests.factories import MembershipFactory, ProductAreaFactory, TeamFactory
from tickets.models import ProductArea, Ticket
from tickets.services import custom_field_create, team_members_set

from .conftest import Setup, api, new_ticket, utc

MONDAY_10 = utc(2026, 3, 2, 10)
CLOCK_FIELDS = (
    "metric",
    "started_at",
    "due_at",
    "warn_at",
    "status",
    "breached_at",
    "version",
    "explanation",
    "next_alarm_at",
    "next_alarm_level",
)


def clock_rows(ticket: Ticket) -> list[dict[str, Any]]:
    return list(SLAClock.objects.filter(ticket=ticket).order_by("id").values(*CLOCK_FIELDS))


def routed_setup(world: World) -> tuple[ProductArea, Membership]:
    team = TeamFactory(tenant=world.tenant, assignment_strategy="round_robin")
    agent: Membership = MembershipFactory(
        tenant=world.tenant, role="agent", user__email="rr@alpha.test"
    )
    team_members_set(team=team, members=[agent])
    area: ProductArea = ProductAreaFactory(tenant=world.tenant, team=team)
    custom_field_create(tenant=world.tenant, key="since", label="Since", kind="date")
    return area, agent


def test_the_create_answer_is_what_a_read_gives(alpha: World, setup: Setup) -> None:
    area, agent = routed_setup(alpha)
    client = api(alpha, alpha.agent)
    body = {
        "subject": "Checkout broken",
        "description": "It *fails*.",
        "requester_email": alpha.contact1.user.email,
        "severity": setup.high.pk,
        "product_area": area.pk,
        "custom_fields": {"since": "2026-03-01"},
        "cc": ["Boss@Alpha.test"],
    }
    with time_machine.travel(MONDAY_10, tick=False):
        created = client.post("/api/v1/tickets/", body)
        assert created.status_code == 201, created.content
        data = created.json()
        read = client.get(f"/api/v1/tickets/{data['id']}/")
    assert data == read.json()
    assert created["ETag"] == read["ETag"]
    assert (data["team"], data["assignee"]) == (area.team_id, agent.pk)
    assert [c["metric"] for c in data["sla"]] == ["first_response", "resolution"]
    assert data["sla"][0]["due_at"] == "2026-03-02T11:00:00+00:00"
    ticket = Ticket.objects.get(pk=data["id"])
    # The log in order: created, then what routing did (by the system).
    events = list(ticket.events.order_by("id").values_list("kind", "actor_id"))
    assert events == [("created", alpha.agent.user_id), ("team", None), ("assignee", None)]


def test_an_import_born_breached_answers_its_escalations_too(alpha: World, setup: Setup) -> None:
    """Alarms already due are queued at once, so the answer is read back (a worker may have
    fired them); it still matches a read."""
    client = api(alpha, alpha.admin)
    body = {
        "subject": "Imported",
        "requester_email": alpha.contact1.user.email,
        "severity": setup.high.pk,
        "opened_at": "2026-02-23T10:00:00Z",
    }
    with time_machine.travel(MONDAY_10, tick=False):
        created = client.post("/api/v1/tickets/", body)
        assert created.status_code == 201, created.content
        read = client.get(f"/api/v1/tickets/{created.json()['id']}/")
    assert created.json() == read.json()
    assert {c["status"] for c in created.json()["sla"]} == {"breached"}


def test_new_clocks_are_what_a_full_refresh_computes(alpha: World, setup: Setup) -> None:
    """Planned in memory and inserted once: a recompute from the stored rows moves nothing (and
    so bumps no version, which the ETA tasks carry)."""
    with time_machine.travel(MONDAY_10, tick=False):
        tickets = [
            new_ticket(alpha, severity=setup.high),
            new_ticket(alpha, severity=setup.low),
            new_ticket(alpha, severity=setup.high, opened_at=MONDAY_10 - dt.timedelta(days=3)),
        ]
        for ticket in tickets:
            before = clock_rows(ticket)
            assert before and all(row["version"] == 2 for row in before)
            sla_recompute(ticket=ticket)
            assert clock_rows(ticket) == before
    low = clock_rows(tickets[1])
    assert low[1]["due_at"] == utc(2026, 3, 5, 10)  # 3 business days, same time of day
    assert low[0]["next_alarm_at"] == low[0]["warn_at"]


def test_the_sla_note_is_written_with_the_ticket(alpha: World, setup: Setup) -> None:
    no_contract = new_ticket(alpha, requester=alpha.contact2, severity=setup.high)
    no_contract.refresh_from_db()
    assert no_contract.sla_note.startswith("No support contract")
    assert not SLAClock.objects.filter(ticket=no_contract).exists()
    no_severity = new_ticket(alpha)
    no_severity.refresh_from_db()
    assert no_severity.sla_note == "No severity chosen: no SLA clock runs."


def test_an_api_create_costs_a_bounded_number_of_queries(alpha: World, setup: Setup) -> None:
    area, _ = routed_setup(alpha)
    client = api(alpha, alpha.agent)
    body = {
        "subject": "Counted",
        "requester_email": alpha.contact1.user.email,
        "severity": setup.high.pk,
        "product_area": area.pk,
    }
    with time_machine.travel(MONDAY_10, tick=False):
        client.post("/api/v1/tickets/", body)  # the token's first use is recorded once
        with CaptureQueriesContext(connection) as ctx:
            assert client.post("/api/v1/tickets/", body).status_code == 201
    # 22 today; about twice that when the counter took three statements, each clock was
    # inserted then re-saved after reading its pauses, escalations and severity, routing wrote
    # an UPDATE and the answer read the ticket, its clocks and escalations back.
    assert len(ctx.captured_queries) <= 24, "\n".join(q["sql"] for q in ctx.captured_queries)
