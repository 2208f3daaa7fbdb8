"""Recognising mail that no person wrote: auto-replies, lists, bounces, and our own echoes.

A helpdesk that answers an out-of-office with an acknowledgement, which is answered by the
out-of-office again, mails itself into a loop. Everything here errs towards calling a message
automatic only on explicit signals (headers defined for the purpose, well-known subject
prefixes of autoresponders), because an inbound message classed automatic gets no reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

# Header names kept on InboundMessage.headers (first occurrence, unfolded, raw).
HEADERS_OF_INTEREST: tuple[str, ...] = (
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "Return-Path",
    "List-Id",
    "X-MS-Exchange-Generated-Message-Source",
    "X-MS-Exchange-Inbox-Rules-Loop",
    "X-Loop",
    "X-Failed-Recipients",
)

_PRECEDENCE_AUTOMATIC = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_SUPPRESS_AUTOMATIC = {"all", "oof", "autoreply"}
_FALSE_VALUES = {"", "no", "false", "0"}
_DAEMON_LOCAL_PARTS = {"mailer-daemon", "postmaster"}
# Autoresponder subject prefixes, each with its colon: "Out of office assistant broken" or
# "Autoreply rules do not work" are questions a customer may well ask us.
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:Auto|Automatic\sreply|Auto[- ]?reply|Auto[- ]?response|"
    r"Out\sof\s(?:the\s)?office(?:\sauto[- ]?reply)?|Abwesenheitsnotiz|Automatische\sAntwort|"
    r"R[ée]ponse\sautomatique|Risposta\sautomatica|Respuesta\sautom[áa]tica|"
    r"Automatisch\santwoord|Autosvar|Fuera\sde\sla\soficina)\s?:"
    r"|\bis\sout\sof\sthe\soffice\.?\s*$",  # Lotus Notes: "<Name> is out of the office."
    re.IGNORECASE,
)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): (value or "").strip() for name, value in headers.items()}


def _domain_is_ours(domain: str, own_domains: set[str]) -> bool:
    domain = domain.lower().rstrip(".")
    return any(domain == own or domain.endswith("." + own) for own in own_domains)


def _id_domains(value: str) -> list[str]:
    return [m.rpartition("@")[2] for m in _MESSAGE_ID.findall(value) if "@" in m]


def classify_automatic(
    msg_headers: Mapping[str, str],
    from_email: str,
    return_path: str | None,
    own_message_id_domains: set[str],
) -> str | None:
    """Why a message looks machine-generated, or None when a person seems to have sent it.

    ``msg_headers`` maps header names (any case) to their first raw value; it should hold
    at least the names in HEADERS_OF_INTEREST plus Subject, Message-ID and In-Reply-To.
    ``return_path`` is the envelope sender if known ("<>" or "" for the null path, None
    when unknown). ``own_message_id_domains`` are the domains this installation puts in its
    Message-IDs and sends from. Returns a reason such as "auto-submitted: auto-replied".
    """
    headers = _lower_keys(msg_headers)
    own = {d.lower().rstrip(".") for d in own_message_id_domains if d}

    # RFC 3834: a keyword, then optional parameters and (comments); only the keyword counts.
    keyword = re.match(r"\s*([A-Za-z0-9-]+)", headers.get("auto-submitted", ""))
    auto_submitted = keyword.group(1).lower() if keyword else ""
    if auto_submitted and auto_submitted != "no":
        return f"auto-submitted: {auto_submitted}"
    if headers.get("x-ms-exchange-inbox-rules-loop"):
        return "x-ms-exchange-inbox-rules-loop"
    if headers.get("x-ms-exchange-generated-message-source"):
        return "x-ms-exchange-generated-message-source: " + (
            headers["x-ms-exchange-generated-message-source"].lower()
        )
    if headers.get("x-autoreply", "").lower() not in _FALSE_VALUES:
        return "x-autoreply: " + headers["x-autoreply"].lower()
    if headers.get("x-autorespond"):
        return "x-autorespond"
    suppress = {
        token.strip().lower() for token in headers.get("x-auto-response-suppress", "").split(",")
    }
    if matched := sorted(suppress & _SUPPRESS_AUTOMATIC):
        return "x-auto-response-suppress: " + matched[0]
    precedence = headers.get("precedence", "").lower()
    if precedence in _PRECEDENCE_AUTOMATIC:
        return f"precedence: {precedence}"
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "return-path: null"
    local_part = from_email.partition("@")[0].lower()
    if local_part in _DAEMON_LOCAL_PARTS:
        return f"sender: {local_part}"
    if headers.get("list-id"):
        return "list-id"
    if own:
        x_loop = headers.get("x-loop", "").lower()
        if x_loop and any(d in x_loop for d in own):
            return "loop: x-loop"
        # Our own Message-ID alone means only "a reply to us"; it is a loop when the message
        # also claims to come from us.
        ids = headers.get("message-id", "") + " " + headers.get("in-reply-to", "")
        from_domain = from_email.rpartition("@")[2]
        if _domain_is_ours(from_domain, own) and any(
            _domain_is_ours(d, own) for d in _id_domains(ids)
        ):
            return "loop: own message-id"
    subject = headers.get("subject", "")
    if match := _AUTO_SUBJECT.search(subject):
        return "subject: " + match.group(0).strip().rstrip(":.").strip().lower()
    return None


@dataclass(frozen=True, slots=True)
class BounceReport:
    """What a delivery-status notification says."""

    is_bounce: bool
    recipients: tuple[str, ...]  # addresses whose delivery failed, lower-cased
    original_message_id: str  # the bounced message's Message-ID without <>, or ""


NOT_A_BOUNCE = BounceReport(False, (), "")


def _recipient_address(value: str) -> str:
    # "rfc822; user@example.com" (address type, then the address, possibly in <>).
    address = value.partition(";")[2] if ";" in value else value
    return address.strip().strip("<>").strip().lower()


def _status_blocks(part: Message) -> list[Mapping[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [
            {k: str(v) for k, v in block.items()} for block in payload if isinstance(block, Message)
        ]
    # An encoded delivery-status body is not split into blocks by the parser; do it here.
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(payload)
    blocks = re.split(r"\r?\n[ \t]*\r?\n", text)
    return [
        {k: str(v) for k, v in HeaderParser().parsestr(b.strip() + "\n").items()} for b in blocks
    ]


def _original_message_id(parts: Iterable[Message]) -> str:
    for part in parts:
        ctype = part.get_content_type()
        headers: Message | None = None
        payload = part.get_payload()
        if ctype == "message/rfc822" and isinstance(payload, list) and payload:
            headers = payload[0] if isinstance(payload[0], Message) else None
        elif ctype == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
            headers = HeaderParser().parsestr(text)
        if headers is not None:
            match = _MESSAGE_ID.search(str(headers.get("Message-ID", "") or ""))
            if match:
                return match.group(1)
    return ""


def bounce_report(msg: EmailMessage, from_email: str, headers: Mapping[str, str]) -> BounceReport:
    """Read a bounce: an RFC 3464 multipart/report, or a daemon's X-Failed-Recipients.

    Only failed recipients count: a "delayed" DSN is a warning, still automatic but not a
    bounce. May raise on pathological structures; the caller guards it.
    """
    if msg.get_content_type() == "multipart/report" and isinstance(msg.get_payload(), list):
        parts = [p for p in msg.get_payload() if isinstance(p, Message)]
        failed: list[str] = []
        for part in parts:
            if part.get_content_type() != "message/delivery-status":
                continue
            for block in _status_blocks(part):
                fields = {k.lower(): v for k, v in block.items()}
                recipient = fields.get("final-recipient") or fields.get("original-recipient")
                action = fields.get("action", "failed").strip().lower()
                if recipient and action == "failed":
                    failed.append(_recipient_address(recipient))
        failed = [a for a in dict.fromkeys(failed) if a]
        if failed:
            return BounceReport(True, tuple(failed), _original_message_id(parts))
        return NOT_A_BOUNCE
    # Exim and others name the failed addresses in a header of a plain-text bounce.
    x_failed = _lower_keys(headers).get("x-failed-recipients", "")
    if x_failed and from_email.partition("@")[0].lower() in _DAEMON_LOCAL_PARTS:
        recipients = [a.strip().strip("<>").lower() for a in x_failed.split(",")]
        return BounceReport(True, tuple(a for a in dict.fromkeys(recipients) if a), "")
    return NOT_A_BOUNCE
