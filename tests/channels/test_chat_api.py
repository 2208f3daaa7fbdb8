"""/api/v1/chats/: role-aware lists and details, polling ``?after=``, posting, actions, the
transcript as a ticket; problem+json errors; tenants apart."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from channels.chat.models import ChatSession
from channels.chat.services import chat_start
from helpdesk.models import Membership
from helpdesk.services import api_token_create
from sla.models import Severity
from tests.channels.test_chat_support import active_chat, chat_ready
from tests.conftest import World
from tests.factories import ContactFactory
from tickets.models import Ticket

PROBLEM = "application/problem+json"


@pytest.fixture
def world(alpha: World) -> World:
    return chat_ready(alpha)


def api(world: World, membership: Membership) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def post(client: Client, url: str, data: dict[str, Any]) -> Any:
    return client.post(url, data=data, content_type="application/json")


def test_customer_starts_and_polls(world: World) -> None:
    client = api(world, world.contact1)
    created = post(client, "/api/v1/chats/", {"body": "Hello"})
    assert created.status_code == 201, created.content
    chat = created.json()
    assert chat["status"] == "waiting" and chat["customer"]["id"] == world.contact1.pk
    url = f"/api/v1/chats/{chat['id']}/messages/"
    sent = post(client, url, {"body": "Anyone?"})
    assert sent.status_code == 201 and sent.json()["sequence"] == 2
    polled = client.get(url + "?after=0").json()
    assert [m["sequence"] for m in polled["results"]] == [1, 2]
    assert polled["chat"]["status"] == "waiting"
    assert client.get(url + "?after=2").json()["results"] == []
    assert [m["body"] for m in client.get(url + "?after=1").json()["results"]] == ["Anyone?"]


def test_package_without_chat_is_403_with_ticket_form(world: World) -> None:
    response = post(api(world, world.contact2), "/api/v1/chats/", {"body": "Hello"})
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["ticket_form"] == "/tickets/new/"
    assert "does not include live chat" in body["detail"]
    assert not ChatSession.objects.exists()


def test_bad_input_is_problem_json(world: World) -> None:
    client = api(world, world.contact1)
    for payload in ({"body": ""}, {"body": "x", "extra": 1}, {}, {"body": "x" * 4001}):
        response = post(client, "/api/v1/chats/", payload)
        assert response.status_code == 400, payload
        assert response["Content-Type"] == PROBLEM
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="Hi")
    url = f"/api/v1/chats/{session.pk}/messages/"
    for query in ("?after=abc", "?after=-1"):
        response = client.get(url + query)
        assert response.status_code == 400 and response.json()["errors"]["after"]
    assert client.get("/api/v1/chats/?status=bogus").status_code == 400
    assert post(client, url, {"body": " "}).status_code == 400
    assert session.messages.count() == 1


def test_lists_are_role_aware(world: World) -> None:
    mine = chat_start(tenant=world.tenant, customer=world.contact1, body="one")
    theirs = chat_start(tenant=world.tenant, customer=world.owner1, body="two")
    seen = {c["id"] for c in api(world, world.contact1).get("/api/v1/chats/").json()["results"]}
    assert seen == {mine.pk}
    staff = api(world, world.agent)
    assert {c["id"] for c in staff.get("/api/v1/chats/").json()["results"]} == {
        mine.pk,
        theirs.pk,
    }
    assert staff.get("/api/v1/chats/?status=ended").json()["results"] == []
    other = api(world, world.contact1)
    for url in (f"/api/v1/chats/{theirs.pk}/", f"/api/v1/chats/{theirs.pk}/messages/"):
        response = other.get(url)
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM
        assert post(other, url, {"body": "x"}).status_code == 404
    assert theirs.messages.count() == 1


def test_list_query_count_is_constant(world: World) -> None:
    staff = api(world, world.agent)
    active_chat(world, world.contact1)
    staff.get("/api/v1/chats/")  # warm-up (the token's first use is recorded)
    with CaptureQueriesContext(connection) as few:
        assert len(staff.get("/api/v1/chats/").json()["results"]) == 1
    others = [ContactFactory(tenant=world.tenant, organization=world.org1) for _ in range(3)]
    for member in [world.owner1, *others]:
        active_chat(world, member)
    with CaptureQueriesContext(connection) as more:
        assert len(staff.get("/api/v1/chats/").json()["results"]) == 5
    assert len(more) == len(few)


def test_agent_accepts_replies_and_ends_with_severity(world: World) -> None:
    session = chat_start(tenant=world.tenant, customer=world.contact1, body="Help")
    agent = api(world, world.agent)
    detail = f"/api/v1/chats/{session.pk}/"
    url = detail + "messages/"
    assert post(agent, url, {"body": "early"}).status_code == 400  # not accepted yet
    accepted = post(agent, detail, {"action": "accept"})
    assert accepted.status_code == 200 and accepted.json()["agent"]["id"] == world.agent.pk
    second = post(api(world, world.lead), detail, {"action": "accept"})
    assert second.status_code == 400 and second["Content-Type"] == PROBLEM
    assert post(api(world, world.contact1), detail, {"action": "accept"}).status_code == 400
    assert post(agent, url, {"body": "Hello, I am here"}).status_code == 201
    customer_view = api(world, world.contact1).get(url + "?after=1").json()
    assert customer_view["chat"]["status"] == "active"
    assert [m["kind"] for m in customer_view["results"]] == ["system", "agent"]
    sev1 = Severity.objects.for_tenant(world.tenant).get(key="sev1")
    assert post(agent, detail, {"action": "end", "severity": 999999}).status_code == 400
    ended = post(agent, detail, {"action": "end", "severity": sev1.pk})
    assert ended.status_code == 200
    reference = ended.json()["ticket"]["reference"]
    ticket = Ticket.objects.for_tenant(world.tenant).get(pk=ended.json()["ticket"]["id"])
    assert ticket.reference == reference and ticket.severity == sev1 and ticket.channel == "chat"
    after_end = post(api(world, world.contact1), url, {"body": "late"})
    assert after_end.status_code == 400
    # The customer sees the ticket too, through the tickets API.
    tickets = api(world, world.contact1).get(f"/api/v1/tickets/{ticket.pk}/")
    assert tickets.status_code == 200


def test_customer_ends_own_chat(world: World) -> None:
    session = active_chat(world)
    response = post(api(world, world.contact1), f"/api/v1/chats/{session.pk}/", {"action": "end"})
    assert response.status_code == 200 and response.json()["status"] == "ended"
    assert response.json()["ticket"] is not None


def test_cross_tenant_and_anonymous(world: World, beta: World) -> None:
    session = active_chat(world)
    foreign = api(beta, beta.admin)
    for url in (f"/api/v1/chats/{session.pk}/", f"/api/v1/chats/{session.pk}/messages/"):
        assert foreign.get(url).status_code == 404
        assert post(foreign, url, {"body": "x", "action": "end"}).status_code == 404
    assert foreign.get("/api/v1/chats/").json()["results"] == []
    anonymous = Client(HTTP_HOST=world.host).get(f"/api/v1/chats/{session.pk}/messages/")
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == PROBLEM
    # A session cookie works for the portal's own script (with CSRF on writes).
    browser = world.client(world.contact1)
    url = f"/api/v1/chats/{session.pk}/messages/"
    assert browser.get(url).status_code == 200
    session.refresh_from_db()
    assert session.status == "active"
