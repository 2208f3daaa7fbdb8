"""Anonymous visitors chatting (``channels.chat.visitors``): the setting, the pre-chat form, the
visitor's secret on every read and write, the start throttles, the agents' view of an unverified
visitor, and the ticket the transcript becomes — requester handled like an unknown email sender,
and never linked to an existing contact by a claimed address."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from channels.chat.models import ChatMessage, ChatSession, ChatSettings
from channels.chat.selectors import chats_waiting
from channels.chat.services import (
    chat_accept,
    chat_post,
    chat_settings_update,
    chat_start,
    chats_end_idle,
)
from channels.chat.views_visitor import VISITOR_COOKIE
from helpdesk.models import Membership, User
from helpdesk.services import api_token_create
from sla.models import Severity
from tests.channels.test_chat_support import chat_ready
from tests.conftest import World
from tests.tickets.page_helpers import file_ticket
from tickets.models import Ticket
from tickets.selectors import tickets_visible_to

T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)
VISITOR = {"name": "Vera Visitor", "email": "vera@nowhere.test", "body": "My invoice is wrong"}


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    cache.clear()  # the throttles' counters (LocMemCache: this process only)
    yield
    cache.clear()


def visitors_on(world: World, on: bool = True) -> World:
    chat_settings_update(
        tenant=world.tenant,
        enabled=True,
        allowed_origins=[],
        welcome_text="",
        anonymous_visitors=on,
    )
    return world


@pytest.fixture
def world(alpha: World) -> World:
    return visitors_on(chat_ready(alpha))


def start(world: World, client: Client | None = None, **fields: str) -> tuple[Client, ChatSession]:
    """A visitor starting a chat in their own browser: (that browser, the chat)."""
    client = client or world.client()
    response = client.post("/chat/", {**VISITOR, **fields})
    assert response.status_code == 302, response.content[:800]
    chat_id = int(response["Location"].strip("/").split("/")[-1])
    return client, ChatSession.objects.get(pk=chat_id)


def _salt(world: World) -> str:
    return f"channels.chat.visitor:{world.tenant.pk}"


def sign_cookie(world: World, value: str) -> str:
    """A visitor cookie signed exactly as the server signs one (to forge its content)."""
    response = HttpResponse()
    response.set_signed_cookie(VISITOR_COOKIE, value, salt=_salt(world))
    return response.cookies[VISITOR_COOKIE].value


def read_cookie(world: World, raw: str) -> str:
    request = RequestFactory().get("/")
    request.COOKIES[VISITOR_COOKIE] = raw
    return str(request.get_signed_cookie(VISITOR_COOKIE, salt=_salt(world)))


def csrf_client(world: World) -> Client:
    return Client(HTTP_HOST=world.host, enforce_csrf_checks=True)


def csrf_token(client: Client, page: str = "/chat/") -> str:
    body = client.get(page).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert match, body[:500]
    return match.group(1)


# --- the setting ----------------------------------------------------------------------------------


def test_setting_off_keeps_the_login_prompt(alpha: World) -> None:
    world = chat_ready(alpha)
    settings = ChatSettings.objects.for_tenant(world.tenant).first()
    assert settings is None or not settings.anonymous_visitors  # off by default
    client = world.client()
    response = client.get("/chat/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    prompt = client.get("/chat/?embed=1")
    assert prompt.status_code == 200
    assert b'target="_blank"' in prompt.content and b'name="email"' not in prompt.content
    posted = client.post("/chat/", VISITOR)
    assert posted.status_code == 302 and "/accounts/login/" in posted["Location"]
    assert "/accounts/login/" in client.get("/chat/1/")["Location"]
    assert not ChatSession.objects.exists()
    assert VISITOR_COOKIE not in posted.cookies


def test_admin_turns_visitors_on_in_the_console(alpha: World) -> None:
    world = chat_ready(alpha)
    admin = world.client(world.admin)
    page = admin.get("/manage/chat/")
    assert page.status_code == 200 and b'name="anonymous_visitors"' in page.content
    saved = admin.post("/manage/chat/", {"enabled": "on", "anonymous_visitors": "on"})
    assert saved.status_code == 302
    assert ChatSettings.objects.for_tenant(world.tenant).get().anonymous_visitors
    assert b'name="email"' in world.client().get("/chat/").content
    admin.post("/manage/chat/", {"enabled": "on"})
    assert not ChatSettings.objects.for_tenant(world.tenant).get().anonymous_visitors
    assert world.client().get("/chat/").status_code == 302
    # Chat off altogether: no form for visitors either, whatever the visitor setting says.
    chat_settings_update(
        tenant=world.tenant,
        enabled=False,
        allowed_origins=[],
        welcome_text="",
        anonymous_visitors=True,
    )
    assert world.client().get("/chat/").status_code == 302


# --- the pre-chat form ----------------------------------------------------------------------------


def test_visitor_gets_the_pre_chat_form_with_csrf_and_no_inline_script(world: World) -> None:
    for url in ("/chat/", "/chat/?embed=1"):
        page = world.client().get(url)
        assert page.status_code == 200
        body = page.content.decode()
        for name in ("name", "email", "body", "csrfmiddlewaretoken"):
            assert f'name="{name}"' in body, (url, name)
        assert "Log in to our support portal to chat" not in body
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)  # no inline script
        assert not re.search(r"<[^>]+\son[a-z]+=", body)  # no inline event handler
        csp = page["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_form_errors_are_shown_and_nothing_starts(world: World) -> None:
    client = world.client()
    cases: list[tuple[dict[str, str], bytes]] = [
        ({**VISITOR, "name": "  "}, b"Tell us your name."),
        ({**VISITOR, "name": "Eve\u202eteg"}, b"Use letters, digits and punctuation only."),
        ({**VISITOR, "name": "x" * 151}, b"150"),
        ({**VISITOR, "email": "not-an-address"}, b"Enter an email address like name@example.com."),
        ({**VISITOR, "email": ""}, b"Tell us your email address."),
        ({**VISITOR, "body": "   "}, b"Write a message."),
        ({**VISITOR, "body": "x" * 4001}, b"4000"),
    ]
    for data, message in cases:
        response = client.post("/chat/", data)
        assert response.status_code == 400, data
        assert message in response.content, (data, response.content[-2000:])
        assert b"Please check the highlighted fields." in response.content
        assert VISITOR_COOKIE not in response.cookies
    assert not ChatSession.objects.exists()


def test_the_form_needs_its_csrf_token(world: World) -> None:
    client = csrf_client(world)
    assert client.post("/chat/", VISITOR).status_code == 403
    assert not ChatSession.objects.exists()
    token = csrf_token(client)
    assert client.post("/chat/", {**VISITOR, "csrfmiddlewaretoken": token}).status_code == 302
    assert ChatSession.objects.count() == 1


# --- starting, the secret, sending and polling ----------------------------------------------------


def test_start_binds_the_chat_to_a_secret_cookie(world: World) -> None:
    client = world.client()
    response = client.post("/chat/", {**VISITOR, "email": " Vera@NoWhere.TEST "})
    session = ChatSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/chat/{session.pk}/"
    assert session.customer is None and session.organization is None
    assert (session.visitor_name, session.visitor_email) == ("Vera Visitor", "vera@nowhere.test")
    assert session.status == ChatSession.Status.WAITING
    message = ChatMessage.objects.get(session=session)
    assert (message.kind, message.author, message.author_name) == (
        "customer",
        None,
        "Vera Visitor",
    )
    cookie = response.cookies[VISITOR_COOKIE]
    assert cookie["httponly"] and cookie["path"] == "/chat/" and not cookie["domain"]
    assert cookie["samesite"] == "Lax"
    chat_id, _, raw = read_cookie(world, cookie.value).partition(":")
    assert int(chat_id) == session.pk and len(raw) >= 40
    assert raw not in session.visitor_secret_hash and len(session.visitor_secret_hash) == 64
    # Back on /chat/: straight to the open chat; no second chat.
    assert client.get("/chat/")["Location"] == f"/chat/{session.pk}/"
    again = client.post("/chat/", {**VISITOR, "body": "Still there?"})
    assert again["Location"] == f"/chat/{session.pk}/"
    assert ChatSession.objects.count() == 1
    assert session.messages.count() == 2


def test_visitor_sends_and_polls_with_the_secret(world: World) -> None:
    client = csrf_client(world)
    token = csrf_token(client)
    client, session = start(world, client, csrfmiddlewaretoken=token)
    page = client.get(f"/chat/{session.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-api="/chat/{session.pk}/messages/"' in body
    assert "My invoice is wrong" in body and 'name="body"' in body
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    # The page's form (no JavaScript).
    sent = client.post(
        f"/chat/{session.pk}/", {"action": "send", "body": "Order 42", "csrfmiddlewaretoken": token}
    )
    assert sent.status_code == 302
    bad = client.post(
        f"/chat/{session.pk}/", {"action": "send", "body": " ", "csrfmiddlewaretoken": token}
    )
    assert bad.status_code == 400 and b"Write a message." in bad.content
    # The feed chat.js uses: JSON with the CSRF header, refused without it.
    feed = f"/chat/{session.pk}/messages/"
    refused = client.post(feed, {"body": "no token"}, content_type="application/json")
    assert refused.status_code == 403
    posted = client.post(
        feed, {"body": "And 43"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert posted.status_code == 201 and posted.json()["author_name"] == "Vera Visitor"
    empty = client.post(feed, {"body": ""}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert empty.status_code == 400 and empty.json()["errors"]["body"]
    chat_accept(session=session, agent=world.agent)
    chat_post(session=session, by=world.agent, body="Let me look.")
    poll = client.get(feed + "?after=1")
    assert poll.status_code == 200 and poll["Cache-Control"] == "no-store"
    data = poll.json()
    assert [m["body"] for m in data["results"]] == [
        "Order 42",
        "And 43",
        f"{world.agent.user.name or world.agent.user.email} joined the chat.",
        "Let me look.",
    ]
    assert data["chat"]["status"] == "active" and data["chat"]["ticket"] is None
    # The visitor's view of their chat names nobody's address.
    assert "@" not in str({k: v for k, v in data["chat"].items() if k != "agent"})
    assert client.get(feed + "?after=x").status_code == 400


def test_no_secret_no_chat(world: World, beta: World) -> None:
    owner, session = start(world)
    _, other = start(world, world.client(), email="someone@else.test")
    url, feed = f"/chat/{session.pk}/", f"/chat/{session.pk}/messages/"

    def refused(client: Client) -> None:
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "send", "body": "hi"}).status_code == 404
        assert client.post(url, {"action": "end"}).status_code == 404
        assert client.get(feed).status_code == 404
        assert client.post(feed, {"body": "x"}, content_type="application/json").status_code == 404

    # Another browser without any visitor cookie: the page asks for a login (as for a customer
    # whose session ended, whatever the chat id), the feed is 404.
    stranger = world.client()
    for response in (
        stranger.get(url),
        stranger.post(url, {"action": "send", "body": "hi"}),
        stranger.post(url, {"action": "end"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert stranger.get(feed).status_code == 404
    assert stranger.post(feed, {"body": "x"}, content_type="application/json").status_code == 404
    # Another visitor's browser (a valid cookie for another chat: a guessed id).
    other_browser = world.client()
    other_browser.post("/chat/", {**VISITOR, "email": "third@else.test"})
    refused(other_browser)
    # The right chat id with a forged secret, signed as the real one would be.
    forged = world.client()
    forged.cookies[VISITOR_COOKIE] = sign_cookie(world, f"{session.pk}:{'A' * 43}")
    refused(forged)
    # An unsigned or tampered cookie.
    tampered = world.client()
    tampered.cookies[VISITOR_COOKIE] = owner.cookies[VISITOR_COOKIE].value[:-2] + "xx"
    refused(tampered)
    # The owner's own cookie replayed on another tenant's host (even one with visitors on).
    visitors_on(chat_ready(beta))
    elsewhere = beta.client()
    elsewhere.cookies[VISITOR_COOKIE] = owner.cookies[VISITOR_COOKIE].value
    refused(elsewhere)
    # Members: a customer never sees a visitor's chat (page, feed, API); staff of another tenant
    # neither.
    customer = world.client(world.contact1)
    assert customer.get(url).status_code == 404
    assert customer.get(feed).status_code == 404
    assert customer.get(f"/api/v1/chats/{session.pk}/messages/").status_code == 404
    assert beta.client(beta.admin).get(feed).status_code == 404
    # Nothing was written by any of them.
    assert session.messages.count() == 1 and other.messages.count() == 1
    session.refresh_from_db()
    assert session.status == "waiting"
    # The owner still gets in.
    assert owner.get(url).status_code == 200 and owner.get(feed).status_code == 200


# --- throttles ------------------------------------------------------------------------------------


@override_settings(
    HELPDESK_CHAT_VISITOR_RATE="2/hour", HELPDESK_CHAT_VISITOR_TENANT_RATE="100/hour"
)
def test_starts_are_limited_per_address(world: World) -> None:
    # Form errors cost nothing.
    assert world.client().post("/chat/", {**VISITOR, "email": "bad"}).status_code == 400
    for n in range(2):
        start(world, email=f"v{n}@flood.test")
    response = world.client().post("/chat/", {**VISITOR, "email": "v3@flood.test"})
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= 3600
    assert b"Too many chats were started" in response.content
    assert b'name="email"' in response.content  # the form, kept as typed
    assert ChatSession.objects.count() == 2
    # Another address may still start.
    start(world, Client(HTTP_HOST=world.host, REMOTE_ADDR="10.9.9.9"), email="ok@else.test")
    assert ChatSession.objects.count() == 3


@override_settings(
    HELPDESK_CHAT_VISITOR_RATE="100/hour", HELPDESK_CHAT_VISITOR_TENANT_RATE="3/hour"
)
def test_starts_are_limited_per_tenant(world: World, beta: World) -> None:
    for n in range(3):
        start(world, Client(HTTP_HOST=world.host, REMOTE_ADDR=f"10.0.0.{n}"), email=f"{n}@x.test")
    response = Client(HTTP_HOST=world.host, REMOTE_ADDR="10.0.0.99").post(
        "/chat/", {**VISITOR, "email": "late@x.test"}
    )
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert ChatSession.objects.for_tenant(world.tenant).count() == 3
    # Another tenant has its own budget.
    visitors_on(chat_ready(beta))
    start(beta, Client(HTTP_HOST=beta.host, REMOTE_ADDR="10.0.0.99"))


@override_settings(HELPDESK_CHAT_VISITOR_RATE="1/hour", HELPDESK_CHAT_VISITOR_TENANT_RATE="2/hour")
def test_an_address_over_its_limit_does_not_use_up_the_tenants(world: World) -> None:
    noisy = "10.1.1.1"
    start(world, Client(HTTP_HOST=world.host, REMOTE_ADDR=noisy), email="a@x.test")
    for _ in range(5):
        refused = Client(HTTP_HOST=world.host, REMOTE_ADDR=noisy).post("/chat/", VISITOR)
        assert refused.status_code == 429
    start(world, Client(HTTP_HOST=world.host, REMOTE_ADDR="10.2.2.2"), email="b@x.test")


# --- the agents' side -----------------------------------------------------------------------------


def test_agents_see_an_unverified_visitor(world: World) -> None:
    _, session = start(world)
    agent = world.client(world.agent)
    console = agent.get("/agent/chat/").content.decode()
    assert "Vera Visitor" in console and "vera@nowhere.test" in console
    assert "unverified visitor" in console
    page = agent.get(f"/agent/chat/{session.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Chat with Vera Visitor" in body and "unverified visitor" in body
    assert "data-visitor-note" in body
    agent.post(f"/agent/chat/{session.pk}/", {"action": "accept"})
    mine = agent.get("/agent/chat/").content.decode()
    assert "unverified visitor" in mine
    # The API says the same.
    _, key = api_token_create(tenant=world.tenant, membership=world.agent)
    api = Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")
    data = api.get(f"/api/v1/chats/{session.pk}/").json()
    assert data["customer"] is None
    assert data["visitor"] == {
        "name": "Vera Visitor",
        "email": "vera@nowhere.test",
        "verified": False,
    }
    # A customer's chat has no visitor.
    member_chat = chat_start(tenant=world.tenant, customer=world.contact1, body="Hi")
    assert api.get(f"/api/v1/chats/{member_chat.pk}/").json()["visitor"] is None
    # The agent answers through the API and the page like any chat.
    reply = api.post(
        f"/api/v1/chats/{session.pk}/messages/",
        {"body": "Hello Vera"},
        content_type="application/json",
    )
    assert reply.status_code == 201, reply.content


def test_no_entitlement_by_claim_first_come_first_served(world: World, monkeypatch: Any) -> None:
    # The visitor claims the address of a contact on Ultimate; the chat started after a customer
    # without chat priority waits behind it, and no package is looked up for the claim.
    with time_machine.travel(T0, tick=False):
        first = chat_start(tenant=world.tenant, customer=world.owner1, body="First")
    with time_machine.travel(T0 + dt.timedelta(seconds=5), tick=False):
        _, visitor = start(world, email=world.contact1.user.email)
    assert list(chats_waiting(tenant=world.tenant)) == [first, visitor]

    def no_lookup(**kwargs: Any) -> None:
        raise AssertionError("a package was looked up for a visitor's claim")

    monkeypatch.setattr("channels.chat.selectors.package_for_contact", no_lookup)
    chat_accept(session=visitor, agent=world.agent)
    world.client(world.agent).post(f"/agent/chat/{visitor.pk}/", {"action": "end"})
    visitor.refresh_from_db()
    ticket = visitor.ticket
    assert ticket is not None
    least = Severity.objects.for_tenant(world.tenant).order_by("-rank", "-id").first()
    assert ticket.severity == least


# --- the ticket -----------------------------------------------------------------------------------


def test_visitor_ends_and_an_unknown_address_becomes_a_held_pending_contact(world: World) -> None:
    world.org1.domains = ["nowhere.test"]  # the domain guess of the email channel is not made
    world.org1.save()
    client, session = start(world)
    chat_accept(session=session, agent=world.agent)
    chat_post(session=session, by=world.agent, body="We will correct it.")
    assert client.post(f"/chat/{session.pk}/", {"action": "end"}).status_code == 302
    session.refresh_from_db()
    assert session.status == "ended"
    ticket = session.ticket
    assert ticket is not None
    assert ticket.channel == Ticket.Channel.CHAT
    assert ticket.held_for_verification
    assert ticket.organization is None
    assert ticket.requester_email == "vera@nowhere.test"
    assert ticket.requester is not None and ticket.requester.email == "vera@nowhere.test"
    contact = Membership.objects.for_tenant(world.tenant).get(user=ticket.requester)
    assert contact.contact_role == "pending" and contact.organization is None
    assert (
        "unverified visitor" in ticket.description and "My invoice is wrong" in ticket.description
    )
    assert ticket.assignee == world.agent
    assert ticket.messages.filter(body="We will correct it.").exists()
    # Nobody but staff sees it: not the domain's organization owner.
    assert (
        not tickets_visible_to(tenant=world.tenant, membership=world.owner1)
        .filter(pk=ticket.pk)
        .exists()
    )
    assert (
        tickets_visible_to(tenant=world.tenant, membership=world.agent)
        .filter(pk=ticket.pk)
        .exists()
    )
    # The visitor is told the chat is kept, not the ticket's reference.
    page = client.get(f"/chat/{session.pk}/").content.decode()
    assert "This chat has ended." in page and ticket.reference not in page
    assert "answer at vera@nowhere.test" in page
    assert client.get(f"/chat/{session.pk}/messages/").json()["chat"]["ticket"] is None
    # Writing into an ended chat is refused; /chat/ offers a new one.
    assert client.post(f"/chat/{session.pk}/", {"action": "send", "body": "x"}).status_code == 400
    assert client.get("/chat/").status_code == 200
    # A second chat claiming the same address joins the same pending contact.
    _, again = start(world, email="VERA@nowhere.test")
    chat_accept(session=again, agent=world.agent)
    world.client(world.agent).post(f"/agent/chat/{again.pk}/", {"action": "end"})
    again.refresh_from_db()
    assert again.ticket is not None and again.ticket.requester == ticket.requester
    assert again.ticket.held_for_verification
    assert User.objects.filter(email="vera@nowhere.test").count() == 1


def test_idle_visitor_chat_becomes_a_ticket(world: World) -> None:
    with time_machine.travel(T0, tick=False):
        _, session = start(world, email="idle@nowhere.test")
    with time_machine.travel(T0 + dt.timedelta(minutes=31), tick=False):
        assert chats_end_idle() == 1
    session.refresh_from_db()
    assert session.status == "ended" and session.ticket is not None
    assert session.ticket.channel == Ticket.Channel.CHAT
    assert session.ticket.held_for_verification
    assert session.ticket.requester_email == "idle@nowhere.test"


def test_claiming_a_contacts_address_reaches_nothing_of_theirs(world: World) -> None:
    theirs = file_ticket(world, world.contact1, "Contact one's own ticket")
    client, session = start(world, email=world.contact1.user.email.upper())
    # The visitor's browser is nobody in the portal.
    assert client.get("/tickets/").status_code == 302
    assert client.get(f"/tickets/{theirs.reference}/").status_code == 302
    assert theirs.reference.encode() not in client.get(f"/chat/{session.pk}/").content
    chat_accept(session=session, agent=world.agent)
    world.client(world.agent).post(f"/agent/chat/{session.pk}/", {"action": "end"})
    session.refresh_from_db()
    ticket = session.ticket
    assert ticket is not None and ticket.channel == Ticket.Channel.CHAT
    # Not linked: no requester user, no organization; only the claimed address.
    assert ticket.requester is None
    assert ticket.organization is None
    assert ticket.requester_email == world.contact1.user.email
    assert not ticket.held_for_verification  # nobody to verify: staff handle it in the queue
    # Visible to no customer (not the contact, not their organization's owner); staff see it.
    for member in (world.contact1, world.owner1, world.contact2, world.owner2):
        assert (
            not tickets_visible_to(tenant=world.tenant, membership=member)
            .filter(pk=ticket.pk)
            .exists()
        )
        assert world.client(member).get(f"/tickets/{ticket.reference}/").status_code == 404
    assert (
        tickets_visible_to(tenant=world.tenant, membership=world.agent)
        .filter(pk=ticket.pk)
        .exists()
    )
    # The contact is left as they were.
    world.contact1.refresh_from_db()
    assert world.contact1.contact_role == "authorized"
    assert world.contact1.organization == world.org1


@pytest.mark.parametrize("who", ["agent", "admin", "inactive", "placed_pending"])
def test_claiming_staff_or_any_other_member_is_not_linked(world: World, who: str) -> None:
    if who == "inactive":
        member = world.contact2
        member.is_active = False
        member.save()
    elif who == "placed_pending":
        member = world.contact2
        member.contact_role = "pending"
        member.save()
    else:
        member = getattr(world, who)
    before = (member.role, member.contact_role, member.organization_id, member.is_active)
    _, session = start(world, email=member.user.email)
    chat_accept(session=session, agent=world.agent)
    world.client(world.agent).post(f"/agent/chat/{session.pk}/", {"action": "end"})
    session.refresh_from_db()
    ticket = session.ticket
    assert ticket is not None
    assert ticket.requester is None and ticket.organization is None
    assert ticket.requester_email == member.user.email
    member.refresh_from_db()
    assert (member.role, member.contact_role, member.organization_id, member.is_active) == before


def test_a_user_of_another_tenant_is_an_unknown_address_here(world: World, beta: World) -> None:
    name_before = beta.contact1.user.name
    _, session = start(world, email=beta.contact1.user.email)
    chat_accept(session=session, agent=world.agent)
    world.client(world.agent).post(f"/agent/chat/{session.pk}/", {"action": "end"})
    session.refresh_from_db()
    ticket = session.ticket
    assert ticket is not None and ticket.held_for_verification
    assert ticket.requester == beta.contact1.user
    here = Membership.objects.for_tenant(world.tenant).get(user=beta.contact1.user)
    assert here.contact_role == "pending" and here.organization is None
    # Their membership there is untouched, and so is their name.
    beta.contact1.refresh_from_db()
    assert beta.contact1.contact_role == "authorized"
    beta.contact1.user.refresh_from_db()
    assert beta.contact1.user.name == name_before


# --- the setting turned off mid-chat; members -----------------------------------------------------


def test_a_running_visitor_chat_may_finish_after_the_setting_is_turned_off(world: World) -> None:
    client, session = start(world)
    visitors_on(world, on=False)
    assert client.get(f"/chat/{session.pk}/").status_code == 200
    assert client.post(f"/chat/{session.pk}/", {"action": "send", "body": "Hi"}).status_code == 302
    # Nobody new may start, and the pages behave as before for everyone else.
    fresh = world.client()
    assert "/accounts/login/" in fresh.get("/chat/")["Location"]
    assert "/accounts/login/" in fresh.get(f"/chat/{session.pk}/")["Location"]
    assert client.post("/chat/", {**VISITOR, "email": "new@x.test"}).status_code == 302
    assert ChatSession.objects.count() == 1


def test_logged_in_customers_keep_their_own_chat(world: World) -> None:
    client = world.client(world.contact1)
    page = client.get("/chat/")
    assert page.status_code == 200 and b'name="email"' not in page.content
    client.post("/chat/", {"body": "Member here"})
    session = ChatSession.objects.get()
    assert session.customer == world.contact1 and not session.is_visitor
    feed = client.get(f"/chat/{session.pk}/messages/")
    assert feed.status_code == 200 and feed.json()["chat"]["customer"]["id"] == world.contact1.pk
    assert world.client(world.contact2).get(f"/chat/{session.pk}/messages/").status_code == 404


@override_settings(
    HELPDESK_CHAT_VISITOR_RATE="2/hour", HELPDESK_CHAT_VISITOR_TENANT_RATE="100/hour"
)
def test_a_forged_forwarded_for_does_not_escape_the_address_limit(world: World) -> None:
    """Without trusted proxies (NUM_PROXIES=0, the default) the address is the connection's: a
    visitor writing a new X-Forwarded-For on every start is still the same address."""

    def attempt(n: int) -> int:
        client = Client(HTTP_HOST=world.host, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        return client.post("/chat/", {**VISITOR, "email": f"v{n}@else.test"}).status_code

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert [attempt(n) for n in range(1, 4)] == [302, 302, 429]


@override_settings(
    HELPDESK_CHAT_VISITOR_RATE="1/hour", HELPDESK_CHAT_VISITOR_TENANT_RATE="100/hour"
)
def test_behind_a_trusted_proxy_the_forwarded_address_counts(world: World) -> None:
    """NUM_PROXIES=1: the address our proxy appended is the visitor's (not the proxy's own)."""
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        for n in range(1, 3):
            client = Client(HTTP_HOST=world.host, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
            response = client.post("/chat/", {**VISITOR, "email": f"p{n}@else.test"})
            assert response.status_code == 302, response.content[:300]
