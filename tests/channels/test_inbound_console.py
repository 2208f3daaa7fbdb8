"""``/manage/email/``: addresses, the inbound log, the quarantine; admins only, per tenant."""

from __future__ import annotations

import pytest
from django.test import override_settings

from channels.email.inbound import inbound_ingest
from channels.email.models import InboundEmail, Mailbox
from tests.channels.test_inbound import eml
from tests.conftest import World
from tickets.models import Ticket

EVIL = (
    b"From: x@y.example\nSubject: <script>alert(1)</script>\nContent-Type: multipart/mixed\n\n"
    b"\x00\x1b[2J<b>bold</b>\n"
)


def _quarantined(world: World, raw: bytes = EVIL) -> InboundEmail:
    row = inbound_ingest(tenant=world.tenant, raw=raw, source="pipe")
    assert row.outcome == "quarantined"
    return row


def _mailbox(world: World, **extra: object) -> Mailbox:
    return Mailbox.objects.create(
        tenant=world.tenant,
        address=f"help@{world.tenant.slug}.example",
        imap_host="imap.example",
        imap_username="help",
        imap_password="s3cret-imap-pw",
        webhook_signing_key="s3cret-signing-key",
        **extra,
    )


def _pages(world: World) -> list[str]:
    mailbox = _mailbox(world)
    row = _quarantined(world)
    return [
        "/manage/email/",
        f"/manage/email/addresses/{mailbox.pk}/",
        f"/manage/email/addresses/{mailbox.pk}/delete/",
        "/manage/email/log/",
        "/manage/email/quarantine/",
        f"/manage/email/quarantine/{row.pk}/",
        f"/manage/email/quarantine/{row.pk}/raw/",
    ]


def test_admin_sees_every_page(alpha: World) -> None:
    client = alpha.client(alpha.admin)
    for page in _pages(alpha):
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("role", ["agent", "lead", "contact1", "owner1"])
def test_wrong_roles_get_404(alpha: World, role: str) -> None:
    client = alpha.client(getattr(alpha, role))
    for page in _pages(alpha):
        assert client.get(page).status_code == 404, page
        assert client.post(page).status_code in (404, 405), page  # 405: a read-only page


def test_anonymous_goes_to_login(alpha: World) -> None:
    client = alpha.client()
    for page in _pages(alpha):
        response = client.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], page


def test_other_tenants_rows_are_404_and_not_listed(alpha: World, beta: World) -> None:
    pages = _pages(alpha)
    client = beta.client(beta.admin)
    for page in pages:
        response = client.get(page)
        if page.rstrip("/").split("/")[-1].isdigit() or "/raw/" in page or "/delete/" in page:
            assert response.status_code == 404, page
        else:
            assert response.status_code == 200
            assert b"help@alpha.example" not in response.content
            assert b"alert(1)" not in response.content


def test_add_edit_keeps_secrets_and_never_echoes_them(alpha: World) -> None:
    client = alpha.client(alpha.admin)
    response = client.post(
        "/manage/email/",
        {
            "address": "Help@Alpha.example",
            "unknown_sender": "accept",
            "imap_enabled": "on",
            "imap_host": "imap.alpha.example",
            "imap_port": "993",
            "imap_ssl": "on",
            "imap_username": "help",
            "imap_password": "pw-1",
            "imap_folder": "INBOX",
            "webhook_signing_key": "key-1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mailbox = Mailbox.objects.get()
    assert (mailbox.address, mailbox.unknown_sender, mailbox.imap_password) == (
        "help@alpha.example",
        "accept",
        "pw-1",
    )
    page = client.get(f"/manage/email/addresses/{mailbox.pk}/").content.decode()
    assert "pw-1" not in page and "key-1" not in page
    assert f"/email/inbound/mailgun/{mailbox.pk}/" in page
    # Saving with the secret fields empty keeps them.
    response = client.post(
        f"/manage/email/addresses/{mailbox.pk}/",
        {
            "address": "help@alpha.example",
            "display_name": "Alpha Help",
            "unknown_sender": "refuse",
            "imap_enabled": "on",
            "imap_host": "imap.alpha.example",
            "imap_port": "143",
            "imap_username": "help",
            "imap_folder": "INBOX",
        },
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.display_name, mailbox.unknown_sender, mailbox.imap_port) == (
        "Alpha Help",
        "refuse",
        143,
    )
    assert (mailbox.imap_password, mailbox.webhook_signing_key) == ("pw-1", "key-1")


def test_bad_input_gets_inline_errors_and_loses_nothing(alpha: World) -> None:
    existing = _mailbox(alpha)
    client = alpha.client(alpha.admin)
    duplicate = client.post(
        "/manage/email/", {"address": existing.address, "unknown_sender": "pending"}
    )
    assert duplicate.status_code == 400
    assert "already one of yours" in duplicate.content.decode()
    imap_without_password = client.post(
        "/manage/email/",
        {"address": "new@alpha.example", "unknown_sender": "pending", "imap_enabled": "on"},
    )
    assert imap_without_password.status_code == 400
    assert "Needed to poll by IMAP." in imap_without_password.content.decode()
    assert Mailbox.objects.count() == 1


def test_delete(alpha: World) -> None:
    mailbox = _mailbox(alpha)
    _quarantined(alpha)
    client = alpha.client(alpha.admin)
    assert client.post(f"/manage/email/addresses/{mailbox.pk}/delete/").status_code == 302
    assert not Mailbox.objects.exists()
    assert InboundEmail.objects.count() == 1  # the log stays


def test_quarantine_detail_escapes_and_download_is_an_attachment(alpha: World) -> None:
    row = _quarantined(alpha)
    client = alpha.client(alpha.admin)
    page = client.get(f"/manage/email/quarantine/{row.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "\\x00\\x1b[2J&lt;b&gt;bold&lt;/b&gt;" in page
    assert "\x00" not in page
    download = client.get(f"/manage/email/quarantine/{row.pk}/raw/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/octet-stream"
    assert b"".join(download.streaming_content) == EVIL


@override_settings(HELPDESK_INBOUND_MAX_BYTES=200)
def test_large_raw_preview_is_cut(alpha: World) -> None:
    raw = eml(sender=alpha.contact1.user.email, body="y" * 500)
    row = _quarantined(alpha, raw)
    with override_settings():
        from channels.email import console_views

        console_views.RAW_PREVIEW_BYTES, saved = 100, console_views.RAW_PREVIEW_BYTES
        try:
            page = alpha.client(alpha.admin).get(f"/manage/email/quarantine/{row.pk}/")
        finally:
            console_views.RAW_PREVIEW_BYTES = saved
    assert "Only the first" in page.content.decode()


def test_retry_processes_the_message_again(alpha: World) -> None:
    raw = eml(sender=alpha.contact1.user.email, subject="Retried")
    with override_settings(HELPDESK_INBOUND_MAX_BYTES=100):
        row = _quarantined(alpha, raw)
    client = alpha.client(alpha.admin)
    response = client.post(f"/manage/email/quarantine/{row.pk}/")
    assert response.status_code == 302 and response["Location"] == "/manage/email/quarantine/"
    assert Ticket.objects.get().subject == "Retried"
    row.refresh_from_db()
    assert row.released_at is not None
    assert b"Retried" not in client.get("/manage/email/quarantine/").content
    # Released: a second retry is refused with a clear message.
    again = client.post(f"/manage/email/quarantine/{row.pk}/")
    assert again.status_code == 409 and "already released" in again.content.decode()
    assert Ticket.objects.count() == 1


def test_retry_of_still_malformed_message_stays_quarantined(alpha: World) -> None:
    row = _quarantined(alpha)
    client = alpha.client(alpha.admin)
    response = client.post(f"/manage/email/quarantine/{row.pk}/", follow=True)
    assert "Quarantined again" in response.content.decode()
    assert InboundEmail.objects.count() == 1


def test_log_filters_by_outcome(alpha: World) -> None:
    inbound_ingest(tenant=alpha.tenant, raw=eml(sender=alpha.contact1.user.email), source="pipe")
    _quarantined(alpha)
    client = alpha.client(alpha.admin)
    page = client.get("/manage/email/log/?outcome=created").content.decode()
    assert "Printer on fire" in page and "alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in client.get("/manage/email/log/").content.decode()
