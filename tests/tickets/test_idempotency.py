"""Idempotency-Key on POST: replay, conflict, per-caller keys, failures not remembered, and
concurrent duplicates that never create two tickets."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from helpdesk.models import IdempotencyRecord
from helpdesk.services import api_token_create
from tests.conftest import World, build_world
from tickets.models import Ticket

from .test_api_tickets import problem


def token_client(world: World, membership: Any) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def post(
    client: Client, body: dict[str, Any], key: str | None, url: str = "/api/v1/tickets/"
) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def body_for(world: World, subject: str = "Broken") -> dict[str, Any]:
    return {"subject": subject, "requester_email": world.contact1.user.email}


def test_same_key_same_body_replays(alpha: World) -> None:
    client = token_client(alpha, alpha.agent)
    first = post(client, body_for(alpha), "key-1")
    assert first.status_code == 201
    second = post(client, body_for(alpha), "key-1")
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["ETag"] == first["ETag"]
    assert Ticket.objects.filter(tenant=alpha.tenant).count() == 1
    # No key: two tickets.
    post(client, body_for(alpha), None)
    post(client, body_for(alpha), None)
    assert Ticket.objects.filter(tenant=alpha.tenant).count() == 3


def test_same_key_other_body_is_422(alpha: World) -> None:
    client = token_client(alpha, alpha.agent)
    assert post(client, body_for(alpha), "key-2").status_code == 201
    conflict = post(client, body_for(alpha, subject="Other"), "key-2")
    body = problem(conflict, 422)
    assert "Idempotency-Key" in body["detail"]
    other_path = post(client, {"body": "x"}, "key-2", url="/api/v1/tickets/999999/messages/")
    assert other_path.status_code in (404, 422)
    assert Ticket.objects.filter(tenant=alpha.tenant).count() == 1


def test_keys_belong_to_the_caller(alpha: World, beta: World) -> None:
    one, two = token_client(alpha, alpha.agent), token_client(alpha, alpha.lead)
    assert post(one, body_for(alpha), "shared").status_code == 201
    assert post(two, body_for(alpha), "shared").status_code == 201
    assert Ticket.objects.filter(tenant=alpha.tenant).count() == 2
    assert post(token_client(beta, beta.agent), body_for(beta), "shared").status_code == 201
    assert IdempotencyRecord.objects.filter(key="shared").count() == 3


def test_a_failed_request_is_not_remembered(alpha: World) -> None:
    client = token_client(alpha, alpha.agent)
    bad = post(client, {"subject": "No requester"}, "key-3")
    problem(bad, 400)
    assert not IdempotencyRecord.objects.filter(key="key-3").exists()
    good = post(client, {"subject": "No requester"} | body_for(alpha), "key-3")
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good


def test_key_length_and_other_posts(alpha: World) -> None:
    client = token_client(alpha, alpha.agent)
    problem(post(client, body_for(alpha), "k" * 300), 400)
    ticket = post(client, body_for(alpha), None).json()
    url = f"/api/v1/tickets/{ticket['id']}/messages/"
    first = post(client, {"body": "Once"}, "msg-1", url=url)
    again = post(client, {"body": "Once"}, "msg-1", url=url)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Ticket.objects.get(pk=ticket["id"]).messages.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_ticket() -> None:
    world = build_world("race")
    _, key = api_token_create(tenant=world.tenant, membership=world.agent)
    body = json.dumps(body_for(world))
    start = threading.Barrier(6)
    responses: list[Any] = []
    errors: list[BaseException] = []

    def go() -> None:
        client = Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")
        try:
            start.wait()
            responses.append(
                client.post(
                    "/api/v1/tickets/",
                    body,
                    content_type="application/json",
                    headers={"Idempotency-Key": "race-key"},
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert Ticket.objects.filter(tenant=world.tenant).count() == 1
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == 5


def test_every_api_post_is_covered_not_just_tickets(alpha: World) -> None:
    from sla.models import Severity

    client = token_client(alpha, alpha.admin)
    body = {"key": "p1", "name": "P1", "rank": 1}
    first = post(client, body, "sev-1", url="/api/v1/severities/")
    second = post(client, body, "sev-1", url="/api/v1/severities/")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Severity.objects.filter(tenant=alpha.tenant, key="p1").count() == 1


def test_an_unknown_caller_is_left_to_the_view(alpha: World) -> None:
    client = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION="Token hd_nope")
    problem(post(client, body_for(alpha), "k"), 401)
    assert not IdempotencyRecord.objects.exists()
