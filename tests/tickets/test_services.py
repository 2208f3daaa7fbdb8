"""The ticket services: the transitions table, replies and notes against the SLA clocks,
catalog rules (custom fields, priority matrix, impact text), CCs, and the events they write."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from sla.models import SLAClock
from tests.conftest import World
from tests.factories import (
    BusinessImpactFactory,
    CustomFieldFactory,
    PriorityFactory,
    SeverityFactory,
    TicketTypeFactory,
)
from tickets.models import Ticket, TicketEvent, TicketType
from tickets.services import (
    ALLOWED_TRANSITIONS,
    custom_field_create,
    custom_fields_clean,
    priority_matrix_set,
    ticket_add_cc,
    ticket_note,
    ticket_reclassify,
    ticket_remove_cc,
    ticket_reply,
    ticket_transition,
    ticket_update,
)

from .conftest import Setup, new_ticket, utc

S = Ticket.Status
STATUSES = [s for s, _ in S.choices]
EXPECTED: dict[str, set[str]] = {
    S.NEW: {S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED},
    S.OPEN: {S.PENDING, S.ON_HOLD, S.SOLVED},
    S.PENDING: {S.OPEN, S.SOLVED, S.ON_HOLD},
    S.ON_HOLD: {S.OPEN, S.SOLVED},
    S.SOLVED: {S.OPEN, S.CLOSED},
    S.CLOSED: set(),
}


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.order_by("id").values_list("kind", flat=True))


def clocks(ticket: Ticket) -> dict[str, SLAClock]:
    return {c.metric: c for c in SLAClock.objects.filter(ticket=ticket)}


def test_the_table_is_the_one_in_the_brief() -> None:
    assert {k: set(v) for k, v in ALLOWED_TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(
    ("old", "new"), [(o, n) for o, n in itertools.product(STATUSES, STATUSES) if o != n]
)
def test_every_transition_allowed_or_refused(alpha: World, old: str, new: str) -> None:
    ticket = new_ticket(alpha)
    Ticket.objects.filter(pk=ticket.pk).update(status=old)
    ticket.refresh_from_db()
    if new in EXPECTED[old]:
        ticket_transition(ticket=ticket, status=new, by=alpha.agent)
        ticket.refresh_from_db()
        assert ticket.status == new
        event = ticket.events.get(kind="status")
        assert (event.before, event.after, event.actor_id) == (old, new, alpha.agent.user_id)
        assert (ticket.solved_at is not None) == (new == S.SOLVED)
        assert (ticket.closed_at is not None) == (new == S.CLOSED)
    else:
        with pytest.raises(ValidationError) as exc:
            ticket_transition(ticket=ticket, status=new, by=alpha.agent)
        assert "status" in exc.value.message_dict
        ticket.refresh_from_db()
        assert ticket.status == old
        assert not ticket.events.filter(kind="status").exists()


def test_transitions_are_staff_only(alpha: World, beta: World) -> None:
    ticket = new_ticket(alpha)
    for who in (alpha.contact1, alpha.owner1, beta.agent):
        with pytest.raises(ValidationError):
            ticket_transition(ticket=ticket, status=S.OPEN, by=who)
    with pytest.raises(ValidationError):
        ticket_transition(ticket=ticket, status="bogus", by=alpha.agent)


def test_first_response_met_by_first_public_agent_reply_not_by_a_note(
    alpha: World, setup: Setup
) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        ticket = new_ticket(alpha, severity=setup.high)
    first = clocks(ticket)["first_response"]
    assert first.status == "running" and first.due_at == utc(2026, 3, 2, 11)

    with time_machine.travel(utc(2026, 3, 2, 10, 10), tick=False):
        ticket_note(ticket=ticket, body="Looks like the toner.", by=alpha.agent)
    first.refresh_from_db()
    assert first.met_at is None and first.status == "running"
    ticket.refresh_from_db()
    assert ticket.status == S.NEW  # a note is not a response

    with time_machine.travel(utc(2026, 3, 2, 10, 20), tick=False):
        ticket_reply(ticket=ticket, body="We are on it.", author=alpha.agent.user)
    first.refresh_from_db()
    ticket.refresh_from_db()
    assert (first.status, first.met_at) == ("met", utc(2026, 3, 2, 10, 20))
    assert ticket.status == S.OPEN
    assert ticket.last_agent_reply_at == utc(2026, 3, 2, 10, 20)
    assert kinds(ticket) == ["created", "note_added", "reply_added", "status"]


def test_a_late_first_reply_is_a_breach(alpha: World, setup: Setup) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        ticket = new_ticket(alpha, severity=setup.high)
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        ticket_reply(ticket=ticket, body="Sorry for the wait.", author=alpha.lead.user)
    first = clocks(ticket)["first_response"]
    assert (first.status, first.breached_at) == ("breached", utc(2026, 3, 2, 11))


def test_customer_reply_starts_next_response_and_agent_reply_meets_it(
    alpha: World, setup: Setup
) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        ticket = new_ticket(alpha, severity=setup.high)
        ticket_reply(ticket=ticket, body="Hello", author=alpha.agent.user)
    with time_machine.travel(utc(2026, 3, 2, 13), tick=False):
        ticket_reply(ticket=ticket, body="Still broken", author=alpha.contact1.user)
    nxt = clocks(ticket)["next_response"]
    assert (nxt.status, nxt.started_at, nxt.due_at) == (
        "running",
        utc(2026, 3, 2, 13),
        utc(2026, 3, 2, 15),
    )
    ticket.refresh_from_db()
    assert ticket.last_customer_reply_at == utc(2026, 3, 2, 13)
    with time_machine.travel(utc(2026, 3, 2, 14), tick=False):
        ticket_reply(ticket=ticket, body="Fixed?", author=alpha.agent.user)
    nxt.refresh_from_db()
    assert nxt.status == "met"


def test_pending_pauses_resolution_and_customer_reply_resumes(alpha: World, setup: Setup) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        ticket = new_ticket(alpha, severity=setup.high)  # resolution 8 business hours: Tue 10:00
        ticket_reply(
            ticket=ticket, body="Which printer?", author=alpha.agent.user, status="pending"
        )
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING
    resolution = clocks(ticket)["resolution"]
    assert (resolution.status, resolution.due_at) == ("paused", None)

    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        ticket_reply(ticket=ticket, body="The one on floor 2.", author=alpha.contact1.user)
    ticket.refresh_from_db()
    resolution.refresh_from_db()
    assert ticket.status == S.OPEN  # a customer reply moves pending → open
    # Two business hours paused: due moves from Tue 10:00 to Tue 12:00.
    assert (resolution.status, resolution.due_at) == ("running", utc(2026, 3, 3, 12))


def test_customer_reply_reopens_a_solved_ticket(alpha: World, setup: Setup) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        ticket = new_ticket(alpha, severity=setup.high)
        ticket_reply(ticket=ticket, body="Done.", author=alpha.agent.user, status="solved")
    ticket.refresh_from_db()
    assert ticket.status == S.SOLVED and ticket.solved_at == utc(2026, 3, 2, 10)
    assert clocks(ticket)["resolution"].status == "met"
    with time_machine.travel(utc(2026, 3, 2, 11), tick=False):
        ticket_reply(ticket=ticket, body="It is back.", author=alpha.owner1.user)
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN and ticket.solved_at is None
    resolution = clocks(ticket)["resolution"]
    assert resolution.status == "running" and resolution.met_at is None
    # The solved hour does not count: due Tue 10:00 + 1 h.
    assert resolution.due_at == utc(2026, 3, 3, 11)
    status_events = ticket.events.filter(kind="status").order_by("id")
    assert [(e.before, e.after) for e in status_events] == [
        ("new", "solved"),
        ("solved", "open"),
    ]
    assert status_events.last().actor_id == alpha.owner1.user_id


def test_a_closed_ticket_takes_no_reply_but_takes_notes(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_transition(ticket=ticket, status="solved", by=alpha.agent)
    ticket_transition(ticket=ticket, status="closed", by=alpha.agent)
    for author in (alpha.contact1.user, alpha.agent.user):
        with pytest.raises(ValidationError) as exc:
            ticket_reply(ticket=ticket, body="Hello?", author=author)
        assert "closed" in str(exc.value)
    note = ticket_note(ticket=ticket, body="Customer called again.", by=alpha.agent)
    assert note.public is False


def test_notes_are_staff_only_and_replies_are_sanitised(alpha: World) -> None:
    ticket = new_ticket(alpha)
    with pytest.raises(ValidationError):
        ticket_note(ticket=ticket, body="sneaky", by=alpha.contact1)
    with pytest.raises(ValidationError) as exc:
        ticket_reply(ticket=ticket, body="   ", author=alpha.contact1.user)
    assert "body" in exc.value.message_dict
    message = ticket_reply(
        ticket=ticket,
        body="**Bold** <script>alert(1)</script> [x](javascript:alert(1))",
        author=alpha.contact1.user,
    )
    assert "<strong>Bold</strong>" in message.body_html
    assert "<script" not in message.body_html and "javascript:" not in message.body_html
    assert message.body.startswith("**Bold**")  # the source is kept
    assert (message.from_staff, message.author_email) == (False, alpha.contact1.user.email)


def test_email_reply_without_a_user_and_duplicate_message_ids(alpha: World) -> None:
    ticket = new_ticket(alpha)
    message = ticket_reply(
        ticket=ticket,
        body="By mail",
        author=None,
        author_email="Boss@Alpha.test",
        channel="email",
        email_message_id="<abc@mail.alpha.test>",
    )
    assert (message.author_email, message.channel) == ("boss@alpha.test", "email")
    with pytest.raises(ValidationError) as exc:
        ticket_reply(
            ticket=ticket,
            body="By mail again",
            author=None,
            author_email="boss@alpha.test",
            email_message_id="<abc@mail.alpha.test>",
        )
    assert "email_message_id" in exc.value.message_dict


# --- catalogs -----------------------------------------------------------------------------------


@pytest.fixture
def fields(alpha: World) -> dict[str, object]:
    bug: TicketType = TicketTypeFactory(tenant=alpha.tenant, key="bug")
    question = TicketTypeFactory(tenant=alpha.tenant, key="question")
    where = custom_field_create(
        tenant=alpha.tenant,
        key="where",
        label="Where does it happen?",
        kind="select",
        options=[{"value": "browser", "label": "Browser"}, "mobile_app"],
        required=True,
        ticket_types=[bug],
    )
    CustomFieldFactory(tenant=alpha.tenant, key="seats", kind="number")
    CustomFieldFactory(tenant=alpha.tenant, key="since", kind="date")
    CustomFieldFactory(tenant=alpha.tenant, key="note", kind="text")
    return {"bug": bug, "question": question, "where": where}


def test_custom_fields_are_checked_against_the_catalog(alpha: World, fields: dict) -> None:
    bug, question = fields["bug"], fields["question"]
    ok = custom_fields_clean(
        tenant=alpha.tenant,
        ticket_type=bug,
        values={"where": "browser", "seats": "12", "since": "2026-03-01", "note": " hi "},
    )
    assert ok == {"where": "browser", "seats": 12, "since": "2026-03-01", "note": "hi"}
    with pytest.raises(ValidationError) as exc:
        custom_fields_clean(
            tenant=alpha.tenant,
            ticket_type=bug,
            values={"where": "desktop", "seats": "many", "since": "yesterday", "color": "red"},
        )
    assert set(exc.value.message_dict) == {
        "custom_fields.where",
        "custom_fields.seats",
        "custom_fields.since",
        "custom_fields.color",
    }
    with pytest.raises(ValidationError) as exc:  # required on bugs
        custom_fields_clean(tenant=alpha.tenant, ticket_type=bug, values={})
    assert list(exc.value.message_dict) == ["custom_fields.where"]
    with pytest.raises(ValidationError) as exc:  # not a question's field
        custom_fields_clean(tenant=alpha.tenant, ticket_type=question, values={"where": "browser"})
    assert list(exc.value.message_dict) == ["custom_fields.where"]
    assert custom_fields_clean(tenant=alpha.tenant, ticket_type=question, values={}) == {}
    for bad in (True, [1], {"x": 1}):
        with pytest.raises(ValidationError):
            custom_fields_clean(tenant=alpha.tenant, ticket_type=None, values={"seats": bad})


def test_ticket_create_and_update_validate_custom_fields(alpha: World, fields: dict) -> None:
    with pytest.raises(ValidationError) as exc:
        new_ticket(alpha, ticket_type=fields["bug"], custom_fields={})
    assert "custom_fields.where" in exc.value.message_dict
    ticket = new_ticket(alpha, ticket_type=fields["bug"], custom_fields={"where": "mobile_app"})
    assert ticket.custom_fields == {"where": "mobile_app"}
    ticket_update(ticket=ticket, by=alpha.agent, custom_fields={"where": "browser", "seats": 3})
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"where": "browser", "seats": 3}
    changes = ticket.events.filter(kind="custom_field").order_by("field")
    assert [(e.field, e.before, e.after) for e in changes] == [
        ("custom_fields.seats", None, 3),
        ("custom_fields.where", "mobile_app", "browser"),
    ]
    # A type change drops the fields the new type does not have.
    ticket_update(ticket=ticket, by=alpha.agent, ticket_type=fields["question"])
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"seats": 3}
    with pytest.raises(ValidationError):
        ticket_update(ticket=ticket, by=alpha.agent, custom_fields={"seats": "lots"})
    with pytest.raises(ValidationError):
        ticket_update(ticket=ticket, by=alpha.contact1, billable=True)


def test_priority_comes_from_the_matrix_unless_an_agent_chose_it(alpha: World) -> None:
    high, low = SeverityFactory(tenant=alpha.tenant), SeverityFactory(tenant=alpha.tenant)
    everyone = BusinessImpactFactory(tenant=alpha.tenant, key="everyone")
    single = BusinessImpactFactory(tenant=alpha.tenant, key="single")
    urgent, normal, minor = (PriorityFactory(tenant=alpha.tenant) for _ in range(3))
    priority_matrix_set(tenant=alpha.tenant, severity=high, business_impact=None, priority=normal)
    priority_matrix_set(
        tenant=alpha.tenant, severity=high, business_impact=everyone, priority=urgent
    )
    priority_matrix_set(tenant=alpha.tenant, severity=low, business_impact=None, priority=minor)

    assert new_ticket(alpha, severity=high, business_impact=everyone).priority == urgent
    assert new_ticket(alpha, severity=high, business_impact=single).priority == normal
    assert new_ticket(alpha).priority is None

    ticket = new_ticket(alpha, severity=high, business_impact=single)
    ticket_update(ticket=ticket, by=alpha.agent, business_impact=everyone)
    assert ticket.priority == urgent  # the matrix follows the impact
    ticket_reclassify(ticket=ticket, severity=low, by=alpha.agent)
    assert ticket.priority == minor  # … and the severity
    ticket_update(ticket=ticket, by=alpha.agent, priority=urgent)
    assert (ticket.priority, ticket.priority_overridden) == (urgent, True)
    ticket_reclassify(ticket=ticket, severity=high, by=alpha.agent)
    assert ticket.priority == urgent  # an agent's choice stays
    ticket_update(ticket=ticket, by=alpha.agent, priority=None)
    assert (ticket.priority, ticket.priority_overridden) == (urgent, False)  # high x everyone
    events = ticket.events.filter(kind__in=["priority", "severity"]).order_by("id")
    assert [e.kind for e in events] == ["priority", "severity", "priority", "priority", "severity"]
    chosen = new_ticket(alpha, severity=high, priority=minor)
    assert (chosen.priority, chosen.priority_overridden) == (minor, True)


def test_impact_other_needs_text(alpha: World) -> None:
    other = BusinessImpactFactory(tenant=alpha.tenant, key="other", requires_text=True)
    with pytest.raises(ValidationError) as exc:
        new_ticket(alpha, business_impact=other)
    assert "business_impact_text" in exc.value.message_dict
    ticket = new_ticket(alpha, business_impact=other, business_impact_text="Our warehouse")
    assert ticket.business_impact_text == "Our warehouse"


def test_catalog_rows_of_another_tenant_are_refused(alpha: World, beta: World) -> None:
    foreign = TicketTypeFactory(tenant=beta.tenant)
    with pytest.raises(ValidationError) as exc:
        new_ticket(alpha, ticket_type=foreign, priority=PriorityFactory(tenant=beta.tenant))
    assert {"type", "priority"} <= set(exc.value.message_dict)


def test_emergency_without_contract_is_billable(alpha: World, setup: Setup) -> None:
    emergency = TicketTypeFactory(tenant=alpha.tenant, key="emergency", is_emergency=True)
    # org1 holds a contract (setup), org2 none.
    assert new_ticket(alpha, requester=alpha.contact2, ticket_type=emergency).billable is True
    assert new_ticket(alpha, requester=alpha.contact1, ticket_type=emergency).billable is False
    assert new_ticket(alpha, requester=alpha.contact2).billable is False


def test_cc_add_and_remove_with_events(alpha: World) -> None:
    ticket = new_ticket(alpha, cc=["A@x.test", "a@x.test", alpha.contact1.user.email])
    assert ticket.cc == ["a@x.test"]  # de-duplicated, never the requester
    added = ticket_add_cc(ticket=ticket, emails=["b@x.test", "A@X.test"], by=alpha.contact1)
    assert added == ["b@x.test"] and ticket.cc == ["a@x.test", "b@x.test"]
    with pytest.raises(ValidationError) as exc:
        ticket_add_cc(ticket=ticket, emails=["not an address"], by=alpha.agent)
    assert "cc" in exc.value.message_dict
    assert ticket_remove_cc(ticket=ticket, emails=["A@x.test", "zz@x.test"], by=alpha.agent) == [
        "a@x.test"
    ]
    ticket.refresh_from_db()
    assert ticket.cc == ["b@x.test"]
    events = ticket.events.filter(kind__in=["cc_added", "cc_removed"]).order_by("id")
    assert [(e.kind, e.before, e.after) for e in events] == [
        ("cc_added", None, "b@x.test"),
        ("cc_removed", "a@x.test", None),
    ]


def test_every_service_writes_its_event(alpha: World, setup: Setup) -> None:
    ticket = new_ticket(alpha, severity=setup.high)
    ticket_reclassify(ticket=ticket, severity=setup.low, by=alpha.agent)
    ticket_update(ticket=ticket, by=alpha.agent, billable=True, subject="New subject")
    ticket_note(ticket=ticket, body="n", by=alpha.agent)
    ticket_reply(ticket=ticket, body="r", author=alpha.agent.user)
    assert kinds(ticket) == [
        "created",
        "severity",
        "field",
        "field",
        "note_added",
        "reply_added",
        "status",
    ]
    created: Any = ticket.events.get(kind="created")
    assert created.after["severity"] == {"id": setup.high.pk, "name": "High"}
    assert created.after["reference"] == ticket.reference
    severity: Any = ticket.events.get(kind="severity")
    assert (severity.before["name"], severity.after["name"], severity.actor_id) == (
        "High",
        "Low",
        alpha.agent.user_id,
    )
    assert {e.field for e in ticket.events.filter(kind="field")} == {"billable", "subject"}
    assert TicketEvent.objects.filter(ticket=ticket).count() == 7
