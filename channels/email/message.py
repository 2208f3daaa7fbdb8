"""The normalised shape every inbound email takes, whatever way it arrived (pipe, IMAP, webhook).

Plain frozen dataclasses: no Django, no database. Sequences are tuples so that a parsed message
really is immutable once handed to the ticket services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MalformedReason = Literal[
    "empty", "unreadable", "no-headers", "no-sender", "no-boundary", "too-complex", "crash"
]


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file of a message, decoded.

    ``payload`` is the only copy of the decoded bytes that parsing keeps (the encoded text it
    came from is released with the parsed MIME tree). ``size`` is ``len(payload)``.
    """

    filename: str  # decoded (RFC 2047/2231), path parts and control characters removed
    content_type: str  # lower-case "type/subtype"
    size: int
    content_id: str  # without <>, "" if none; what cid: URLs in the HTML refer to
    inline: bool  # shown within the body (Content-Disposition: inline, or a Content-ID)
    payload: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ThreadingTokens:
    """Hints for attaching a message to an existing ticket; all unverified."""

    ticket_references: tuple[str, ...] = ()  # "OR-1042" from "[OR-1042]", subject first
    reply_tokens: tuple[str, ...] = ()  # the <token> of "[#hd-<token>]", signature unchecked


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """An inbound email, normalised.

    Addresses are lower-cased addr-specs. Message ids are without angle brackets. Strings that
    a message lacks are "" (never None); only ``date`` may be None.
    """

    message_id: str
    message_id_synthesised: bool  # True: no usable Message-ID; derived from the content hash
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]  # in header order, oldest first, without repeats
    from_email: str
    from_name: str
    reply_to: str  # first Reply-To address, "" if none
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None  # timezone-aware; a date without zone ("-0000") is taken as UTC
    text: str  # the text/plain body, else text rendered from the HTML body
    html_sanitized: str  # "" when the message has no HTML body
    reply_text: str  # ``text`` without quoted history and signature
    attachments: tuple[Attachment, ...]
    auto_reply: bool
    auto_reply_reason: str  # e.g. "auto-submitted: auto-replied"; "" when not automatic
    is_bounce: bool
    bounce_recipients: tuple[str, ...]  # recipients whose delivery failed
    bounce_original_message_id: str  # Message-ID of the message that bounced, if reported
    headers: dict[str, str]  # HEADERS_OF_INTEREST that are present: first value, unfolded
    tokens: ThreadingTokens
    raw_sha256: str  # hex digest of the exact raw bytes
    defects: tuple[str, ...] = ()  # names of the parser's defects, for diagnostics


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The outcome of parsing: ``message`` on success, else ``error`` and ``reason``.

    ``raw`` is the input as bytes (the caller's own object when bytes were passed, so no
    copy), kept so that a malformed message can be quarantined exactly as received.
    """

    raw: bytes = field(repr=False)
    message: InboundMessage | None = None
    error: MalformedReason | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when a message was parsed."""
        return self.message is not None
