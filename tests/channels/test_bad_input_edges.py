"""Bad input at the edges of chat and the Mailgun webhook is a 400, never a 500:

* The chat feed (``/chat/<id>/messages/``) and the chat API's poll took ``?after=²`` (a digit
  to ``str.isdigit``, not to ``int``) for a sequence number: 500.
* A message posted as JSON with a NUL character or a lone surrogate (``"\\u0000"``,
  ``"\\ud800"``: valid JSON, not storable text) reached the database: 500 on the visitor's feed,
  an anonymous endpoint.
* The Mailgun streaming reader named an over-long small field by ``part.name[:100]``; a part
  without a name (no ``name=`` in its Content-Disposition) made that a TypeError: 500 before the
  signature was even checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from channels.chat.models import ChatMessage
from channels.email.models import InboundEmail, Mailbox
from channels.email.webhook_form import FIELD_MAX
from tests.channels.test_chat_support import chat_ready
from tests.channels.test_chat_visitors import start, visitors_on
from tests.channels.test_inbound import SUPPORT
from tests.channels.test_inbound_webhook import KEY, signed, url
from tests.conftest import World
from tickets.models import Ticket

BOUNDARY = "review-boundary-5d1c"


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    cache.clear()  # the visitor start throttles count in the default cache
    yield
    cache.clear()


def _no_raise(client: Client) -> Client:
    client.raise_request_exception = False
    return client


# --- the chat feed: bad input is a 400, never a 500 -----------------------------------------------


@pytest.mark.parametrize("after", ["²", "①"])
def test_chat_feed_after_that_is_no_ascii_number_is_400(alpha: World, after: str) -> None:
    world = visitors_on(chat_ready(alpha))
    visitor, session = start(world)
    _no_raise(visitor)
    response = visitor.get(f"/chat/{session.pk}/messages/", {"after": after})
    assert response.status_code == 400, response.content[:300]
    assert "after" in response.json()["errors"]
    staff = _no_raise(world.client(world.admin))
    assert staff.get(f"/chat/{session.pk}/messages/", {"after": after}).status_code == 400
    api = staff.get(f"/api/v1/chats/{session.pk}/messages/", {"after": after})
    assert api.status_code == 400, api.content[:300]
    # A plain number still works.
    assert visitor.get(f"/chat/{session.pk}/messages/", {"after": "0"}).status_code == 200


@pytest.mark.parametrize("text", ["a\\u0000b", "a\\ud800b"])
def test_visitor_feed_refuses_text_that_cannot_be_stored(alpha: World, text: str) -> None:
    world = visitors_on(chat_ready(alpha))
    visitor, session = start(world)
    _no_raise(visitor)
    response = visitor.post(
        f"/chat/{session.pk}/messages/", f'{{"body": "{text}"}}', content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert "body" in response.json()["errors"]
    assert ChatMessage.objects.filter(session=session).count() == 1  # the first message only
    # The chat goes on.
    ok = visitor.post(
        f"/chat/{session.pk}/messages/", '{"body": "still here"}', content_type="application/json"
    )
    assert ok.status_code == 201


# --- the Mailgun webhook's streaming reader -------------------------------------------------------


def _form(parts: list[tuple[str | None, bytes]]) -> bytes:
    out = b""
    for name, value in parts:
        disposition = "form-data" + (f'; name="{name}"' if name is not None else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_mailgun_nameless_oversized_field_is_a_400_problem(alpha: World) -> None:
    mailbox = Mailbox.objects.create(tenant=alpha.tenant, address=SUPPORT, webhook_signing_key=KEY)
    fields = [(k, str(v).encode()) for k, v in signed(recipient=SUPPORT).items()]
    body = _form([*fields, (None, b"x" * (FIELD_MAX + 1))])
    client = _no_raise(Client(HTTP_HOST=alpha.host))
    response = client.post(
        url(mailbox), data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert not InboundEmail.objects.exists() and not Ticket.objects.exists()
