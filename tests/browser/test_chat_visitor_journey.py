"""An anonymous visitor chats in real headless Chromium: the pre-chat form, the conversation live
both ways through the visitor's feed (secret cookie, CSRF header, strict CSP), the agent seeing an
unverified visitor, the visitor ending the chat; another browser gets nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from channels.chat.models import ChatSession
from channels.chat.services import chat_settings_update
from tests.browser.conftest import Shooter, tenant_url
from tests.browser.test_ticket_journeys import CspWatch, logged_in
from tests.channels.test_chat_support import chat_ready
from tests.conftest import build_world
from tickets.models import Ticket

pytestmark = pytest.mark.browser


def _delivered(page: Any, text: str) -> None:
    page.locator("[data-chat-log] .chat-msg-body", has_text=text).wait_for()


@pytest.mark.django_db(transaction=True)
def test_visitor_chats_without_a_login(live_server: Any, new_page: Any, shoot: Shooter) -> None:
    watch_csp = CspWatch()
    alpha = chat_ready(build_world("alpha"))
    chat_settings_update(
        tenant=alpha.tenant,
        enabled=True,
        allowed_origins=[],
        welcome_text="",
        anonymous_visitors=True,
    )
    base = tenant_url(live_server, alpha.tenant.slug)
    visitor = watch_csp(new_page())
    visitor.goto(base + "chat/")
    visitor.get_by_role("button", name="Start chat").click()
    visitor.get_by_text("Tell us your name.").first.wait_for()
    visitor.get_by_label("Your name").fill("Vera Visitor")
    visitor.get_by_label("Your email address").fill("vera@nowhere.test")
    visitor.get_by_label("How can we help?").fill("Where is my parcel?")
    shoot(visitor, "visitor-form")
    visitor.get_by_role("button", name="Start chat").click()
    visitor.wait_for_url(re.compile(r"/chat/\d+/$"))
    chat_url = visitor.url
    _delivered(visitor, "Where is my parcel?")
    visitor.get_by_role("textbox", name="Message").fill("Order 42")
    visitor.get_by_role("textbox", name="Message").press("Enter")
    _delivered(visitor, "Order 42")

    agent, _ = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    watch_csp(agent)
    agent.goto(base + "agent/chat/")
    waiting = agent.locator("#chat-queue li", has_text="Vera Visitor")
    waiting.wait_for()
    assert "unverified visitor" in waiting.inner_text()
    waiting.get_by_role("button", name="Accept").click()
    agent.wait_for_url(re.compile(r"/agent/chat/\d+/$"))
    _delivered(agent, "Order 42")
    agent.get_by_role("textbox", name="Message").fill("It ships today")
    agent.get_by_role("button", name="Send").click()
    _delivered(visitor, "It ships today")
    visitor.get_by_text(re.compile("You are chatting with")).wait_for()
    visitor.get_by_role("textbox", name="Message").fill("Thanks!")
    visitor.get_by_role("button", name="Send").click()
    _delivered(agent, "Thanks!")
    shoot(agent, "agent-visitor")

    # Another browser knows the address but not the secret: it is asked to log in, and sees
    # nothing of the conversation.
    stranger = new_page()
    response = stranger.goto(chat_url)
    assert response is not None and "/accounts/login/" in response.url
    assert "Thanks!" not in stranger.content()

    visitor.get_by_role("button", name="End chat").click()
    visitor.get_by_text("This chat has ended.").first.wait_for()
    visitor.get_by_text(re.compile("answer at vera@nowhere.test")).first.wait_for()
    shoot(visitor, "visitor-ended")
    session = ChatSession.objects.get()
    ticket = Ticket.objects.get(pk=session.ticket_id)
    assert ticket.channel == Ticket.Channel.CHAT and ticket.held_for_verification
    assert ticket.reference not in visitor.content()
    assert watch_csp.violations == []
