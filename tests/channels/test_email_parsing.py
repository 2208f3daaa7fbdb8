"""The inbound email parser, over the .eml corpus in tests/fixtures/email and generated input.

Pure: no database. Fixture expectations are written out in full so a change of behaviour
shows up as a diff of what an agent would see.
"""

from __future__ import annotations

import base64
import io
import os
import re
import struct
import time
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.email.loops import classify_automatic
from channels.email.markup import html_to_text, sanitize_html
from channels.email.mime import decode_text, unflow
from channels.email.parsing import (
    InboundMessage,
    ParseResult,
    find_reference_candidates,
    find_reply_tokens,
    parse_message,
)
from channels.email.quoting import trim_reply
from channels.email.tnef import TnefError, extract_tnef_attachments

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
OWN_DOMAINS = {"mail.helpdesk.test", "acme.helpdesk.test"}
CET = timezone(timedelta(hours=1))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse_fixture(name: str) -> InboundMessage:
    result = parse_message(fixture_bytes(name), own_domains=OWN_DOMAINS)
    assert result.error is None, result.reason
    assert result.message is not None
    return result.message


# A TNEF writer, the inverse of channels.email.tnef, kept here to show how the winmail.dat in
# winmail_tnef.eml was made (the test below regenerates it byte for byte). Cross-checked once
# against tnefparse 1.4.0, which reads the same names and bytes from it.
def _tnef_attribute(level: int, attribute: int, kind: int, data: bytes) -> bytes:
    header = struct.pack("<BHHI", level, attribute, kind, len(data))
    return header + data + struct.pack("<H", sum(data) & 0xFFFF)


def _mapi_unicode(prop_id: int, value: str) -> bytes:
    encoded = value.encode("utf-16-le") + b"\x00\x00"
    padding = b"\x00" * (-len(encoded) % 4)
    return struct.pack("<HHII", 0x001F, prop_id, 1, len(encoded)) + encoded + padding


def build_tnef(files: list[tuple[str, str, bytes]]) -> bytes:
    """A minimal TNEF stream ([MS-OXTNEF]) with (8.3 title, long name, bytes) attachments."""
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += _tnef_attribute(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _tnef_attribute(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    out += _tnef_attribute(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    for title, long_name, data in files:
        rendering = struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0)
        out += _tnef_attribute(2, 0x9002, 0x0006, rendering)  # attAttachRendData
        out += _tnef_attribute(2, 0x8010, 0x0001, title.encode("cp1252") + b"\x00")
        out += _tnef_attribute(2, 0x800F, 0x0006, data)  # attAttachData
        mapi = struct.pack("<I", 2) + _mapi_unicode(0x3707, long_name)  # PR_ATTACH_LONG_FILENAME
        mapi += struct.pack("<HHI", 0x0003, 0x3705, 1)  # PR_ATTACH_METHOD: by value
        out += _tnef_attribute(2, 0x9005, 0x0006, mapi)  # attAttachment
    return out


TNEF_FILES = [
    ("BERICH~1.CSV", "Bericht über Q3.csv", b"quarter;revenue\nQ3;1042\n"),
    ("LOGO.PNG", "logo.png", b"\x89PNG\r\n\x1a\n" + bytes(16)),
]


# --- the corpus ------------------------------------------------------------------------------


def test_plain_new_ticket_with_cc() -> None:
    msg = parse_fixture("plain_new_ticket_cc.eml")
    assert msg.message_id == "CAF7x9Q2-checkout-500@mail.customer.test"
    assert msg.message_id_synthesised is False
    assert msg.in_reply_to == ()
    assert msg.references == ()
    assert msg.from_email == "maria.lopez@customer.test"
    assert msg.from_name == "Maria Lopez"
    assert msg.reply_to == ""
    assert msg.to == ("support@acme.helpdesk.test",)
    # Lower-cased and deduplicated; the empty group "undisclosed-recipients:;" adds nothing.
    assert msg.cc == ("tom.baker@customer.test", "ops@customer.test")
    assert msg.subject == "Checkout page returns error 500"
    assert msg.date == datetime(2024, 1, 15, 9, 11, 58, tzinfo=CET)
    assert msg.text.startswith("Hello,\n\nsince this morning our checkout page returns")
    assert msg.text.endswith("Maria\n--\nMaria Lopez | Head of E-Commerce | Customer GmbH\n")
    assert msg.html_sanitized == ""
    assert msg.reply_text == (
        "Hello,\n\nsince this morning our checkout page returns an error 500 for every card\n"
        "payment. PayPal still works.\n\nSteps: add any product, go to checkout, pay by card.\n\n"
        "Thanks,\nMaria"
    )
    assert msg.attachments == ()
    assert (msg.auto_reply, msg.auto_reply_reason) == (False, "")
    assert (msg.is_bounce, msg.bounce_recipients) == (False, ())
    assert msg.headers == {"Return-Path": "<maria.lopez@customer.test>"}
    assert msg.tokens.ticket_references == ()
    assert msg.tokens.reply_tokens == ()
    assert msg.defects == ()


def test_multipart_alternative_prefers_plain_and_keeps_inline_image() -> None:
    msg = parse_fixture("multipart_alternative.eml")
    assert msg.from_name == "Sam O'Neil"
    # Labelled ISO-8859-1 but written by Windows: 0x96 is the en dash of Windows-1252.
    assert msg.text == (
        "Hi team,\n\nthe invoices for December are missing in the portal. Our accountant needs "
        "them by Friday \u2013 could you have a look?\n\nRegards, Sam\n"
    )
    assert msg.html_sanitized == (
        "<p>Hi team,</p><p>the invoices for <b>December</b> are missing in the portal. Our "
        "accountant needs them by Friday \u2013 could you have a look?</p><p>Regards, Sam</p>"
        '<img src="cid:logo-1@customer.test" alt="Customer">'
    )
    (logo,) = msg.attachments
    assert logo.filename == "attachment-1.png"
    assert logo.content_type == "image/png"
    assert logo.content_id == "logo-1@customer.test"
    assert logo.inline is True
    assert logo.size == len(logo.payload) == 70
    assert logo.payload.startswith(b"\x89PNG\r\n\x1a\n")
    assert msg.date == datetime(2024, 1, 16, 14, 2, 11, tzinfo=UTC)


def test_html_only_is_sanitised_and_gets_a_text_alternative() -> None:
    msg = parse_fixture("html_only.eml")
    html = msg.html_sanitized
    for forbidden in ("script", "onerror", "onload", "javascript:", "data:", "<form", "<input",
                      "<iframe", "style", "evil.test", "<title", "steal"):  # fmt: skip
        assert forbidden not in html, forbidden
    assert '<img src="https://shop.customer.test/broken.png" alt="broken">' in html
    assert '<a href="https://shop.customer.test/p/42" rel="noopener noreferrer nofollow">' in html
    assert msg.text == (
        "Hello support,\n\nproduct images are broken since the update:\n"
        "see product 42 (https://shop.customer.test/p/42) and this one.\n\n"
        "- Chrome 120\n- Firefox 121\n\nDanke & Grüße,\nLena"
    )
    assert msg.reply_text == msg.text
    assert msg.attachments == ()


def test_non_ascii_names_subject_and_rfc2231_filename() -> None:
    msg = parse_fixture("non_ascii_rfc2047.eml")
    assert msg.from_name == "Jürgen Groß"
    assert msg.from_email == "juergen.gross@kunde.test"
    assert msg.subject == "Störung im Zahlungsmodul \u2013 dringend"  # ISO-8859-1 Q + UTF-8 Q words
    assert msg.text == "Grüß Gott, der Bericht hängt an.\n"
    (report,) = msg.attachments
    assert report.filename == "отчёт.pdf"
    assert report.content_type == "application/pdf"
    assert report.inline is False
    assert report.payload == b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert report.size == 45


def test_reply_threads_and_trims_quoted_history() -> None:
    msg = parse_fixture("reply_on_wrote.eml")
    assert msg.in_reply_to == ("ticket-1042-msg-2@mail.helpdesk.test",)
    assert msg.references == (
        "CAF7x9Q2-checkout-500@mail.customer.test",
        "ticket-1042-msg-1@mail.helpdesk.test",
        "ticket-1042-msg-2@mail.helpdesk.test",
    )
    assert msg.subject == "Re: [OR-1042] Checkout page returns error 500"
    assert msg.reply_text == "Yes, it happens with Visa and Mastercard. Error ID: 7f3a-22.\n\nMaria"
    assert "> does it happen with every card type?" in msg.text
    assert msg.tokens.ticket_references == ("OR-1042",)
    # Found in the quoted history: our own outbound footer comes back with every reply.
    assert msg.tokens.reply_tokens == ("OR1042.aBcD_eF-12",)
    # A reply to our Message-ID from a customer is not a loop.
    assert msg.auto_reply is False


def test_outlook_reply_cuts_at_the_header_block() -> None:
    msg = parse_fixture("reply_outlook.eml")
    assert msg.from_name == "Baker, Tom"
    assert msg.from_email == "tom.baker@customer.test"
    assert msg.subject == "RE: [OR-1042] Checkout page returns error 500"
    assert msg.reply_text == "We also see it on the mobile app since 10:00.\n\nTom"
    assert "\r" not in msg.text
    assert msg.in_reply_to == ("ticket-1042-msg-2@mail.helpdesk.test",)
    assert msg.tokens.reply_tokens == ("OR1042.aBcD_eF-12",)
    assert msg.date == datetime(2024, 1, 15, 12, 1, 30, tzinfo=UTC)


def test_forward_of_a_ticket_by_a_stranger_keeps_the_forwarded_text() -> None:
    msg = parse_fixture("forward_stranger.eml")
    assert msg.from_email == "peter@elsewhere.test"
    assert msg.subject == "Fwd: [OR-1042] Checkout page returns error 500"
    assert msg.tokens.ticket_references == ("OR-1042",)  # a candidate only: caller decides
    assert msg.in_reply_to == () and msg.references == ()
    assert msg.reply_text == msg.text.strip()
    assert "---------- Forwarded message ---------" in msg.reply_text
    assert msg.auto_reply is False


def test_winmail_dat_is_unpacked() -> None:
    raw = fixture_bytes("winmail_tnef.eml")
    parts = message_from_bytes(raw, policy=policy.default).walk()
    (embedded,) = [p for p in parts if p.get_content_type() == "application/ms-tnef"]
    assert embedded.get_payload(decode=True) == build_tnef(TNEF_FILES)  # provenance
    msg = parse_fixture("winmail_tnef.eml")
    assert msg.text == "Please find the figures attached.\n"
    assert [(a.filename, a.content_type, a.size, a.inline) for a in msg.attachments] == [
        ("Bericht über Q3.csv", "text/csv", 24, False),
        ("logo.png", "image/png", 24, False),
    ]
    assert msg.attachments[0].payload == b"quarter;revenue\nQ3;1042\n"
    assert all(a.filename != "winmail.dat" for a in msg.attachments)


def test_unreadable_winmail_dat_is_kept_as_it_came() -> None:
    raw = fixture_bytes("winmail_tnef.eml")
    broken = base64.encodebytes(b"\x78\x9f\x3e\x22\x01\x00" + b"\x02\x02\x90" + b"\xff" * 40)
    good = re.search(rb"base64\n\n(.*?)--tnef-mix--", raw, re.DOTALL)
    assert good is not None
    msg = parse_message(raw.replace(good.group(1), broken)).message
    assert msg is not None
    (kept,) = msg.attachments
    assert (kept.filename, kept.content_type) == ("winmail.dat", "application/ms-tnef")
    assert any(d.startswith("TnefError") for d in msg.defects)


def test_bounce_report_names_the_failed_recipient() -> None:
    msg = parse_fixture("bounce_dsn.eml")
    assert msg.is_bounce is True
    assert msg.bounce_recipients == ("old.colleague@customer.test",)  # "delayed" is not failed
    assert msg.bounce_original_message_id == "ticket-1042-msg-2@mail.helpdesk.test"
    assert msg.auto_reply is True
    assert msg.auto_reply_reason == "auto-submitted: auto-replied"
    assert msg.from_email == "mailer-daemon@mx.helpdesk.test"
    assert msg.headers == {"Return-Path": "<>", "Auto-Submitted": "auto-replied"}
    assert msg.text.startswith("This is the mail system at host mx.helpdesk.test.")
    assert "Final-Recipient" not in msg.text  # the delivery-status part is not body text
    (original,) = msg.attachments
    assert (original.filename, original.content_type) == ("attachment-1.eml", "message/rfc822")
    assert b"Message-ID: <ticket-1042-msg-2@mail.helpdesk.test>" in original.payload


@pytest.mark.parametrize(
    ("name", "reason", "headers"),
    [
        (
            "ooo_auto_submitted.eml",
            "auto-submitted: auto-replied",
            {"Auto-Submitted": "auto-replied (vacation)"},
        ),
        ("ooo_x_autoreply.eml", "x-autoreply: yes", {"X-Autoreply": "yes"}),
        ("ooo_precedence_bulk.eml", "precedence: bulk", {"Precedence": "bulk"}),
        (
            "ooo_exchange.eml",
            "x-auto-response-suppress: all",
            {"X-Auto-Response-Suppress": "All"},
        ),
        ("ooo_null_return_path.eml", "return-path: null", {"Return-Path": "<>"}),
        ("ooo_subject_only.eml", "subject: abwesenheitsnotiz", {}),
        ("loop_own_message.eml", "loop: own message-id", {}),
    ],
)
def test_automatic_mail_is_flagged(name: str, reason: str, headers: dict[str, str]) -> None:
    msg = parse_fixture(name)
    assert msg.auto_reply is True
    assert msg.auto_reply_reason == reason
    assert msg.headers == headers
    assert msg.is_bounce is False


def test_exchange_out_of_office_details() -> None:
    msg = parse_fixture("ooo_exchange.eml")
    # The subject alone would say so too; the header is checked first.
    assert classify_automatic({"Subject": msg.subject}, msg.from_email, None, set()) == (
        "subject: automatic reply"
    )
    assert msg.subject == "Automatic reply: [OR-1042] Checkout page returns error 500"
    assert msg.text == "Ich bin bis 22.01. nicht im Büro.\n"
    assert msg.from_name == "Keller, Anna"


def test_missing_message_id_is_synthesised_stably() -> None:
    raw = fixture_bytes("missing_message_id.eml")
    msg = parse_fixture("missing_message_id.eml")
    assert msg.message_id_synthesised is True
    assert re.fullmatch(r"[0-9a-f]{64}@sha256\.invalid", msg.message_id)
    assert msg.date is None
    assert msg.from_name == "" and msg.from_email == "legacy-app@customer.test"
    # The same message delivered by another path: other trace headers, CRLF line ends.
    redelivered = b"Received: from elsewhere by mx2.helpdesk.test\nDelivered-To: b@x.test\n" + raw
    again = parse_message(redelivered.replace(b"\n", b"\r\n")).message
    assert again is not None and again.message_id == msg.message_id
    assert again.raw_sha256 != msg.raw_sha256
    changed = parse_message(raw.replace(b"exit code 3", b"exit code 4")).message
    assert changed is not None and changed.message_id != msg.message_id


def test_broken_charset_label_falls_back() -> None:
    msg = parse_fixture("broken_charset.eml")
    assert msg.text == "The price of café is shown as 3,50 € but should be 3,20 €.\n"
    assert msg.subject == "Café prices wrong"  # raw UTF-8 in the header (RFC 6532)
    assert msg.from_name == "Ana María"  # encoded word in an unknown charset: Windows-1252
    assert msg.date is None  # "this is not a date"
    assert msg.defects == ("CharsetFallback: utf-8lol",)


def test_koi8r_and_shift_jis() -> None:
    koi8 = parse_fixture("koi8r.eml")
    assert (koi8.from_name, koi8.subject) == ("Иван Петров", "Ошибка при оплате")
    assert koi8.text == "Оплата картой не проходит.\n"
    sjis = parse_fixture("shift_jis.eml")
    assert (sjis.from_name, sjis.subject) == ("山田太郎", "請求書の件について")
    assert sjis.text == "請求書が届いていません。①番の件です。\n"  # ① needs Windows-31J


def test_apple_flowed_reply_is_unwrapped_and_trimmed() -> None:
    msg = parse_fixture("apple_flowed_reply.eml")
    expected = (
        "The export button works again, thank you! This line is long enough that Apple Mail "
        "wraps it with a soft break."
    )
    assert msg.text.startswith(expected + "\n\nSent from my iPhone\n\n> On 22 Jan 2024")
    assert msg.reply_text == expected
    assert msg.tokens.ticket_references == ("OR-1043",)


def test_gmail_reply_with_wrapped_attribution() -> None:
    msg = parse_fixture("gmail_reply.eml")
    assert msg.reply_text == "It arrived now, in the spam folder."
    assert "<blockquote>Did the reset mail arrive?</blockquote>" in msg.html_sanitized
    assert 'class="gmail_quote"' not in msg.html_sanitized


# --- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (fixture_bytes("malformed_garbage.eml"), "no-headers"),
        (fixture_bytes("malformed_no_from.eml"), "no-sender"),
        (fixture_bytes("malformed_bad_from.eml"), "no-sender"),
        (b"From: a@\nSubject: x\n\nbody", "no-sender"),  # the stdlib parser raises on this
        (b"From: foo\n\nbody", "no-sender"),
        (b"", "empty"),
        (b"\r\n \n", "empty"),
        (b"From: a@b.test\nContent-Type: multipart/mixed\n\nno boundary", "no-boundary"),
        (
            b'From: a@b.test\nContent-Type: multipart/mixed; boundary="X"\n\n--Y\n\nwrong\n',
            "no-boundary",
        ),
    ],
)
def test_malformed_messages_are_refused_with_raw_bytes_kept(raw: bytes, error: str) -> None:
    result = parse_message(raw)
    assert (result.message, result.error) == (None, error)
    assert result.ok is False
    assert result.raw == raw
    assert result.reason


def test_hostile_structures_are_refused_or_defused() -> None:
    head = b"From: a@b.test\nSubject: x\nMIME-Version: 1.0\n"
    nested = head + b"Content-Type: multipart/mixed; boundary=b0\n\n"
    nested += b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(2000)
    )
    assert parse_message(nested).error == "too-complex"
    flood = head + b"Content-Type: multipart/mixed; boundary=B\n\n" + b"--B\n\nx\n" * 10_001
    assert parse_message(flood).error == "too-complex"

    deep_html = parse_message(head + b"Content-Type: text/html\n\n" + b"<div>" * 5000 + b"hi")
    assert deep_html.message is not None
    assert deep_html.message.html_sanitized == ""
    assert deep_html.message.text == "hi"
    assert "HtmlTooDeep" in deep_html.message.defects

    # 100,000 To lines and a 1 MB Subject of encoded words: each header is parsed once, cut.
    many = (
        b"From: a@b.test\n"
        + b"To: x@y.test\n" * 100_000
        + b"Subject: "
        + b"=?utf-8?q?a?= " * 50_000
    )
    msg = parse_message(many + b"\n\nbody").message
    assert msg is not None
    assert msg.to == ("x@y.test",)
    assert 1000 < len(msg.subject) <= 16 * 1024
    long_cc = b"From: a@b.test\nCc: " + b"someone.long@example.test, " * 2000 + b"\n\nbody"
    cc_msg = parse_message(long_cc).message
    assert cc_msg is not None and cc_msg.cc == ("someone.long@example.test",)  # no cut address


def test_input_forms() -> None:
    raw = fixture_bytes("plain_new_ticket_cc.eml")
    from_bytes = parse_message(raw)
    assert from_bytes.raw is raw  # no copy of the caller's bytes
    for form in (io.BytesIO(raw), bytearray(raw), memoryview(raw)):
        result = parse_message(form)
        assert result.message == from_bytes.message
    wrong_types: list[Any] = [io.StringIO("From: a@b.test\n\nx"), "From: a@b.test\n\nx", None]
    for wrong in wrong_types:
        assert parse_message(wrong).error == "unreadable"


def test_lenient_repairs() -> None:
    raw = (
        b"From: =?utf-8?q?Caf=C3=A9?= <SOMEONE@Example.TEST>, second@example.test\n"
        b"To: ok@example.test, broken, <>, OK@example.test\n"
        b"Reply-To: Replies <Replies@Example.Test>\n"
        b"Message-ID: bare-id@example.test\n"
        b"In-Reply-To: <a@x> <b@y>\n"
        b"References: <a@x> <a@x>\n\t<c@z>\n"
        b"Date: Mon, 15 Jan 2024 10:00:00 -0000\n"
        b"Subject: =?utf-8?q?multi?=\n   line\x00 subject\n"
        b"Content-Type: text/plain; charset=us-ascii\n\n"
        b"UTF-8 despite the label: \xc3\xa9\x00\n"
    )
    msg = parse_message(raw).message
    assert msg is not None
    assert (msg.from_name, msg.from_email) == ("Café", "someone@example.test")
    assert msg.to == ("ok@example.test",)
    assert msg.reply_to == "replies@example.test"
    assert msg.message_id == "bare-id@example.test"
    assert msg.in_reply_to == ("a@x", "b@y")
    assert msg.references == ("a@x", "c@z")
    assert msg.date == datetime(2024, 1, 15, 10, 0, tzinfo=UTC)  # -0000: unknown zone, UTC
    assert msg.subject == "multi line subject"
    assert msg.text == "UTF-8 despite the label: é\n"


# --- loop and auto-reply classification ------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "from_email", "return_path", "expected"),
    [
        ({"Auto-Submitted": "auto-generated"}, "a@c.test", None, "auto-submitted: auto-generated"),
        ({"Auto-Submitted": "no"}, "a@c.test", None, None),
        ({"auto-submitted": "Auto-Replied; owner-email=x@y"}, "a@c.test", None,
         "auto-submitted: auto-replied"),
        ({"Precedence": "junk"}, "a@c.test", None, "precedence: junk"),
        ({"Precedence": "list"}, "a@c.test", None, "precedence: list"),
        ({"Precedence": "first-class"}, "a@c.test", None, None),
        ({"X-Autoreply": "no"}, "a@c.test", None, None),
        ({"X-Autorespond": "Re: your mail"}, "a@c.test", None, "x-autorespond"),
        ({"X-Auto-Response-Suppress": "DR, OOF"}, "a@c.test", None,
         "x-auto-response-suppress: oof"),
        ({"X-Auto-Response-Suppress": "AutoReply"}, "a@c.test", None,
         "x-auto-response-suppress: autoreply"),
        ({"X-Auto-Response-Suppress": "DR, RN"}, "a@c.test", None, None),
        ({}, "a@c.test", "<>", "return-path: null"),
        ({}, "a@c.test", "<bounces@c.test>", None),
        ({}, "MAILER-DAEMON@c.test", None, "sender: mailer-daemon"),
        ({}, "postmaster@c.test", None, "sender: postmaster"),
        ({"List-Id": "<dev.lists.c.test>"}, "a@c.test", None, "list-id"),
        ({"X-MS-Exchange-Inbox-Rules-Loop": "a@c.test"}, "a@c.test", None,
         "x-ms-exchange-inbox-rules-loop"),
        ({"X-MS-Exchange-Generated-Message-Source": "Mailbox Rules Agent"}, "a@c.test", None,
         "x-ms-exchange-generated-message-source: mailbox rules agent"),
        ({"Subject": "Auto: Re: hello"}, "a@c.test", None, "subject: auto"),
        ({"Subject": "Out of Office: hello"}, "a@c.test", None, "subject: out of office"),
        ({"Subject": "Automatische Antwort: Rechnung"}, "a@c.test", None,
         "subject: automatische antwort"),
        ({"Subject": "John Smith is out of the office."}, "a@c.test", None,
         "subject: is out of the office"),
        ({"Subject": "Re: the auto: prefix in our exports"}, "a@c.test", None, None),
        ({"Subject": "Out of office assistant broken"}, "a@c.test", None, None),
        ({"Subject": "Autoreply rules do not work"}, "a@c.test", None, None),
        ({"Subject": "Réponse automatique : absence"}, "a@c.test", None,
         "subject: réponse automatique"),
        ({"X-Loop": "support@mail.helpdesk.test"}, "a@c.test", None, "loop: x-loop"),
        # A customer answering one of our messages: our id, their address. Not a loop.
        ({"In-Reply-To": "<t-1@mail.helpdesk.test>"}, "a@c.test", None, None),
        # Our own message, delivered back to us.
        ({"Message-ID": "<t-2@mail.helpdesk.test>"}, "support@acme.helpdesk.test", None,
         "loop: own message-id"),
        ({"In-Reply-To": "<t-3@mail.helpdesk.test>"}, "bot@sub.acme.helpdesk.test", None,
         "loop: own message-id"),
        # Our domain in the From alone (a colleague writing in) is not a loop either.
        ({"Message-ID": "<x@gmail.test>"}, "agent@acme.helpdesk.test", None, None),
    ],
)  # fmt: skip
def test_classify_automatic(
    headers: dict[str, str], from_email: str, return_path: str | None, expected: str | None
) -> None:
    assert classify_automatic(headers, from_email, return_path, OWN_DOMAINS) == expected


def test_no_own_domains_means_no_loop_check() -> None:
    headers = {"Message-ID": "<t-2@mail.helpdesk.test>"}
    assert classify_automatic(headers, "support@mail.helpdesk.test", None, set()) is None


# --- threading tokens ------------------------------------------------------------------------


def test_reference_candidates() -> None:
    assert find_reference_candidates("Re: [OR-1042] [ac-7] x", "see [OR-99] and [OR-1042]") == [
        "OR-1042",
        "AC-7",
        "OR-99",
    ]
    assert find_reference_candidates("ISO-9001 and COVID-19, OR-1042 without brackets", "") == []
    assert find_reference_candidates("[1042-OR] [-1] [OR-]", "") == []


def test_reply_tokens() -> None:
    text = "x [#hd-abc123.DEF_ghi-jk] y [#hd-OR1042:1rT9x:sig] [#hd-abc123.DEF_ghi-jk] [#hd-a]"
    assert find_reply_tokens(text) == ["abc123.DEF_ghi-jk", "OR1042:1rT9x:sig"]
    assert find_reply_tokens("[#HD-abcdefgh] [#hd-has space]") == []


# --- reply trimming --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Thanks!\n\nOn Mon, Jan 15, 2024 at 10:05 AM Acme <s@a.test> wrote:\n> old\n> older\n",
            "Thanks!",
            id="gmail",
        ),
        pytest.param(
            "Thanks!\n\nOn Mon, Jan 15, 2024 at 10:05 AM Acme Support\n<s@a.test> wrote:\n\n> old",
            "Thanks!",
            id="gmail-wrapped",
        ),
        pytest.param(
            "Danke!\n\nAm 15.01.2024 um 10:05 schrieb Acme Support <s@a.test>:\n> alt\n",
            "Danke!",
            id="german",
        ),
        pytest.param(
            "Merci !\n\nLe lun. 15 janv. 2024 à 10:05, Acme <s@a.test> a écrit :\n> vieux\n",
            "Merci !",
            id="french",
        ),
        pytest.param(
            "Works now.\n\n-----Original Message-----\nFrom: Acme\nSent: Monday\n\nold text\n",
            "Works now.",
            id="original-message",
        ),
        pytest.param(
            "Funktioniert.\n\nVon: Acme Support <s@a.test>\nGesendet: Montag, 15. Januar 2024\n"
            "An: Maria <m@c.test>\nBetreff: [OR-1042] Fehler\n\nalter Text\n",
            "Funktioniert.",
            id="outlook-german",
        ),
        pytest.param(
            "Fixed.\n\n*From:* Acme Support <s@a.test>\n*Sent:* Monday, 15 January 2024\n"
            "*To:* Maria\n*Subject:* [OR-1042]\n\nold\n",
            "Fixed.",
            id="outlook-bold-labels",
        ),
        pytest.param(
            "From: the docs I understood it differently.\nSent: nothing yet.\n\nCan you help?",
            "From: the docs I understood it differently.\nSent: nothing yet.\n\nCan you help?",
            id="from-in-prose-is-not-a-header-block",
        ),
        pytest.param(
            "On Mon, 15 Jan 2024, Acme <s@a.test> wrote:\n> Did it work?\n\nYes, it did.\n",
            "Yes, it did.",
            id="bottom-posting",
        ),
        pytest.param(
            "> Does A work?\nYes.\n> And B?\nNo, B fails.\n",
            "> Does A work?\nYes.\n> And B?\nNo, B fails.",
            id="interleaved-kept",
        ),
        pytest.param(
            "Here is my answer.\n\n> quoted tail\n>\n> more\n\n",
            "Here is my answer.",
            id="trailing-quote",
        ),
        pytest.param("Short answer.\n-- \nJane Doe\nACME", "Short answer.", id="signature"),
        pytest.param("Answer.\n\nSent from my iPhone\n", "Answer.", id="mobile-footer"),
        pytest.param(
            "On the portal you wrote:\nthat exports are daily.\n",
            "On the portal you wrote:\nthat exports are daily.",
            id="attribution-needs-a-date",
        ),
        pytest.param(
            "FYI\n\nBegin forwarded message:\n\nFrom: Acme <s@a.test>\nDate: 15 January 2024\n"
            "Subject: x\nTo: y\n\nforwarded body\n",
            "FYI\n\nBegin forwarded message:\n\nFrom: Acme <s@a.test>\nDate: 15 January 2024\n"
            "Subject: x\nTo: y\n\nforwarded body",
            id="apple-forward-kept",
        ),
        pytest.param(
            "> only a quote\n> nothing new\n",
            "> only a quote\n> nothing new",
            id="nothing-new-keeps-everything",
        ),
        pytest.param("Line one\r\nLine two\r\n", "Line one\nLine two", id="crlf"),
    ],
)
def test_trim_reply(text: str, expected: str) -> None:
    assert trim_reply(text) == expected


# --- HTML, charsets, flowed text -------------------------------------------------------------


def test_sanitize_html_allowlist() -> None:
    dirty = (
        '<p onclick="x()">a<script>alert(1)</script></p><a href="JaVaScRiPt:alert(1)">j</a>'
        '<a href="/relative">r</a><img src="cid:x@y"><img src="http://h.test/i.png">'
        '<img src="//h.test/i.png"><svg><circle onload="x()"/></svg><style>p{}</style>'
        '<object data="x.swf"></object><button formaction="x">b</button><math>m</math>'
    )
    assert sanitize_html(dirty) == (
        '<p>a</p><a rel="noopener noreferrer nofollow">j</a><a rel="noopener noreferrer '
        'nofollow">r</a><img src="cid:x@y"><img src="http://h.test/i.png">bm'
    )
    assert sanitize_html("  \n ") == ""


def test_html_to_text() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body><h1>Title</h1>"
        "<p>One&nbsp;<b>two</b><br>three</p><a href='https://x.test/a'>https://x.test/a</a> "
        "<a href='mailto:m@x.test'>m@x.test</a> <a href='https://x.test/b'>link</a>"
        "<script>var no = 1;</script><blockquote><p>quoted</p></blockquote>"
        "<table><tr><td>c1</td><td>c2</td></tr></table><pre>  keep\n   spacing</pre></body></html>"
    )
    assert html_to_text(html) == (
        "Title\n\nOne two\nthree\n\nhttps://x.test/a m@x.test link (https://x.test/b)\n"
        "> quoted\n\nc1\nc2\n\n  keep\n   spacing"
    )


def test_html_to_text_survives_an_unclosed_head() -> None:
    assert html_to_text("<html><head><meta charset=utf-8><body><p>Visible</p>") == "Visible"


@pytest.mark.parametrize(
    ("data", "charset", "expected", "fallback"),
    [
        ("é".encode(), "utf-8", "é", False),
        ("é".encode(), None, "é", False),
        (b"\xe9", None, "é", False),  # undeclared 8-bit: UTF-8 fails, Windows-1252
        (b"\xe9", "us-ascii", "é", True),
        (b"\x80", "iso-8859-1", "€", False),  # WHATWG: Latin-1 labels mean Windows-1252
        ("é".encode(), "no-such-charset", "é", True),
        (b"\xe9", "no-such-charset", "é", True),
        (b"eJzLSM3JyQcABiwCFQ==", "zlib", "eJzLSM3JyQcABiwCFQ==", True),  # never decompress
        (b"aGVsbG8=", "base64", "aGVsbG8=", True),
        ("Привет".encode("koi8-r"), '"KOI8-R"', "Привет", False),
        ("①".encode("cp932"), "SHIFT_JIS", "①", False),
        ("①".encode("cp932"), "x-sjis", "①", False),
    ],
)
def test_decode_text(data: bytes, charset: str | None, expected: str, fallback: bool) -> None:
    assert decode_text(data, charset) == (expected, fallback)


def test_unflow() -> None:
    flowed = "This is \nflowed.\n>> quoted \n>> flowed\n> one level\n-- \nsig"
    assert unflow(flowed, delsp=False) == (
        "This is flowed.\n> > quoted flowed\n> one level\n-- \nsig"
    )
    assert unflow("spl \nit", delsp=True) == "split"
    assert unflow(" From stuffed", delsp=False) == "From stuffed"


# --- TNEF bounds -----------------------------------------------------------------------------


def test_tnef_with_absurd_counts_is_refused_quickly() -> None:
    # 4 billion declared properties in a few bytes: tnefparse 1.4.0 loops over every one.
    mapi = struct.pack("<I", 0xFFFFFFFF)
    evil = build_tnef([])[:6] + _tnef_attribute(2, 0x9002, 6, bytes(14))
    evil += _tnef_attribute(2, 0x9005, 6, mapi) + _tnef_attribute(2, 0x800F, 6, b"data")
    started = time.perf_counter()
    files, complete = extract_tnef_attachments(evil)
    # A correctness bound, not a benchmark: the unbounded loop this guards against runs for
    # hours, so a regression must fail here rather than hang CI.
    assert time.perf_counter() - started < 5
    assert [(f.filename, f.payload) for f in files] == [("attachment-1", b"data")]
    assert complete is True
    # A multi-valued property claiming 20 million shorts.
    mapi = struct.pack("<IHHI", 1, 0x1002, 0x1234, 20_000_000)
    evil = build_tnef([])[:6] + _tnef_attribute(2, 0x9002, 6, bytes(14))
    evil += _tnef_attribute(2, 0x9005, 6, mapi)
    assert extract_tnef_attachments(evil) == ([], False)


@pytest.mark.parametrize(
    "payload",
    [b"", b"not tnef at all", build_tnef(TNEF_FILES)[:-30], struct.pack("<IH", 0x223E9F78, 1)
     + _tnef_attribute(2, 0x800F, 6, b"data before rendering")],
)  # fmt: skip
def test_tnef_inconsistent_streams_raise_tnef_error(payload: bytes) -> None:
    with pytest.raises(TnefError):
        extract_tnef_attachments(payload)


# --- memory ----------------------------------------------------------------------------------


def test_twenty_megabyte_attachment() -> None:
    size = 20 * 1024 * 1024
    payload = os.urandom(size)
    head = (
        b"From: Big Sender <big@customer.test>\nTo: support@acme.helpdesk.test\n"
        b"Subject: logs\nMessage-ID: <big@customer.test>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="BIG"\n\n--BIG\nContent-Type: text/plain\n\n'
        b"Logs attached.\n--BIG\nContent-Type: application/gzip\n"
        b'Content-Disposition: attachment; filename="logs.tar.gz"\n'
        b"Content-Transfer-Encoding: base64\n\n"
    )
    raw = head + base64.encodebytes(payload) + b"--BIG--\n"
    tracemalloc.start()
    try:
        result = parse_message(raw)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.message is not None
    (attachment,) = result.message.attachments
    assert (attachment.filename, attachment.content_type) == ("logs.tar.gz", "application/gzip")
    assert attachment.size == size
    assert attachment.payload == payload
    assert result.raw is raw
    # The result keeps one decoded copy; parsing peaks at about 3.7x the payload on top of the
    # caller's raw bytes (the stdlib's get_payload(decode=True) path needs about 10x).
    assert retained < 1.1 * size
    assert peak < 5 * size


# --- fuzzing ---------------------------------------------------------------------------------

CORPUS = sorted(FIXTURES.glob("*.eml"))
_SURROGATE = re.compile(r"[\ud800-\udfff\x00]")


def assert_well_formed(result: ParseResult) -> None:
    """Invariants of every result: exactly one of message/error; clean strings in messages."""
    assert isinstance(result, ParseResult)
    assert (result.message is None) != (result.error is None)
    msg = result.message
    if msg is None:
        return
    assert "@" in msg.from_email and msg.from_email == msg.from_email.lower()
    assert msg.message_id and "<" not in msg.message_id
    assert msg.date is None or msg.date.tzinfo is not None
    for value in (msg.subject, msg.from_name, msg.text, msg.reply_text, msg.html_sanitized):
        assert not _SURROGATE.search(value)
    for attachment in msg.attachments:
        assert attachment.size == len(attachment.payload)
        assert attachment.filename and not _SURROGATE.search(attachment.filename)
    assert "<script" not in msg.html_sanitized.lower()


HEADER_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
     "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version",
     "Auto-Submitted", "Return-Path", "Reply-To", "X-Autoreply", "Precedence"]
)  # fmt: skip
HEADER_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["a@b.test", "<>", "=?utf-8?b?w6k=?= <x@y.test>", "=?bogus?q?=E9?=", "a@", "@", '"a',
         "multipart/mixed; boundary=B", "multipart/alternative", "text/plain; charset=x-nope",
         "text/html", "base64", "quoted-printable", "attachment; filename*=UTF-8''%E2%82",
         "message/rfc822", "application/ms-tnef", "Mon, 99 Foo 20245 25:61:61 +9999",
         "auto-replied",
         "multipart/report; report-type=delivery-status; boundary=B", "message/delivery-status"]
    ),
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [b"--B\nContent-Type: text/plain\n\nhi\n--B--\n", b"--B\n\n--B\n--B--", b"=E9=\n==",
         b"--B\nContent-Type: message/delivery-status\n\nFinal-Recipient: x\n--B--",
         b"--B\nContent-Type: application/ms-tnef\nContent-Transfer-Encoding: base64\n\n"
         + base64.b64encode(build_tnef(TNEF_FILES)[:150]) + b"\n--B--"]
    ),
)  # fmt: skip


@st.composite
def header_soup(draw: st.DrawFn) -> bytes:
    lines = []
    for name, value in draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12)):
        lines.append(f"{name}: {value}".encode("utf-8", "surrogatepass"))
    separator = draw(st.sampled_from([b"\n", b"\r\n"]))
    return separator.join(lines) + separator * 2 + draw(BODIES)


@st.composite
def corpus_mutation(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(CORPUS)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "truncate", "duplicate", "delete", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del data[at:]
        elif action == "duplicate":  # repeat a header line (or any line) in place
            end = data.find(b"\n", at)
            start = data.rfind(b"\n", 0, at) + 1
            line = bytes(data[start : end + 1 if end >= 0 else len(data)])
            data[start:start] = line * draw(st.integers(1, 3))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            data[at:at] = draw(st.sampled_from([b"\n", b"\r", b"\x00", b"\xff", b"=?", b"--"]))
    return bytes(data)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    result = parse_message(raw, own_domains=OWN_DOMAINS)
    assert_well_formed(result)
    assert result.error != "crash", result.reason


@FUZZ
@given(header_soup())
def test_fuzz_header_soup(raw: bytes) -> None:
    result = parse_message(raw, own_domains=OWN_DOMAINS)
    assert_well_formed(result)
    assert result.error != "crash", result.reason


@FUZZ
@given(corpus_mutation())
def test_fuzz_corpus_mutations(raw: bytes) -> None:
    result = parse_message(raw, own_domains=OWN_DOMAINS)
    assert_well_formed(result)
    assert result.error != "crash", result.reason
