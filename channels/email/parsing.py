"""Raw RFC 822 bytes to one normalised InboundMessage — the single entry of the email channel.

``parse_message`` never raises on bad input. It answers a ParseResult that either holds the
message or says, with a short code, why the bytes cannot become a ticket message:

- ``empty``: no bytes, or only whitespace.
- ``unreadable``: the argument is neither bytes nor a readable binary file.
- ``no-headers``: nothing in the input parses as a header (garbage, a bare body).
- ``no-sender``: no From header, or none of its mailboxes has both a local part and a domain
  (``undisclosed-recipients:;``, ``foo``, ``a@``). Without a sender there is nobody to thread
  by or to answer, and accepting it would let anyone post anonymously into a queue.
- ``no-boundary``: the top-level multipart declares no boundary or its boundary never occurs,
  so the body is raw MIME noise that no agent could read.
- ``too-complex``: multiparts nested deeper than the stdlib parser can recurse, or more than
  10,000 lines that may be MIME boundaries (the parser's cost per part makes that a DoS).
- ``crash``: the stdlib parser or our own code raised; a bug to fix, quarantined meanwhile.

Everything else is accepted and repaired: a missing Date (None), a missing Message-ID (one
derived from a content hash, see ``_content_hash``), unknown or wrong charsets (decoded with a
fallback), truncated multiparts (the parts that arrived), broken To/Cc entries (dropped),
absurdly long headers (cut at 16 KiB before structured parsing).

Memory, measured for one 20 MiB attachment (27 MiB of base64): the raw bytes are fed to the
stdlib parser in 1 MiB chunks (no decoded copy of the whole input), base64 is decoded straight
from the parsed text by binascii, and each part's encoded text is released once decoded. On
top of the caller's raw bytes, parsing peaks at about 3.7x the decoded size (74 MiB: the
parser's line list and joined text for the part, plus the decoded bytes; the stdlib's usual
``get_payload(decode=True)`` path peaks near 10x). Afterwards the result holds each decoded
payload exactly once; ParseResult.raw is the caller's own bytes object, not a copy. A size
limit on inbound mail belongs to the delivery paths (webhook, IMAP, pipe), before this.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.feedparser import BytesFeedParser
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import IO, Any, cast

from channels.email.loops import (
    HEADERS_OF_INTEREST,
    NOT_A_BOUNCE,
    bounce_report,
    classify_automatic,
)
from channels.email.markup import html_to_text, html_too_deep, sanitize_html
from channels.email.message import (
    Attachment,
    InboundMessage,
    MalformedReason,
    ParseResult,
    ThreadingTokens,
)
from channels.email.mime import Collected, collect, repair_text
from channels.email.quoting import trim_reply
from channels.email.references import find_reference_candidates, find_reply_tokens

__all__ = [
    "Attachment",
    "InboundMessage",
    "ParseResult",
    "ThreadingTokens",
    "find_reference_candidates",
    "find_reply_tokens",
    "parse_message",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_MAX_HEADER_CHARS = 16 * 1024
# RFC 5322 allows each address header once; a few repeats are tolerated, thousands are abuse.
_MAX_OCCURRENCES = 10
_MAX_BOUNDARY_LINES = 10_000
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_SYNTHETIC_DOMAIN = "sha256.invalid"  # .invalid (RFC 2606) can never collide with a real id
# Header values that identify a message across delivery paths; trace headers (Received,
# Delivered-To, DKIM/ARC seals) are added per path and are deliberately left out.
_IDENTITY_HEADERS = ("from", "to", "cc", "date", "subject")
_FATAL_ROOT_DEFECTS = {"NoBoundaryInMultipartDefect", "StartBoundaryNotFoundDefect"}


def _read(raw: bytes | bytearray | memoryview | IO[bytes]) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    data = raw.read()
    if not isinstance(data, bytes):
        raise TypeError(f"expected a binary file, read() gave {type(data).__name__}")
    return data


def _malformed(raw: bytes, error: MalformedReason, reason: str) -> ParseResult:
    return ParseResult(raw=raw, message=None, error=error, reason=reason)


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


def _raw_values(msg: EmailMessage, name: str) -> list[str]:
    """All raw values of header ``name``, unfolded; 8-bit bytes read as UTF-8.

    The raw values sidestep the stdlib's structured header parsing, which raises on some
    malformed inputs (e.g. ``From: a@`` raises IndexError in 3.11).
    """
    values = []
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            values.append(_unfold(repair_text(str(value))))
    return values


def _first_raw(msg: EmailMessage, name: str) -> str | None:
    values = _raw_values(msg, name)
    return values[0] if values else None


def _decoded(value: str) -> str:
    """RFC 2047 encoded words decoded, for values whose structured parse failed."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # unknown charsets in encoded words; keep the raw text
        return value


def _valid_email(addr_spec: str) -> str:
    local, at, domain = addr_spec.strip().rpartition("@")
    if not at or not local or not domain or re.search(r"[\s<>@,;]", domain):
        return ""
    return f"{local}@{domain}".lower()


def _addresses(msg: EmailMessage, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased email) for every usable mailbox in all ``name`` headers."""
    found: list[tuple[str, str]] = []
    try:
        # Not msg.get_all(): it parses every occurrence, and 100,000 To lines take a minute.
        raw = [(k, v) for k, v in msg.raw_items() if k.lower() == name][:_MAX_OCCURRENCES]
        for header in (_POLICY.header_fetch_parse(k, v) for k, v in raw):
            for address in header.addresses:
                email = _valid_email(address.addr_spec) if address.domain else ""
                if email:
                    found.append((repair_text(str(address.display_name or "")).strip(), email))
        return found
    except Exception:  # the structured parser's own bugs; fall back below
        found = []
    try:
        pairs = getaddresses([_decoded(v) for v in _raw_values(msg, name)[:_MAX_OCCURRENCES]])
    except Exception:  # its comment parser recurses: "a@b((((((…" exhausts the stack
        return []
    for display_name, addr_spec in pairs:
        email = _valid_email(addr_spec)
        if email:
            found.append((repair_text(display_name).strip(), email))
    return found


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _ids(value: str | None) -> list[str]:
    """Message ids in a Message-ID/In-Reply-To/References value, in order, without <>."""
    if not value:
        return []
    ids = _MESSAGE_ID.findall(value)
    if not ids:  # some mailers omit the brackets
        ids = [token for token in value.split() if "@" in token]
    return _unique(i.strip("<>") for i in ids if i.strip("<>"))


def _subject(msg: EmailMessage) -> str:
    try:
        value = str(msg.get("subject", "") or "")
    except Exception:
        value = _decoded(_first_raw(msg, "subject") or "")
    return " ".join(repair_text(value).split())


def _date(msg: EmailMessage) -> datetime | None:
    try:
        header = msg.get("date")
        parsed = getattr(header, "datetime", None) if header is not None else None
    except Exception:  # an unparseable date is a missing date
        parsed = None
    if parsed is None:
        raw = _first_raw(msg, "date")
        try:
            parsed = parsedate_to_datetime(raw) if raw else None
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # "-0000": zone unknown, RFC 5322 says UTC
    return parsed if isinstance(parsed, datetime) else None


def _content_hash(data: bytes, msg: EmailMessage) -> str:
    """A hash of what identifies the message across deliveries: some headers and the body.

    Line ends are normalised because the same message arrives with CRLF over IMAP and with
    LF through a pipe. Done in chunks so a large body is not copied whole.
    """
    digest = hashlib.sha256()
    for name in _IDENTITY_HEADERS:
        for value in _raw_values(msg, name):
            digest.update(f"{name}:{' '.join(value.split())}\n".encode("utf-8", "replace"))
    split = re.search(rb"\r?\n\r?\n", data)
    view = memoryview(data)[split.end() if split else len(data) :]
    carry = b""
    for start in range(0, len(view), _CHUNK):
        chunk = carry + bytes(view[start : start + _CHUNK])
        carry = b"\r" if chunk.endswith(b"\r") else b""
        digest.update(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
    digest.update(carry)
    return digest.hexdigest()


class _BoundedPolicy(EmailPolicy):
    """policy.default, except that header values are cut before structured parsing.

    The stdlib's header parser is quadratic in places (50,000 encoded words in one Subject
    take a minute) and recursive in others. No honest header needs more than a few KiB; the
    cut falls at a comma where possible, so an address list loses whole addresses and never
    ends in a truncated, different-looking one. Raw values (raw_items) stay complete.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if len(value) > _MAX_HEADER_CHARS:
            cut = value.rfind(",", 0, _MAX_HEADER_CHARS)
            value = value[: cut if cut > 0 else _MAX_HEADER_CHARS]
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy()


def _parse_tree(data: bytes) -> EmailMessage:
    parser = BytesFeedParser(policy=_POLICY)
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        parser.feed(bytes(view[start : start + _CHUNK]))
    # EmailPolicy's message_factory is EmailMessage; close() is typed as the base Message.
    return cast(EmailMessage, parser.close())


def parse_message(
    raw: bytes | bytearray | memoryview | IO[bytes], *, own_domains: Iterable[str] = ()
) -> ParseResult:
    """Parse one raw email (bytes or a binary file object) into a ParseResult.

    ``own_domains`` are the domains this installation sends from and uses in its Message-IDs;
    they let loop detection recognise our own mail coming back. Never raises: see the module
    docstring for what counts as malformed.
    """
    try:
        data = _read(raw)
    except Exception as exc:  # whatever the caller handed us
        return _malformed(b"", "unreadable", f"{type(exc).__name__}: {exc}")
    if not data or data.isspace():  # not data.strip(): that would copy a large message
        return _malformed(data, "empty", "no bytes")
    try:
        return _parse(data, {d.strip().lower() for d in own_domains if d and d.strip()})
    except Exception as exc:  # the contract is "never raises": quarantine it
        logger.exception("inbound email parsing crashed")
        return _malformed(data, "crash", f"{type(exc).__name__}: {exc}")


def _parse(data: bytes, own_domains: set[str]) -> ParseResult:
    # The stdlib parser spends ~0.2 ms per MIME part: 800,000 tiny parts in a 25 MB message
    # would hold a worker for minutes. A cheap upper bound on the part count refuses that.
    if data.count(b"\n--") > _MAX_BOUNDARY_LINES:
        return _malformed(data, "too-complex", "too many lines that may be MIME boundaries")
    try:
        msg = _parse_tree(data)
    except RecursionError:  # the stdlib parser recurses once per multipart level
        return _malformed(data, "too-complex", "multiparts nested too deeply to parse")
    if not msg.keys():
        return _malformed(data, "no-headers", "no header could be parsed")
    root_defects = {type(d).__name__ for d in msg.defects}
    if msg.get_content_maintype() == "multipart" and root_defects & _FATAL_ROOT_DEFECTS:
        return _malformed(data, "no-boundary", ", ".join(sorted(root_defects)))
    senders = _addresses(msg, "from")
    if not senders:
        raw_from = _first_raw(msg, "from")
        why = "no From header" if raw_from is None else f"no usable address in From: {raw_from!r}"
        return _malformed(data, "no-sender", why[:200])
    from_name, from_email = senders[0]

    headers = {
        name: value for name in HEADERS_OF_INTEREST if (value := _first_raw(msg, name)) is not None
    }
    subject = _subject(msg)
    raw_message_id = _first_raw(msg, "message-id") or ""
    raw_in_reply_to = _first_raw(msg, "in-reply-to") or ""
    message_ids = _ids(raw_message_id)
    if message_ids:
        message_id = message_ids[0]
    else:
        message_id = f"{_content_hash(data, msg)}@{_SYNTHETIC_DOMAIN}"
    reply_to = _addresses(msg, "reply-to")
    references = _ids(" ".join(_raw_values(msg, "references")))
    to = _unique(email for _, email in _addresses(msg, "to"))
    cc = _unique(email for _, email in _addresses(msg, "cc"))
    date = _date(msg)
    try:
        bounce = bounce_report(msg, from_email, headers)
    except Exception:  # a broken report still is a message
        logger.warning("unreadable delivery-status report in %s", message_id, exc_info=True)
        bounce = NOT_A_BOUNCE

    found = Collected()
    collect(msg, found)
    defects = [type(d).__name__ for part in msg.walk() for d in part.defects] + found.defects
    del msg  # the tree holds every part's encoded text; release it before building the rest

    html = "\n".join(found.html)
    if html_too_deep(html):
        defects.append("HtmlTooDeep")  # sanitize_html refuses it; the text rendering remains
    text = "\n\n".join(t for t in found.plain if t.strip())
    if not text.strip() and html:
        text = html_to_text(html)
    reason = classify_automatic(
        {
            **headers,
            "Subject": subject,
            "Message-ID": raw_message_id,
            "In-Reply-To": raw_in_reply_to,
        },
        from_email,
        headers.get("Return-Path"),
        own_domains,
    )
    if reason is None and bounce.is_bounce:
        reason = "bounce: delivery-status report"
    message = InboundMessage(
        message_id=message_id,
        message_id_synthesised=not message_ids,
        in_reply_to=tuple(_ids(raw_in_reply_to)),
        references=tuple(references),
        from_email=from_email,
        from_name=from_name,
        reply_to=reply_to[0][1] if reply_to else "",
        to=tuple(to),
        cc=tuple(cc),
        subject=subject,
        date=date,
        text=text,
        html_sanitized=sanitize_html(html),
        reply_text=trim_reply(text),
        attachments=tuple(found.attachments),
        auto_reply=reason is not None,
        auto_reply_reason=reason or "",
        is_bounce=bounce.is_bounce,
        bounce_recipients=bounce.recipients,
        bounce_original_message_id=bounce.original_message_id,
        headers=headers,
        tokens=ThreadingTokens(
            ticket_references=tuple(find_reference_candidates(subject, text)),
            reply_tokens=tuple(find_reply_tokens(f"{subject}\n{text}")),
        ),
        raw_sha256=hashlib.sha256(data).hexdigest(),
        defects=tuple(dict.fromkeys(defects)),
    )
    return ParseResult(raw=data, message=message)
