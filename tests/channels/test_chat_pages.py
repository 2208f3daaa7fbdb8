"""The chat pages: the customer's chat (with and without a package that includes chat), the
embed script and framing, the agents' console, the admins' settings; roles and tenants."""

from __future__ import annotations

import pytest

from channels.chat.models import ChatSession
from channels.chat.services import chat_settings_update, chat_start
from tests.channels.test_chat_support import active_chat, chat_ready
from tests.conftest import World
from tickets.models import Ticket


@pytest.fixture
def world(alpha: World) -> World:
    return chat_ready(alpha)


# --- customer -------------------------------------------------------------------------------------


def test_customer_starts_writes_and_ends_without_js(world: World) -> None:
    client = world.client(world.contact1)
    page = client.get("/chat/")
    assert page.status_code == 200
    assert b'name="body"' in page.content
    assert b"<script" in page.content and b"chat/chat.js" in page.content
    response = client.post("/chat/", {"body": "Printer <b>on fire</b>"})
    session = ChatSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/chat/{session.pk}/"
    # Back on /chat/ with a chat open: straight to it.
    assert client.get("/chat/")["Location"] == f"/chat/{session.pk}/"
    page = client.get(f"/chat/{session.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Printer &lt;b&gt;on fire&lt;/b&gt;" in body  # escaped, never HTML
    assert f'data-api="/api/v1/chats/{session.pk}/messages/"' in body
    assert (
        client.post(f"/chat/{session.pk}/", {"action": "send", "body": "More"}).status_code == 302
    )
    bad = client.post(f"/chat/{session.pk}/", {"action": "send", "body": ""})
    assert bad.status_code == 400 and b"Write a message." in bad.content
    assert client.post(f"/chat/{session.pk}/", {"action": "end"}).status_code == 302
    session.refresh_from_db()
    assert session.status == "ended"
    assert session.ticket is not None and session.ticket.channel == Ticket.Channel.CHAT
    assert session.ticket.reference.encode() in client.get(f"/chat/{session.pk}/").content


def test_empty_start_keeps_the_form_with_an_error(world: World) -> None:
    response = world.client(world.contact1).post("/chat/", {"body": "  "})
    assert response.status_code == 400
    assert b"Write a message." in response.content
    assert not ChatSession.objects.exists()


def test_package_without_chat_gets_the_ticket_form(world: World) -> None:
    client = world.client(world.contact2)
    for response in (client.get("/chat/"), client.post("/chat/", {"body": "Hi"})):
        assert response.status_code == 403
        assert b'href="/tickets/new/"' in response.content
        assert b"does not include live chat" in response.content
    assert not ChatSession.objects.exists()
    home = client.get("/")
    assert b"data-chat-launcher" not in home.content
    assert b"data-chat-launcher" in world.client(world.contact1).get("/").content


def test_customer_cannot_see_another_customers_chat(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="mine")
    for other in (world.owner1, world.contact2):  # same organization, or another one
        client = world.client(other)
        assert client.get(f"/chat/{session.pk}/").status_code == 404
        assert client.post(f"/chat/{session.pk}/", {"action": "end"}).status_code == 404
    session.refresh_from_db()
    assert session.status == "waiting"


def test_anonymous_goes_to_login_and_embed_gets_a_prompt(world: World) -> None:
    client = world.client()
    response = client.get("/chat/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "/accounts/login/" in client.get("/chat/1/")["Location"]
    prompt = client.get("/chat/?embed=1")
    assert prompt.status_code == 200
    assert b'target="_blank"' in prompt.content


def test_framing_only_for_allowed_origins(world: World) -> None:
    client = world.client(world.contact1)
    closed = client.get("/chat/")
    assert closed["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in closed["Content-Security-Policy"]
    chat_settings_update(
        tenant=world.tenant,
        enabled=True,
        allowed_origins=["https://dash.customer.test"],
        welcome_text="Hello from support",
    )
    opened = client.get("/chat/?origin=https://dash.customer.test")
    assert "X-Frame-Options" not in opened
    assert "frame-ancestors 'self' https://dash.customer.test" in opened["Content-Security-Policy"]
    assert b"Hello from support" in opened.content
    client.post("/chat/", {"body": "from the dashboard", "origin": "https://dash.customer.test"})
    assert ChatSession.objects.get().origin == "https://dash.customer.test"
    # Other pages stay unframable.
    assert client.get("/tickets/")["X-Frame-Options"] == "DENY"


def test_unlisted_origin_is_not_recorded(world: World) -> None:
    world.client(world.contact1).post("/chat/", {"body": "hi", "origin": "https://evil.test"})
    assert ChatSession.objects.get().origin == ""


def test_embed_script_is_served_for_other_sites(world: World) -> None:
    response = world.client().get("/chat/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert b"Create a ticket" in response.content and b"/chat/" in response.content


def test_staff_on_the_customer_page_are_sent_to_the_console(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="hi")
    client = world.client(world.agent)
    page = client.get("/chat/")
    assert page.status_code == 200 and b"/agent/chat/" in page.content
    assert client.get(f"/chat/{session.pk}/").status_code == 200
    assert client.post(f"/chat/{session.pk}/", {"action": "end"})["Location"] == (
        f"/agent/chat/{session.pk}/"
    )
    session.refresh_from_db()
    assert session.status == "waiting"


# --- agent console --------------------------------------------------------------------------------


def test_agent_console_accept_reply_make_ticket(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="Need help")
    client = world.client(world.agent)
    console = client.get("/agent/chat/")
    assert console.status_code == 200
    customer = world.contact1.user
    assert (customer.name or customer.email).encode() in console.content
    fragment = client.get("/agent/chat/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-queue")
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert b"Need help" not in fragment.content  # the queue names people, not their words
    url = f"/agent/chat/{session.pk}/"
    assert client.post(url, {"action": "accept"}).status_code == 302
    assert client.post(url, {"action": "send", "body": "On it"}).status_code == 302
    page = client.get(url)
    assert b"On it" in page.content and b"Make ticket" in page.content
    response = client.post(url, {"action": "ticket", "severity": ""})
    session.refresh_from_db()
    assert session.ticket is not None
    assert response["Location"] == f"/agent/tickets/{session.ticket.reference}/"
    assert client.get(response["Location"]).status_code == 200


def test_agent_sees_errors_inline(world: World) -> None:
    session = active_chat(world)
    client = world.client(world.agent)
    url = f"/agent/chat/{session.pk}/"
    empty = client.post(url, {"action": "send", "body": ""})
    assert empty.status_code == 400 and b"Write a message." in empty.content
    bad = client.post(url, {"action": "end", "severity": "999999"})
    assert bad.status_code == 400
    session.refresh_from_db()
    assert session.status == "active"
    taken = world.client(world.lead).post(url, {"action": "accept"}, follow=True)
    assert b"already accepted" in taken.content


def test_availability_toggle(world: World) -> None:
    client = world.client(world.agent)
    client.post("/agent/chat/", {"available": "0"})
    world.agent.refresh_from_db()
    assert world.agent.is_available is False
    assert b"Set me available" in client.get("/agent/chat/").content
    client.post("/agent/chat/", {"available": "1"})
    world.agent.refresh_from_db()
    assert world.agent.is_available is True


def test_agent_pages_roles(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="hi")
    for path in ("/agent/chat/", f"/agent/chat/{session.pk}/"):
        assert world.client(world.contact1).get(path).status_code == 404
        assert "/accounts/login/" in world.client().get(path)["Location"]


# --- console settings -----------------------------------------------------------------------------


def test_console_settings(world: World) -> None:
    assert world.client(world.agent).get("/manage/chat/").status_code == 404
    assert world.client(world.contact1).get("/manage/chat/").status_code == 404
    assert "/accounts/login/" in world.client().get("/manage/chat/")["Location"]
    client = world.client(world.admin)
    page = client.get("/manage/chat/")
    assert page.status_code == 200 and b"/chat/embed.js" in page.content
    bad = client.post(
        "/manage/chat/",
        {"enabled": "on", "allowed_origins": "https://ok.test\nnot an origin", "welcome_text": ""},
    )
    assert bad.status_code == 400 and b"not an origin" in bad.content
    assert b"https://ok.test" in bad.content  # what was typed is kept
    good = client.post(
        "/manage/chat/", {"allowed_origins": "https://ok.test", "welcome_text": "Hi"}
    )
    assert good.status_code == 302
    assert world.client(world.contact1).get("/chat/").status_code == 403  # disabled


# --- tenants --------------------------------------------------------------------------------------


def test_other_tenant_gets_404_everywhere(world: World, beta: World) -> None:
    session = active_chat(world)
    for member in (beta.admin, beta.agent, beta.contact1):
        client = beta.client(member)
        for path in (f"/chat/{session.pk}/", f"/agent/chat/{session.pk}/"):
            assert client.get(path).status_code == 404, (member, path)
            assert client.post(path, {"action": "end"}).status_code == 404
    # alpha's session cookie replayed on beta's host is anonymous there.
    alpha_client = world.client(world.agent)
    replay = alpha_client.get(f"/agent/chat/{session.pk}/", HTTP_HOST=beta.host)
    assert replay.status_code == 302
    session.refresh_from_db()
    assert session.status == "active"
