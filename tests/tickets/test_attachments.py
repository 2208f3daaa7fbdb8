"""Attachments: the tenant's size limit and type allowlist, sniffed types, Unicode names, chunked
streaming and hashing, and the headers of every way a file is served."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from tests.conftest import World
from tickets.models import Attachment
from tickets.services import attachment_add, ticket_reply, ticket_settings_update
from tickets.services.attachments import CHUNK_BYTES, filename_clean
from tickets.sniff import sniff

from .conftest import PNG, api, new_ticket, upload

pytestmark = pytest.mark.usefixtures("media")

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


class CountingStream(io.RawIOBase):
    """A large stream that records how much was asked for at once (never holds the file)."""

    def __init__(self, size: int, head: bytes = b"") -> None:
        self.remaining = size
        self.head = head
        self.max_read = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            raise AssertionError("the whole file was asked for at once")
        self.max_read = max(self.max_read, n)
        if self.head:
            out, self.head = self.head[:n], self.head[n:]
        else:
            count = min(n, self.remaining)
            out = b"a" * count
            self.remaining -= count
        self.digest.update(out)
        return out


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (PNG, "text/plain", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "", "image/jpeg"),
        (b"GIF89a....", "", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "", "image/webp"),
        (b"%PDF-1.7\n", "", "application/pdf"),
        (
            b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml...word/document.xml",
            "",
            ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ),
        (b"PK\x03\x04" + b"\x00" * 26 + b"hello.txt", "", "application/zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "application/msword", "application/msword"),
        (b"just some text\nover lines", "image/png", "text/plain"),
        ("Grüße, 日本語".encode(), "", "text/plain"),
        (SVG, "image/png", "image/svg+xml"),
        (b"<!doctype html><html><script>x</script>", "text/plain", "text/html"),
        (b"\x00\x01\x02binary", "", "application/octet-stream"),
    ],
)
def test_content_type_is_sniffed_not_trusted(head: bytes, declared: str, expected: str) -> None:
    assert sniff(head, declared) == expected


def test_upload_keeps_the_unicode_name_and_stores_a_random_one(alpha: World, media: Path) -> None:
    ticket = new_ticket(alpha)
    name = "Отчёт 2026 — résumé 📎.pdf"
    attachment = upload(ticket, alpha.contact1, b"%PDF-1.4 body", name=name)
    assert attachment.filename == name
    assert (attachment.content_type, attachment.size) == ("application/pdf", 13)
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4 body").hexdigest()
    stored = str(attachment.file.name)
    assert stored.startswith(f"attachments/{alpha.tenant.pk}/")
    assert "pdf" not in stored and "Отчёт" not in stored  # random, no real name, no extension
    assert (media / stored).read_bytes() == b"%PDF-1.4 body"
    assert attachment.public is True  # a customer's upload
    event: Any = ticket.events.get(kind="attachment_added")
    assert event.after["filename"] == name and event.actor_id == alpha.contact1.user_id


def test_filenames_lose_paths_controls_and_bidi_overrides() -> None:
    assert filename_clean("../../etc/passwd") == "passwd"
    assert filename_clean("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert filename_clean("invoice\u202efdp.exe") == "invoicefdp.exe"
    assert filename_clean("a\r\nb\x00.txt") == "ab.txt"
    assert filename_clean("") == "attachment"
    long = "x" * 400 + ".pdf"
    assert len(filename_clean(long)) == 255 and filename_clean(long).endswith(".pdf")


def test_size_limit_and_type_allowlist(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_settings_update(tenant=alpha.tenant, max_attachment_bytes=10)
    with pytest.raises(ValidationError) as exc:
        upload(ticket, alpha.contact1, b"x" * 11)
    assert "file" in exc.value.message_dict
    assert upload(ticket, alpha.contact1, b"x" * 10).size == 10
    ticket_settings_update(tenant=alpha.tenant, max_attachment_bytes=1000)
    for content, name in ((SVG, "logo.svg"), (b"<html><script>1</script>", "x.txt")):
        with pytest.raises(ValidationError) as exc:
            upload(ticket, alpha.contact1, content, name=name)
        assert "not accepted" in exc.value.message_dict["file"][0]
    ticket_settings_update(
        tenant=alpha.tenant, max_attachment_bytes=1000, allowed_content_types=["image/svg+xml"]
    )
    assert upload(ticket, alpha.contact1, SVG, name="logo.svg").content_type == "image/svg+xml"
    with pytest.raises(ValidationError):
        upload(ticket, alpha.contact1, PNG, name="shot.png")  # no longer allowed
    assert Attachment.objects.filter(ticket=ticket).count() == 2


def test_size_limit_holds_for_streams_of_unknown_size(alpha: World, media: Path) -> None:
    ticket = new_ticket(alpha)
    ticket_settings_update(tenant=alpha.tenant, max_attachment_bytes=100_000)
    stream = CountingStream(200_000)
    with pytest.raises(ValidationError):
        attachment_add(ticket=ticket, upload=stream, filename="big.txt", by=alpha.contact1.user)
    assert stream.remaining > 0  # it stopped reading once past the limit
    assert not list(media.rglob("*")) or all(p.is_dir() for p in media.rglob("*"))


def test_a_25_mb_upload_is_streamed_and_hashed_in_chunks(alpha: World, media: Path) -> None:
    ticket = new_ticket(alpha)
    ticket_settings_update(tenant=alpha.tenant, max_attachment_bytes=30 * 1024 * 1024)
    size = 25 * 1024 * 1024
    stream = CountingStream(size, head=b"%PDF-1.7\n")
    attachment = attachment_add(
        ticket=ticket, upload=stream, filename="manual.pdf", by=alpha.agent.user
    )
    assert attachment.size == size + len(b"%PDF-1.7\n")
    assert attachment.sha256 == stream.digest.hexdigest()
    assert stream.max_read <= max(CHUNK_BYTES, 8192)  # never the whole file at once
    assert Path(attachment.file.path).stat().st_size == attachment.size
    assert attachment.public is False  # an agent's upload stays internal until sent


def test_agent_files_become_public_with_a_public_reply(alpha: World) -> None:
    ticket = new_ticket(alpha)
    draft = upload(ticket, alpha.agent, PNG, name="fix.png")
    assert draft.public is False
    reply = ticket_reply(
        ticket=ticket, body="See screenshot", author=alpha.agent.user, attachments=[draft]
    )
    draft.refresh_from_db()
    assert (draft.message_id, draft.public) == (reply.pk, True)
    with pytest.raises(ValidationError):  # already on a message
        ticket_reply(ticket=ticket, body="again", author=alpha.agent.user, attachments=[draft])


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_download_headers_api_and_portal(alpha: World) -> None:
    ticket = new_ticket(alpha)
    name = "Résumé d\u2019été.txt"
    attachment = upload(ticket, alpha.contact1, "Grüße".encode(), name=name)
    api_url = f"/api/v1/tickets/{ticket.pk}/attachments/{attachment.pk}/"
    portal_url = f"/tickets/{ticket.reference}/attachments/{attachment.pk}/"
    for client, url in (
        (api(alpha, alpha.contact1).client, api_url),
        (alpha.client(alpha.contact1), portal_url),
        (alpha.client(alpha.agent), portal_url),
    ):
        response, body = _get(client, url)
        assert response.status_code == 200, url
        assert response.streaming  # FileResponse
        assert body == "Grüße".encode()
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=utf-8''R%C3%A9sum%C3%A9" in disposition
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_raster_images_preview_inline_svg_never(alpha: World) -> None:
    ticket = new_ticket(alpha)
    ticket_settings_update(
        tenant=alpha.tenant, allowed_content_types=["image/png", "image/svg+xml", "text/plain"]
    )
    png = upload(ticket, alpha.contact1, PNG, name="shot.png")
    svg = upload(ticket, alpha.contact1, SVG, name="logo.svg")
    client = alpha.client(alpha.contact1)
    base = f"/tickets/{ticket.reference}/attachments/"

    response, _ = _get(client, f"{base}{png.pk}/")
    assert response["Content-Disposition"].startswith("attachment")
    response, _ = _get(client, f"{base}{png.pk}/?preview=1")
    assert response["Content-Disposition"].startswith("inline")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"

    for suffix in ("", "?preview=1"):
        response, body = _get(client, f"{base}{svg.pk}/{suffix}")
        assert response["Content-Disposition"].startswith("attachment")
        assert response["Content-Type"] == "application/octet-stream"
        assert "svg" not in response["Content-Type"]
        assert body == SVG


def test_customers_never_get_internal_files(alpha: World, beta: World) -> None:
    ticket = new_ticket(alpha)
    internal = upload(ticket, alpha.agent, b"internal memo")
    for client in (
        alpha.client(alpha.contact1),
        alpha.client(alpha.owner1),
    ):
        response = client.get(f"/tickets/{ticket.reference}/attachments/{internal.pk}/")
        assert response.status_code == 404
    assert (
        alpha.client(alpha.agent)
        .get(f"/tickets/{ticket.reference}/attachments/{internal.pk}/")
        .status_code
        == 200
    )
    # Another organization's customer: the ticket itself is not theirs.
    public = upload(ticket, alpha.contact1, b"public")
    url = f"/tickets/{ticket.reference}/attachments/{public.pk}/"
    assert alpha.client(alpha.contact2).get(url).status_code == 404
    assert alpha.client(alpha.owner2).get(url).status_code == 404
    assert beta.client(beta.admin).get(url).status_code == 404
    anonymous = alpha.client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_missing_file_is_404_not_500(alpha: World, media: Path) -> None:
    ticket = new_ticket(alpha)
    attachment = upload(ticket, alpha.contact1)
    Path(attachment.file.path).unlink()
    response = api(alpha, alpha.agent).get(
        f"/api/v1/tickets/{ticket.pk}/attachments/{attachment.pk}/"
    )
    assert response.status_code == 404


def test_content_file_helper_is_seekable(alpha: World) -> None:
    # A ContentFile read once (e.g. by a form) is rewound before sniffing.
    ticket = new_ticket(alpha)
    content = ContentFile(PNG, name="x.png")
    content.read()
    attachment = attachment_add(ticket=ticket, upload=content, by=alpha.contact1.user)
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
