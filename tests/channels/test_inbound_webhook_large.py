"""The Mailgun inbound webhook past Django's 2.5 MB form limit: the raw MIME (a form *field*)
is streamed to a temporary file, the signature is checked on the small fields before anything
is stored, and the request is capped (413)."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory, override_settings

from channels.email import webhooks
from channels.email.models import InboundEmail, Mailbox
from channels.email.webhook_form import FIELD_MAX, FormRefused, FormTooLarge, multipart_read
from tests.channels.test_inbound import SUPPORT, eml
from tests.channels.test_inbound_webhook import KEY, signed, url
from tests.conftest import World
from tickets.models import Attachment, Ticket

BOUNDARY = "mgstream-boundary-7f3a9c"
MIB = 1 << 20


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Path) -> None:
    """Stored files go to this test's own folder: "nothing stored" must not see another run's
    files under a tenant id that another test database reused."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def mailbox(alpha: World) -> Mailbox:
    return Mailbox.objects.create(tenant=alpha.tenant, address=SUPPORT, webhook_signing_key=KEY)


def pdf(size: int) -> bytes:
    """Random bytes that the attachment sniffer takes for a PDF (the desk's default allowlist
    refuses unknown types)."""
    head = b"%PDF-1.4\n"
    return head + os.urandom(size - len(head))


def large_eml(world: World, payload: bytes) -> bytes:
    return eml(
        sender=world.contact1.user.email,
        subject="Screenshots of the crash",
        message_id="<large-1@customer.example>",
        attachments=(("crash.pdf", "application/pdf", payload),),
    )


def write_form(path: Path, fields: dict[str, Any]) -> int:
    """A multipart/form-data body as Mailgun posts it, written to ``path``; its size."""
    with path.open("wb") as out:
        for name, value in fields.items():
            out.write(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            )
            out.write(value if isinstance(value, bytes) else str(value).encode())
            out.write(b"\r\n")
        out.write(f"--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def stream_environ(body: Any, size: int) -> dict[str, Any]:
    """WSGI keys that make the request read ``body`` (an open file) as a server would read the
    socket: no copy of the body in memory before the view reads it."""
    return {
        "wsgi.input": body,
        "CONTENT_LENGTH": str(size),
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
    }


def post_file(world: World, mailbox: Mailbox, path: Path, size: int) -> Any:
    with path.open("rb") as body:
        return Client(HTTP_HOST=world.host).post(
            url(mailbox), data=b"", content_type="text/plain", **stream_environ(body, size)
        )


def nothing_stored(world: World) -> bool:
    return (
        not InboundEmail.objects.exists()
        and not Ticket.objects.exists()
        and not Attachment.objects.exists()
        and not default_storage.exists(f"email-raw/{world.tenant.pk}")
    )


def test_large_raw_mime_becomes_a_ticket_with_flat_memory(
    alpha: World, mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = pdf(4_500_000)
    raw = large_eml(alpha, payload)
    assert len(raw) > 6_000_000  # base64: past Django's 2.5 MB form limit more than twice over
    path = tmp_path / "form"
    size = write_form(path, signed(**{"recipient": SUPPORT, "body-mime": raw}))

    seen: dict[str, int] = {}
    real_ingest = webhooks.inbound_ingest

    def measured_ingest(**kwargs: Any) -> InboundEmail:
        seen["peak_before_pipeline"] = tracemalloc.get_traced_memory()[1]
        seen["raw"] = len(kwargs["raw"])
        return real_ingest(**kwargs)

    monkeypatch.setattr(webhooks, "inbound_ingest", measured_ingest)
    # The process's first request imports the URL conf and its views: not this view's cost.
    assert Client(HTTP_HOST=alpha.host).get(url(mailbox)).status_code == 200
    tracemalloc.start()
    try:
        response = post_file(alpha, mailbox, path, size)
        whole_request_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "created"
    ticket = Ticket.objects.get()
    assert ticket.subject == "Screenshots of the crash"
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.filename, attachment.size) == ("crash.pdf", len(payload))
    assert attachment.sha256 == hashlib.sha256(payload).hexdigest()
    with attachment.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == hashlib.sha256(payload).hexdigest()
    # The pipeline takes bytes: the message read once from its temporary file is the only
    # copy of it in memory up to that point; receiving it cost less than 1 MiB besides.
    assert seen["raw"] == len(raw)
    assert seen["peak_before_pipeline"] < len(raw) + MIB, seen
    print(
        f"\nmessage {len(raw)} B, request {size} B; peak before the pipeline "
        f"{seen['peak_before_pipeline']} B ({seen['peak_before_pipeline'] - len(raw)} B over "
        f"the message); whole request incl. parsing and storing {whole_request_peak} B"
    )


def test_reading_a_large_form_stays_under_a_mebibyte(alpha: World, tmp_path: Path) -> None:
    raw = large_eml(alpha, pdf(4_500_000))
    path = tmp_path / "form"
    size = write_form(path, signed(**{"recipient": SUPPORT, "body-mime": raw}))
    with path.open("rb") as body:
        request = RequestFactory().post(
            "/", data=b"", content_type="text/plain", **stream_environ(body, size)
        )
        tracemalloc.start()
        try:
            with multipart_read(request, limit=size, spool={"body-mime"}) as form:
                reading_peak = tracemalloc.get_traced_memory()[1]
                assert form.fields["recipient"] == SUPPORT
                assert set(form.fields) == {"timestamp", "token", "signature", "recipient"}
                assert hashlib.sha256(form.spooled["body-mime"].read()).digest() == (
                    hashlib.sha256(raw).digest()
                )
        finally:
            tracemalloc.stop()
    # A fair streaming bound: a 64 KiB chunk, the 256 KiB kept in memory before the spool
    # moves to disk, the decoder's buffer and the small fields; not the message (6 MB).
    assert reading_peak < MIB < len(raw) // 2, reading_peak
    print(f"\nreading a {size} B form peaked at {reading_peak} B")


def test_bad_signature_on_a_large_post_is_400_and_nothing_stored(
    alpha: World, mailbox: Mailbox, tmp_path: Path
) -> None:
    raw = large_eml(alpha, pdf(4_500_000))
    path = tmp_path / "form"
    size = write_form(path, signed(key="not-the-key", **{"body-mime": raw}))
    assert post_file(alpha, mailbox, path, size).status_code == 400
    fields = signed(**{"body-mime": raw})
    fields["token"] = "b" * 50  # signed for another token
    size = write_form(path, fields)
    assert post_file(alpha, mailbox, path, size).status_code == 400
    assert nothing_stored(alpha)


@override_settings(HELPDESK_INBOUND_MAX_BYTES=2 * MIB)
def test_a_post_over_the_cap_is_413_and_nothing_stored(
    alpha: World, mailbox: Mailbox, tmp_path: Path
) -> None:
    raw = large_eml(alpha, pdf(2_500_000))
    path = tmp_path / "form"
    size = write_form(path, signed(**{"body-mime": raw}))
    assert size > webhooks.request_max_bytes() == 3 * MIB
    response = post_file(alpha, mailbox, path, size)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert str(webhooks.request_max_bytes()) in response.json()["detail"]
    assert nothing_stored(alpha)


def test_a_message_over_the_pipeline_limit_within_the_cap_is_quarantined_not_lost(
    alpha: World, mailbox: Mailbox, tmp_path: Path
) -> None:
    raw = large_eml(alpha, pdf(3_000_000))
    path = tmp_path / "form"
    size = write_form(path, signed(**{"body-mime": raw}))
    with override_settings(HELPDESK_INBOUND_MAX_BYTES=len(raw) - 1000):
        assert size <= webhooks.request_max_bytes()
        response = post_file(alpha, mailbox, path, size)
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "quarantined"
    row = InboundEmail.objects.get()
    assert row.reason.startswith("too large") and row.raw_size == len(raw)
    with row.raw.open("rb") as kept:
        assert kept.read() == raw
    assert not Ticket.objects.exists()


def test_a_small_field_over_its_cap_is_400(alpha: World, mailbox: Mailbox) -> None:
    raw = eml(sender=alpha.contact1.user.email)
    fields = signed(**{"body-mime": raw.decode(), "subject": "x" * (FIELD_MAX + 1)})
    response = Client(HTTP_HOST=alpha.host).post(url(mailbox), fields)
    assert response.status_code == 400
    assert "subject" in response.json()["detail"]
    assert nothing_stored(alpha)


def test_a_truncated_body_is_400_and_nothing_stored(
    alpha: World, mailbox: Mailbox, tmp_path: Path
) -> None:
    raw = large_eml(alpha, pdf(1_000_000))
    path = tmp_path / "form"
    size = write_form(path, signed(**{"body-mime": raw}))
    with path.open("r+b") as body:
        body.truncate(size // 2)  # the connection dropped half-way
    response = post_file(alpha, mailbox, path, size // 2)
    assert response.status_code == 400
    assert "ends before its closing boundary" in response.json()["detail"]
    assert nothing_stored(alpha)


def test_raw_mime_reaches_the_pipeline_byte_for_byte(
    alpha: World, mailbox: Mailbox, tmp_path: Path
) -> None:
    # 8-bit Latin-1 is not UTF-8: read as a text field it would have become U+FFFD.
    raw = (
        f"From: {alpha.contact1.user.email}\r\nTo: {SUPPORT}\r\nSubject: Gruss\r\n"
        "Message-ID: <latin1@customer.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nViele Grüße aus Köln.\r\n"
    ).encode("latin-1")
    path = tmp_path / "form"
    size = write_form(path, signed(**{"body-mime": raw}))
    response = post_file(alpha, mailbox, path, size)
    assert response.status_code == 200, response.content
    assert Ticket.objects.get().description == "Viele Grüße aus Köln."


def test_large_fully_parsed_post_keeps_its_text_and_attachment(
    alpha: World, mailbox: Mailbox
) -> None:
    payload = pdf(3_000_000)
    text = "Der Drucker brennt. " * 4000  # 80 KB: over the small-field cap, so spooled
    fields = signed(
        **{
            "message-headers": (
                f'[["From", "{alpha.contact1.user.email}"], ["To", "{SUPPORT}"], '
                '["Subject", "Großer Anhang"], ["Message-Id", "<parsed-large@customer.example>"]]'
            ),
            "body-plain": text,
            "body-html": f"<p>{text}</p>",
            "attachment-count": "1",
            "attachment-1": SimpleUploadedFile("brand.pdf", payload, "application/pdf"),
        }
    )
    response = Client(HTTP_HOST=alpha.host).post(url(mailbox), fields)
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get()
    assert ticket.subject == "Großer Anhang"
    assert ticket.description == text.strip()
    attachment = Attachment.objects.get(ticket=ticket)
    assert (attachment.filename, attachment.size) == ("brand.pdf", len(payload))
    assert attachment.sha256 == hashlib.sha256(payload).hexdigest()


def test_the_reader_refuses_a_content_length_over_the_limit_before_reading(
    tmp_path: Path,
) -> None:
    path = tmp_path / "form"
    size = write_form(path, {"body-mime": b"x" * 5000})
    with path.open("rb") as body:
        request = RequestFactory().post(
            "/", data=b"", content_type="text/plain", **stream_environ(body, size)
        )
        with pytest.raises(FormTooLarge):
            multipart_read(request, limit=size - 1, spool={"body-mime"})
        assert body.tell() == 0
    no_boundary = RequestFactory().post("/", data=b"x", content_type="multipart/form-data")
    with pytest.raises(FormRefused):
        multipart_read(no_boundary, limit=MIB, spool=())
