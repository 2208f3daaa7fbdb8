"""The Mailgun inbound webhook (django-anymail): signature verified with the mailbox's key, the
raw MIME and the "fully parsed" forms both reach the pipeline."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from channels.email.models import InboundEmail, Mailbox
from tests.channels.test_inbound import PDF, SUPPORT, eml
from tests.conftest import World
from tickets.models import Attachment, Ticket

KEY = "key-0123456789abcdef"


@pytest.fixture
def mailbox(alpha: World) -> Mailbox:
    return Mailbox.objects.create(tenant=alpha.tenant, address=SUPPORT, webhook_signing_key=KEY)


def signed(key: str = KEY, **fields: Any) -> dict[str, Any]:
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature, **fields}


def url(mailbox: Mailbox) -> str:
    return f"/email/inbound/mailgun/{mailbox.pk}/"


def test_correctly_signed_raw_mime_opens_a_ticket(alpha: World, mailbox: Mailbox) -> None:
    raw = eml(sender=alpha.contact1.user.email, cc="colleague@customer.example")
    response = Client(HTTP_HOST=alpha.host).post(
        url(mailbox), signed(**{"body-mime": raw.decode(), "recipient": SUPPORT})
    )
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "created"
    ticket = Ticket.objects.get()
    assert ticket.cc == ["colleague@customer.example"]
    row = InboundEmail.objects.get()
    assert (row.source, row.mailbox_id) == ("webhook", mailbox.pk)
    # The provider retries: the same message again is a duplicate, still answered 200.
    again = Client(HTTP_HOST=alpha.host).post(url(mailbox), signed(**{"body-mime": raw.decode()}))
    assert again.json()["outcome"] == "duplicate"


def test_wrongly_signed_request_is_refused_and_nothing_ingested(
    alpha: World, mailbox: Mailbox
) -> None:
    raw = eml(sender=alpha.contact1.user.email).decode()
    client = Client(HTTP_HOST=alpha.host)
    wrong_key = client.post(url(mailbox), signed(key="not-the-key", **{"body-mime": raw}))
    assert wrong_key.status_code == 400
    fields = signed(**{"body-mime": raw})
    fields["timestamp"] = str(int(fields["timestamp"]) + 1)  # signature no longer matches
    assert client.post(url(mailbox), fields).status_code == 400
    unsigned = client.post(url(mailbox), {"body-mime": raw})
    assert unsigned.status_code == 400
    assert not InboundEmail.objects.exists() and not Ticket.objects.exists()


def test_fully_parsed_form_with_a_non_ascii_attachment(alpha: World, mailbox: Mailbox) -> None:
    headers = [
        ["From", f"Carla <{alpha.contact1.user.email}>"],
        ["To", SUPPORT],
        ["Subject", "Rechnung prüfen"],
        ["Message-Id", "<parsed-1@customer.example>"],
    ]
    fields = signed(
        **{
            "message-headers": json.dumps(headers),
            "body-plain": "Siehe Anhang.",
            "attachment-count": "1",
            "attachment-1": SimpleUploadedFile("rechnung-ä.pdf", PDF, "application/pdf"),
        }
    )
    response = Client(HTTP_HOST=alpha.host).post(url(mailbox), fields)
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert ticket.subject == "Rechnung prüfen"
    assert ticket.description == "Siehe Anhang."
    assert list(Attachment.objects.values_list("filename", flat=True)) == ["rechnung-ä.pdf"]


def test_other_tenant_and_unconfigured_mailbox_are_404(
    alpha: World, beta: World, mailbox: Mailbox
) -> None:
    raw = eml(sender=alpha.contact1.user.email).decode()
    on_beta = Client(HTTP_HOST=beta.host).post(url(mailbox), signed(**{"body-mime": raw}))
    assert on_beta.status_code == 404
    no_key = Mailbox.objects.create(tenant=alpha.tenant, address="nokey@alpha.example")
    response = Client(HTTP_HOST=alpha.host).post(url(no_key), signed(**{"body-mime": raw}))
    assert response.status_code == 404
    assert not InboundEmail.objects.exists()


def test_get_says_what_the_endpoint_is(alpha: World, mailbox: Mailbox) -> None:
    response = Client(HTTP_HOST=alpha.host).get(url(mailbox))
    assert response.status_code == 200
    assert "POST signed messages" in response.json()["detail"]
    assert KEY not in response.content.decode()
