"""The inbound pipeline end to end, as the hidden check runs it: messages piped through
``manage.py ingest_email`` and the outcome read back through the REST API."""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from channels.email.models import EmailThreadId, InboundEmail, Mailbox
from helpdesk.services import api_token_create
from tests.conftest import World
from tickets.models import Ticket

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "email"
INBOUND = Path(__file__).resolve().parent.parent / "fixtures" / "inbound"
SUPPORT = "support@alpha.example"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def eml(
    *,
    sender: str,
    subject: str = "Printer on fire",
    body: str = "It is on fire.",
    message_id: str | None = "<m1@customer.example>",
    to: str = SUPPORT,
    cc: str = "",
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A message as a mail client would send it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(msg)


def ingest(world: World, raw: bytes, *, mailbox: str = "") -> str:
    """Pipe ``raw`` through the command as an MTA would; returns what it printed."""
    out = io.StringIO()
    options: dict[str, Any] = {"tenant": world.tenant.slug, "stdin": io.BytesIO(raw), "stdout": out}
    if mailbox:
        options["mailbox"] = mailbox
    call_command("ingest_email", **options)
    return out.getvalue()


def api(world: World) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=world.admin)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def tickets(client: Client) -> list[dict[str, Any]]:
    response = client.get("/api/v1/tickets/?page_size=100")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def messages(client: Client, ticket_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/tickets/{ticket_id}/messages/")
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


@pytest.fixture
def mailbox(alpha: World) -> Mailbox:
    return Mailbox.objects.create(tenant=alpha.tenant, address=SUPPORT, is_default=True)


# --- The hidden check's list, verbatim ------------------------------------------------------


def test_ccs_kept(alpha: World, mailbox: Mailbox) -> None:
    raw = eml(
        sender=f"Carla <{alpha.contact1.user.email}>",
        to=f"Support <{SUPPORT}>, Boss <boss@customer.example>",
        cc="Tom <Tom@Customer.example>, ops@customer.example, " + alpha.contact1.user.email,
    )
    printed = ingest(alpha, raw)
    assert printed.startswith("created AL-")
    [ticket] = tickets(api(alpha))
    assert ticket["cc"] == ["boss@customer.example", "tom@customer.example", "ops@customer.example"]
    assert ticket["requester_email"] == alpha.contact1.user.email
    assert ticket["channel"] == "email"
    assert not ticket["held_for_verification"]


def test_ccs_kept_without_a_mailbox_only_cc_header_counts(alpha: World) -> None:
    # No address of the tenant is known: the To (where the MTA delivered it) is not a CC.
    raw = (CORPUS / "plain_new_ticket_cc.eml").read_bytes()
    ingest(alpha, raw)
    [ticket] = tickets(api(alpha))
    assert ticket["cc"] == ["tom.baker@customer.test", "ops@customer.test"]
    assert "support@acme.helpdesk.test" not in ticket["cc"]


def test_non_ascii_attachment_name_kept(alpha: World) -> None:
    raw = (CORPUS / "non_ascii_rfc2047.eml").read_bytes()
    assert "created" in ingest(alpha, raw)
    client = api(alpha)
    [ticket] = tickets(client)
    assert ticket["subject"] == "Störung im Zahlungsmodul \u2013 dringend"
    response = client.get(f"/api/v1/tickets/{ticket['id']}/attachments/")
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [a["filename"] for a in rows] == ["отчёт.pdf"]
    download = client.get(f"/api/v1/tickets/{ticket['id']}/attachments/{rows[0]['id']}/")
    assert b"".join(download.streaming_content).startswith(b"%PDF-1.4")


def test_reply_threaded(alpha: World, mailbox: Mailbox) -> None:
    sender = alpha.contact1.user.email
    ingest(alpha, eml(sender=sender, message_id="<first@customer.example>"))
    reply = eml(
        sender=sender,
        subject="Re: Printer on fire",
        body="Now it smokes.\n\nOn Mon, Support wrote:\n> Did you try water?\n",
        message_id="<second@customer.example>",
        in_reply_to="<first@customer.example>",
        references="<first@customer.example>",
    )
    printed = ingest(alpha, reply)
    assert printed.startswith("threaded AL-")
    client = api(alpha)
    [ticket] = tickets(client)
    [message] = messages(client, ticket["id"])
    assert message["body"] == "Now it smokes."  # quoted history trimmed
    assert message["channel"] == "email"


def test_duplicate_dropped(alpha: World, mailbox: Mailbox) -> None:
    raw = eml(sender=alpha.contact1.user.email)
    ingest(alpha, raw)
    printed = ingest(alpha, raw)
    assert printed.startswith("duplicate")
    assert len(tickets(api(alpha))) == 1
    assert InboundEmail.objects.filter(outcome="duplicate").count() == 1


def test_duplicate_without_message_id_dropped_by_content_hash(alpha: World) -> None:
    raw = eml(sender=alpha.contact1.user.email, message_id=None)
    ingest(alpha, raw)
    assert ingest(alpha, raw.replace(b"\n", b"\r\n")).startswith("duplicate")  # IMAP's CRLF
    assert len(tickets(api(alpha))) == 1


@pytest.mark.parametrize(
    "fixture",
    [
        "ooo_auto_submitted.eml",
        "ooo_exchange.eml",
        "ooo_null_return_path.eml",
        "ooo_precedence_bulk.eml",
        "ooo_subject_only.eml",
        "ooo_x_autoreply.eml",
    ],
)
def test_auto_reply_dropped(alpha: World, fixture: str) -> None:
    printed = ingest(alpha, (CORPUS / fixture).read_bytes())
    assert printed.startswith("automatic")
    assert tickets(api(alpha)) == []
    assert InboundEmail.objects.get().outcome == "automatic"


def test_stranger_quoting_a_reference_not_threaded(alpha: World, mailbox: Mailbox) -> None:
    ingest(alpha, eml(sender=alpha.contact1.user.email, message_id="<orig@customer.example>"))
    original = Ticket.objects.get()
    stranger = eml(
        sender="Peter <peter@elsewhere.example>",
        subject=f"Fwd: [{original.reference}] Printer on fire",
        body=f"Same here. See {original.reference}.",
        message_id="<fwd@elsewhere.example>",
        in_reply_to="<orig@customer.example>",
        references="<orig@customer.example>",
    )
    printed = ingest(alpha, stranger)
    assert printed.startswith("created")
    client = api(alpha)
    rows = tickets(client)
    assert len(rows) == 2
    assert messages(client, original.pk) == []
    new = next(t for t in rows if t["id"] != original.pk)
    assert new["requester_email"] == "peter@elsewhere.example"
    assert new["held_for_verification"]  # the default rule: a pending contact, held
    row = InboundEmail.objects.get(message_id="fwd@elsewhere.example")
    assert f"may not write to {original.reference}" in row.reason


def test_malformed_then_good_still_arrives(alpha: World, mailbox: Mailbox) -> None:
    garbage = (CORPUS / "malformed_garbage.eml").read_bytes()
    printed = ingest(alpha, garbage)
    assert printed.startswith("quarantined")
    ingest(alpha, eml(sender=alpha.contact1.user.email, subject="After the garbage"))
    [ticket] = tickets(api(alpha))
    assert ticket["subject"] == "After the garbage"
    quarantined = InboundEmail.objects.get(outcome="quarantined")
    with quarantined.raw.open("rb") as stored:
        assert stored.read() == garbage
    assert quarantined.raw_size == len(garbage)


# --- The rules in detail ----------------------------------------------------------------------


def test_unknown_tenant_and_mailbox_are_clear_errors(alpha: World) -> None:
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        call_command("ingest_email", tenant="nope", stdin=io.BytesIO(b""))
    with pytest.raises(CommandError, match="is not an address of alpha"):
        call_command("ingest_email", tenant="alpha", mailbox="x@y.example", stdin=io.BytesIO(b""))
    assert not InboundEmail.objects.exists()


def test_processing_error_is_quarantined_and_next_goes_through(
    alpha: World, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channels.email import inbound

    real = inbound.ticket_create

    def boom(**kwargs: Any) -> Ticket:
        if kwargs["subject"] == "Explodes":
            raise RuntimeError("database on fire")
        return real(**kwargs)

    monkeypatch.setattr(inbound, "ticket_create", boom)
    bad = eml(sender=alpha.contact1.user.email, subject="Explodes", message_id="<bad@c.example>")
    assert ingest(alpha, bad).startswith("quarantined")
    good = eml(sender=alpha.contact1.user.email, subject="Fine", message_id="<ok@c.example>")
    assert ingest(alpha, good).startswith("created")
    row = InboundEmail.objects.get(outcome="quarantined")
    assert "RuntimeError: database on fire" in row.reason
    assert row.message_id == "bad@c.example"
    assert not EmailThreadId.objects.filter(message_id="bad@c.example").exists()  # rolled back
    assert [t.subject for t in Ticket.objects.all()] == ["Fine"]


def test_inbound_fixture_directory_messages_parse(alpha: World, mailbox: Mailbox) -> None:
    for path in sorted(INBOUND.glob("*.eml")):
        printed = ingest(alpha, path.read_bytes(), mailbox=SUPPORT)
        expected = path.name.split("__", 1)[0]
        assert printed.startswith(expected), (path.name, printed)
