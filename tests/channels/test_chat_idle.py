"""Chats left open by a customer who went away end on their own and become tickets."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from channels.chat.models import ChatSession
from channels.chat.services import chat_post, chat_start, chats_end_idle
from channels.chat.tasks import end_idle_chats
from tests.channels.test_chat_support import active_chat, chat_ready
from tests.conftest import World
from tests.factories import ContactFactory
from tickets.models import Ticket

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(alpha: World) -> World:
    return chat_ready(alpha)


def test_idle_chats_end_and_become_tickets(world: World, beta: World) -> None:
    with time_machine.travel(T0, tick=False):
        idle = active_chat(world)
        unanswered = chat_start(tenant=world.tenant, customer=world.owner1, body="Anyone?")
        chat_ready(beta)
        other_tenant_idle = chat_start(tenant=beta.tenant, customer=beta.contact1, body="Hi")
    with time_machine.travel(T0 + dt.timedelta(minutes=25), tick=False):
        colleague = ContactFactory(tenant=world.tenant, organization=world.org1)
        lively = active_chat(world, customer=colleague, text="Still here")
        chat_post(session=lively, by=colleague, body="typing…")
    with time_machine.travel(T0 + dt.timedelta(minutes=31), tick=False):
        assert chats_end_idle() == 3

    for session in (idle, unanswered, other_tenant_idle):
        session.refresh_from_db()
        assert session.status == ChatSession.Status.ENDED
        assert session.ticket is not None
        assert session.ticket.channel == Ticket.Channel.CHAT
        assert session.ticket.tenant_id == session.tenant_id
    lively.refresh_from_db()
    assert lively.status != ChatSession.Status.ENDED
    # Running again ends nothing more.
    with time_machine.travel(T0 + dt.timedelta(minutes=32), tick=False):
        assert chats_end_idle() == 0


@override_settings(HELPDESK_CHAT_IDLE_MINUTES=5)
def test_idle_minutes_is_a_setting_and_the_task_runs_it(world: World) -> None:
    with time_machine.travel(T0, tick=False):
        session = active_chat(world)
    with time_machine.travel(T0 + dt.timedelta(minutes=4), tick=False):
        assert end_idle_chats() == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=6), tick=False):
        assert end_idle_chats() == 1
    session.refresh_from_db()
    assert session.status == ChatSession.Status.ENDED
