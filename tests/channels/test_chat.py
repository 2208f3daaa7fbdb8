"""Chat services and selectors: who is offered chat, sessions and sequences, accepting, and the
transcript becoming a ticket (channel chat) whose first response is the chat's first agent
message."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from channels.chat.models import ChatMessage, ChatSession
from channels.chat.selectors import chat_messages_after, chat_offer_for
from channels.chat.services import (
    ChatUnavailable,
    agent_set_available,
    chat_accept,
    chat_end,
    chat_post,
    chat_settings_update,
    chat_start,
)
from helpdesk.tenancy import CrossTenantReference
from sla.models import Metric, Severity, SLAClock
from tests.channels.test_chat_support import active_chat, chat_ready
from tests.conftest import World
from tests.factories import ContactFactory, OrganizationFactory
from tickets.models import Message, Ticket

# A Tuesday morning: the officernd calendars (24/5) are open.
T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(alpha: World) -> World:
    return chat_ready(alpha)


# --- who is offered chat --------------------------------------------------------------------------


def test_chat_offered_by_package(world: World) -> None:
    assert chat_offer_for(tenant=world.tenant, membership=world.contact1).offered
    refused = chat_offer_for(tenant=world.tenant, membership=world.contact2)
    assert not refused.offered
    assert "Web only" in refused.reason


def test_default_package_applies_without_contract(world: World) -> None:
    # officernd's no-contract rule gives the Standard package, which includes chat.
    loose = ContactFactory(
        tenant=world.tenant, organization=OrganizationFactory(tenant=world.tenant)
    )
    assert chat_offer_for(tenant=world.tenant, membership=loose).offered


def test_no_package_no_chat(alpha: World) -> None:
    # A tenant without any SLA policy: no package, so no chat (the ticket form instead).
    offer = chat_offer_for(tenant=alpha.tenant, membership=alpha.contact1)
    assert not offer.offered
    with pytest.raises(ChatUnavailable):
        chat_start(tenant=alpha.tenant, customer=alpha.contact1, body="Hi")


def test_pending_contacts_staff_and_disabled_chat_are_refused(world: World) -> None:
    pending = ContactFactory(
        tenant=world.tenant, organization=None, contact_role="pending", user__email="p@x.test"
    )
    assert not chat_offer_for(tenant=world.tenant, membership=pending).offered
    assert not chat_offer_for(tenant=world.tenant, membership=world.agent).offered
    chat_settings_update(tenant=world.tenant, enabled=False, allowed_origins=[], welcome_text="")
    assert not chat_offer_for(tenant=world.tenant, membership=world.contact1).offered
    with pytest.raises(ChatUnavailable):
        chat_start(tenant=world.tenant, customer=world.contact1, body="Hi")
    assert not ChatSession.objects.exists()


# --- sessions and messages ------------------------------------------------------------------------


def test_start_then_second_start_joins_the_open_chat(world: World) -> None:
    first = chat_start(tenant=world.tenant, customer=world.contact1, body="My export fails")
    again = chat_start(tenant=world.tenant, customer=world.contact1, body="Also the import")
    assert again.pk == first.pk
    assert first.organization == world.org1
    assert first.status == ChatSession.Status.WAITING
    bodies = list(first.messages.order_by("sequence").values_list("sequence", "kind", "body"))
    assert bodies == [(1, "customer", "My export fails"), (2, "customer", "Also the import")]


def test_empty_or_overlong_message_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        chat_start(tenant=world.tenant, customer=world.contact1, body="   ")
    assert "body" in exc.value.message_dict
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="ok")
    with pytest.raises(ValidationError):
        chat_post(session=session, by=world.contact1, body="x" * 4001)
    assert session.messages.count() == 1


def test_polling_after_sequence(world: World) -> None:
    session = active_chat(world)
    for n in range(3):
        chat_post(session=session, by=world.contact1, body=f"more {n}")
    all_seqs = [m.sequence for m in chat_messages_after(session=session, after=0)]
    assert all_seqs == list(range(1, len(all_seqs) + 1))
    later = list(chat_messages_after(session=session, after=3))
    assert [m.sequence for m in later] == all_seqs[3:]
    assert chat_messages_after(session=session, after=all_seqs[-1]).count() == 0


def test_accept_is_claimed_once(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="Hello")
    with pytest.raises(ValidationError):
        chat_post(session=session, by=world.agent, body="not yet accepted")
    chat_accept(session=session, agent=world.agent)
    stale = ChatSession.objects.get(pk=session.pk)
    with pytest.raises(ValidationError) as exc:
        chat_accept(session=stale, agent=world.lead)
    assert "already accepted" in str(exc.value)
    assert ChatSession.objects.get(pk=session.pk).agent == world.agent
    # Accepting again by the same agent changes nothing.
    chat_accept(session=stale, agent=world.agent)
    joined = session.messages.filter(kind=ChatMessage.Kind.SYSTEM).count()
    assert joined == 1
    with pytest.raises(ValidationError):
        chat_post(session=session, by=world.lead, body="I am not on this chat")
    with pytest.raises(ValidationError):
        chat_post(session=session, by=world.owner1, body="Same organization, other person")


def test_customers_cannot_accept(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="Hello")
    with pytest.raises(ValidationError):
        chat_accept(session=session, agent=world.owner1)


def test_agent_sets_own_availability(world: World) -> None:
    agent_set_available(agent=world.agent, is_available=False)
    world.agent.refresh_from_db()
    assert world.agent.is_available is False


# --- transcript → ticket --------------------------------------------------------------------------


def test_end_makes_ticket_first_agent_message_is_first_response(world: World) -> None:
    with time_machine.travel(T0, tick=False):
        session = chat_start(tenant=world.tenant, customer=world.contact1, body="Export **fails**")
    with time_machine.travel(T0 + dt.timedelta(minutes=3), tick=False):
        chat_accept(session=session, agent=world.agent)
        chat_post(session=session, by=world.agent, body="Looking at it now.")
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        chat_post(session=session, by=world.contact1, body="Thanks")
        chat_post(session=session, by=world.agent, body="Fixed: retry please.")
    with time_machine.travel(T0 + dt.timedelta(minutes=9), tick=False):
        chat_end(session=session, by=world.agent)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.ENDED
    ticket = session.ticket
    assert ticket is not None
    assert ticket.channel == Ticket.Channel.CHAT
    assert ticket.requester == world.contact1.user
    assert ticket.organization == world.org1
    assert ticket.assignee == world.agent
    assert ticket.opened_at == T0
    assert ticket.subject == "Chat: Export **fails**"
    for text in ("Export **fails**", "Looking at it now.", "Thanks", "Fixed: retry please."):
        assert text in ticket.description
    # The least severe severity the package covers.
    assert ticket.severity == Severity.objects.for_tenant(world.tenant).get(key="sev3")
    replies = Message.objects.filter(ticket=ticket).order_by("created_at")
    assert [(m.body, m.from_staff, m.public, m.channel) for m in replies] == [
        ("Looking at it now.", True, True, "chat"),
        ("Fixed: retry please.", True, True, "chat"),
    ]
    first = SLAClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert first.started_at == T0
    assert first.met_at == T0 + dt.timedelta(minutes=3)


def test_unanswered_chat_becomes_ticket_with_running_clock(world: World) -> None:
    with time_machine.travel(T0, tick=False):
        session = chat_start(tenant=world.tenant, customer=world.contact1, body="Anyone there?")
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        chat_end(session=session, by=world.contact1)
    session.refresh_from_db()
    ticket = session.ticket
    assert ticket is not None and ticket.channel == "chat"
    assert ticket.assignee is None or ticket.assignee.is_staff_member
    first = SLAClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert first.started_at == T0
    assert first.met_at is None
    assert first.due_at is not None


def test_end_twice_makes_one_ticket(world: World) -> None:
    session = active_chat(world)
    chat_end(session=session, by=world.agent)
    chat_end(session=session, by=world.contact1)
    assert Ticket.objects.filter(channel="chat").count() == 1
    with pytest.raises(ValidationError):
        chat_post(session=session, by=world.contact1, body="after the end")


def test_agent_chooses_severity_customer_cannot(world: World) -> None:
    sev1 = Severity.objects.for_tenant(world.tenant).get(key="sev1")
    session = active_chat(world)
    with pytest.raises(ValidationError):
        chat_end(session=session, by=world.contact1, severity=sev1)
    chat_end(session=session, by=world.agent, severity=sev1)
    session.refresh_from_db()
    assert session.ticket is not None and session.ticket.severity == sev1


def test_other_agent_cannot_end_someone_elses_chat(world: World) -> None:
    session = active_chat(world)
    with pytest.raises(ValidationError):
        chat_end(session=session, by=world.lead)
    chat_end(session=session, by=world.admin)  # admins may
    session.refresh_from_db()
    assert session.status == "ended"


def test_other_tenants_severity_is_refused(world: World, beta: World) -> None:
    chat_ready(beta)
    foreign = Severity.objects.for_tenant(beta.tenant).first()
    session = active_chat(world)
    with pytest.raises(ValidationError):
        chat_end(session=session, by=world.agent, severity=foreign)
    assert ChatSession.objects.get(pk=session.pk).status == "active"


def test_session_cannot_reference_another_tenant(world: World, beta: World) -> None:
    with pytest.raises(CrossTenantReference):
        ChatSession.objects.create(tenant=world.tenant, customer=beta.contact1)


# --- settings -------------------------------------------------------------------------------------


def test_settings_origins_are_normalised_and_checked(world: World) -> None:
    saved = chat_settings_update(
        tenant=world.tenant,
        enabled=True,
        allowed_origins=["https://App.Example.com/", "", "https://app.example.com"],
        welcome_text=" Hi ",
    )
    assert saved.allowed_origins == ["https://app.example.com"]
    assert saved.welcome_text == "Hi"
    for bad in ["app.example.com", "https://x.test/path", "https://a.test; script-src *", "*"]:
        with pytest.raises(ValidationError):
            chat_settings_update(
                tenant=world.tenant, enabled=True, allowed_origins=[bad], welcome_text=""
            )
    saved.refresh_from_db()
    assert saved.allowed_origins == ["https://app.example.com"]
