"""/api/v1/tickets/{id}/messages/, /attachments/ and /events/: customers never see internal
notes (nor internal files, nor the log), uploads are checked, lists keep a flat query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tickets.services import ticket_note, ticket_reply, ticket_settings_update

from .conftest import PNG, api, new_ticket, upload
from .test_api_tickets import problem

pytestmark = pytest.mark.usefixtures("media")


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_customers_never_see_internal_notes(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_reply(ticket=ticket, body="Public answer", author=alpha.agent.user)
    ticket_note(ticket=ticket, body="INTERNAL: customer is difficult", by=alpha.agent)
    url = f"/api/v1/tickets/{ticket.pk}/messages/"
    for member in (alpha.contact1, alpha.owner1):
        response = api(alpha, member).get(url)
        assert [m["body"] for m in results(response)] == ["Public answer"]
        assert b"INTERNAL" not in response.content
    staff = results(api(alpha, alpha.agent).get(url))
    assert [(m["body"], m["public"]) for m in staff] == [
        ("Public answer", True),
        ("INTERNAL: customer is difficult", False),
    ]
    assert set(staff[0]) >= {"id", "body", "public", "author_email", "created_at", "attachments"}
    assert staff[0]["author_email"] == alpha.agent.user.email
    # Another organization's customer: no such ticket.
    problem(api(alpha, alpha.contact2).get(url), 404)
    problem(api(alpha, alpha.owner2).get(url), 404)


def test_post_messages(alpha: World, setup: Any) -> None:
    ticket = new_ticket(alpha, severity=setup.high)
    url = f"/api/v1/tickets/{ticket.pk}/messages/"
    customer = api(alpha, alpha.contact1)
    response = customer.post(url, {"body": "Any news?"})
    assert response.status_code == 201, response.content
    assert (response.json()["public"], response.json()["author_email"]) == (
        True,
        alpha.contact1.user.email,
    )
    assert list(problem(customer.post(url, {"body": "psst", "public": False}), 400)["errors"]) == [
        "public"
    ]
    assert "status" in problem(customer.post(url, {"body": "x", "status": "solved"}), 400)["errors"]
    assert "body" in problem(customer.post(url, {"body": ""}), 400)["errors"]
    assert "body" in problem(customer.post(url, {}), 400)["errors"]

    agent = api(alpha, alpha.agent)
    note = agent.post(url, {"body": "Checking logs", "public": False})
    assert note.status_code == 201 and note.json()["public"] is False
    reply = agent.post(url, {"body": "Fixed, please confirm", "status": "pending"})
    assert reply.status_code == 201
    detail = agent.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert detail["status"] == "pending"
    first = next(c for c in detail["sla"] if c["metric"] == "first_response")
    assert first["status"] == "met"
    # The customer's reply moves pending back to open.
    customer.post(url, {"body": "Confirmed, thanks"})
    assert agent.get(f"/api/v1/tickets/{ticket.pk}/").json()["status"] == "open"


def test_attachments_upload_list_and_download(alpha: World) -> None:
    ticket = new_ticket(alpha)
    url = f"/api/v1/tickets/{ticket.pk}/attachments/"
    customer = api(alpha, alpha.contact1)
    shot = SimpleUploadedFile("écran.png", PNG, content_type="application/x-evil")
    response = customer.client.post(url, {"file": shot})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["filename"], data["content_type"], data["declared_content_type"]) == (
        "écran.png",
        "image/png",
        "application/x-evil",
    )
    assert data["size"] == len(PNG) and data["public"] is True
    assert data["url"].endswith(f"/api/v1/tickets/{ticket.pk}/attachments/{data['id']}/")

    agent = api(alpha, alpha.agent)
    memo = agent.client.post(url, {"file": SimpleUploadedFile("memo.txt", b"internal memo")})
    assert memo.status_code == 201 and memo.json()["public"] is False
    assert [a["filename"] for a in results(customer.get(url))] == ["écran.png"]
    assert len(results(agent.get(url))) == 2
    problem(customer.get(f"{url}{memo.json()['id']}/"), 404)
    download = customer.get(f"{url}{data['id']}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    preview = customer.get(f"{url}{data['id']}/?preview=1")
    assert preview["Content-Disposition"].startswith("inline;")

    # Send the agent's file with a reply: it becomes visible on the message.
    reply = agent.post(
        f"/api/v1/tickets/{ticket.pk}/messages/",
        {"body": "Here is the memo", "attachments": [memo.json()["id"]]},
    )
    assert reply.status_code == 201, reply.content
    assert [a["filename"] for a in reply.json()["attachments"]] == ["memo.txt"]
    assert set(reply.json()["attachments"][0]) >= {"filename", "size", "content_type", "url"}
    assert len(results(customer.get(url))) == 2
    messages = results(customer.get(f"/api/v1/tickets/{ticket.pk}/messages/"))
    assert messages[0]["attachments"][0]["filename"] == "memo.txt"
    # A customer cannot attach somebody else's file.
    other = upload(ticket, alpha.owner1, b"owner file")
    body = problem(
        customer.post(
            f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "mine", "attachments": [other.pk]}
        ),
        400,
    )
    assert "attachments" in body["errors"]


def test_upload_limits_are_400_problems(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_settings_update(tenant=alpha.tenant, max_attachment_bytes=100)
    url = f"/api/v1/tickets/{ticket.pk}/attachments/"
    client = api(alpha, alpha.contact1).client
    big = client.post(url, {"file": SimpleUploadedFile("big.txt", b"x" * 101)})
    assert list(problem(big, 400)["errors"]) == ["file"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    bad = client.post(url, {"file": SimpleUploadedFile("x.png", svg, content_type="image/png")})
    assert "image/svg+xml" in problem(bad, 400)["errors"]["file"][0]
    assert "file" in problem(client.post(url, {}), 400)["errors"]
    problem(client.post(url, {"file": SimpleUploadedFile("a.txt", b"hi"), "message": 999}), 400)


def test_events_are_staff_only(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_note(ticket=ticket, body="note", by=alpha.agent)
    url = f"/api/v1/tickets/{ticket.pk}/events/"
    events = results(api(alpha, alpha.agent).get(url))
    assert [e["kind"] for e in events] == ["created", "note_added"]
    assert events[1]["actor_email"] == alpha.agent.user.email
    assert set(events[0]) == {"id", "kind", "field", "before", "after", "actor_email", "created_at"}
    for member in (alpha.contact1, alpha.owner1):
        problem(api(alpha, member).get(url), 403)


@pytest.mark.parametrize("child", ["messages", "attachments", "events"])
def test_nested_lists_keep_a_flat_query_count(alpha: World, child: str) -> None:
    ticket = new_ticket(alpha)
    for i in range(50):
        message = ticket_reply(ticket=ticket, body=f"Reply {i}", author=alpha.contact1.user)
        upload(ticket, alpha.contact1, f"file {i}".encode(), name=f"f{i}.txt", message=message)
    client = api(alpha, alpha.agent)
    url = f"/api/v1/tickets/{ticket.pk}/{child}/"
    client.get(url)
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"page_size": size})
        assert len(results(response)) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
