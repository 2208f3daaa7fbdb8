"""Live chat in real headless Chromium: a customer opens the chat from the portal and writes; an
agent in a second browser accepts from the chat console and replies; each sees the other's
message without reloading (the widget polls every second); the agent makes the chat a ticket and
the customer sees where the transcript went. Also measures delivery latency (post → visible on
the other side) and prints it."""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import pytest

from channels.chat.models import ChatSession
from tests.browser.conftest import Shooter
from tests.browser.test_ticket_journeys import CspWatch, logged_in
from tests.channels.test_chat_support import chat_ready
from tests.conftest import build_world
from tickets.models import Ticket

pytestmark = pytest.mark.browser


@pytest.fixture
def watch_csp() -> CspWatch:
    return CspWatch()


def _delivered(page: Any, text: str) -> None:
    page.locator("[data-chat-log] .chat-msg-body", has_text=text).wait_for()


@pytest.mark.django_db(transaction=True)
def test_customer_chats_agent_replies_and_makes_ticket(
    live_server: Any, new_page: Any, shoot: Shooter, watch_csp: CspWatch
) -> None:
    alpha = chat_ready(build_world("alpha"))
    customer, base = logged_in(new_page, live_server, alpha, alpha.contact1.user.email)
    watch_csp(customer)
    customer.get_by_role("link", name="Chat with us").click()
    customer.get_by_label("How can we help?").fill("My invoices are missing")
    shoot(customer, "customer-start")
    customer.get_by_role("button", name="Start chat").click()
    customer.wait_for_url(re.compile(r"/chat/\d+/$"))
    _delivered(customer, "My invoices are missing")
    # A message sent by the widget (Enter) shows without a reload.
    customer.get_by_role("textbox", name="Message").fill("Since Monday")
    customer.get_by_role("textbox", name="Message").press("Enter")
    _delivered(customer, "Since Monday")
    assert customer.get_by_role("textbox", name="Message").input_value() == ""

    agent, _ = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    watch_csp(agent)
    agent.goto(base + "agent/chat/")
    name = alpha.contact1.user.name or alpha.contact1.user.email
    waiting = agent.locator("#chat-queue li", has_text=name)
    waiting.wait_for()
    shoot(agent, "agent-console")
    waiting.get_by_role("button", name="Accept").click()
    agent.wait_for_url(re.compile(r"/agent/chat/\d+/$"))
    _delivered(agent, "Since Monday")
    # The customer's widget learns who joined.
    customer.get_by_text(re.compile("You are chatting with")).wait_for()

    latencies = []
    for n in range(3):
        text = f"Agent reply {n}"
        agent.get_by_role("textbox", name="Message").fill(text)
        started = time.perf_counter()
        agent.get_by_role("button", name="Send").click()
        _delivered(customer, text)
        latencies.append(time.perf_counter() - started)
        text = f"Customer answer {n}"
        customer.get_by_role("textbox", name="Message").fill(text)
        started = time.perf_counter()
        customer.get_by_role("button", name="Send").click()
        _delivered(agent, text)
        latencies.append(time.perf_counter() - started)
    shoot(customer, "customer-conversation")
    shoot(agent, "agent-conversation")
    print(
        f"\nchat delivery latency (click Send → shown on the other side, 1 s polling): "
        f"median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} messages"
    )
    assert max(latencies) < 5.0

    agent.get_by_role("button", name="Make ticket").click()
    agent.wait_for_url(re.compile(r"/agent/tickets/[A-Z]+-\d+/$"))
    session = ChatSession.objects.get()
    ticket = Ticket.objects.get(pk=session.ticket_id)
    assert ticket.channel == Ticket.Channel.CHAT
    assert ticket.requester_id == alpha.contact1.user_id
    agent.get_by_text("Chat: My invoices are missing").first.wait_for()
    shoot(agent, "agent-ticket")

    customer.get_by_text("This chat has ended.").first.wait_for()
    link = customer.get_by_role("link", name=ticket.reference)
    link.wait_for()
    assert (
        customer.get_by_role("textbox", name="Message").count() == 0
        or not customer.get_by_role("textbox", name="Message").is_visible()
    )
    shoot(customer, "customer-ended")
    link.click()
    customer.wait_for_url(re.compile(rf"/tickets/{ticket.reference}/$"))
    customer.get_by_text("Agent reply 0").first.wait_for()
    assert watch_csp.violations == []


@pytest.mark.django_db(transaction=True)
def test_customer_without_chat_gets_ticket_form(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = chat_ready(build_world("alpha"))
    customer, base = logged_in(new_page, live_server, alpha, alpha.contact2.user.email)
    assert customer.get_by_role("link", name="Chat with us").count() == 0
    customer.goto(base + "chat/")
    customer.get_by_text("does not include live chat").wait_for()
    customer.get_by_role("link", name="File a ticket").last.click()
    customer.wait_for_url(re.compile(r"/tickets/new/$"))
    shoot(customer, "ticket-form-instead")
