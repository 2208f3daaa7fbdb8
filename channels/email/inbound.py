"""The inbound pipeline: raw RFC 822 bytes → parsed → the tenant's rules → the ticket services →
one InboundEmail row saying what became of the message.

Every entrance (``manage.py ingest_email``, the IMAP poller, the provider webhook) calls
:func:`inbound_ingest` once per message. Each message runs in its own transaction: whatever one
message does (a parser bug, a refused attachment, a database error) ends as *that* message's
quarantine row, with its raw bytes kept for the admins, and the next message goes through as
usual.

The rules, in order:

1. Too large (``HELPDESK_INBOUND_MAX_BYTES``, 50 MiB) or malformed → quarantined.
2. Its Message-ID is one we sent (EmailThreadId ``out``) → automatic (a loop).
3. Its Message-ID was received before → duplicate. A message without one is known by the
   parser's content hash. The unique (tenant, Message-ID) of EmailThreadId decides under
   concurrency: the second of two overlapping deliveries fails its insert and rolls back.
4. Auto-replies, bounces, lists and loops (``loops.classify_automatic``) → automatic; a bounce
   suppresses the addresses that failed.
5. More than ``HELPDESK_INBOUND_RATE_LIMIT`` messages (20) from one sender within
   ``HELPDESK_INBOUND_RATE_WINDOW`` seconds (600) → rate limited.
6. Threading (``channels.email.thread_match``), only for a sender allowed on the ticket.
7. Otherwise a new ticket: a known contact is the requester; an unknown sender follows the
   mailbox's rule (pending contact with a held ticket — seed 003's rule, the default — accept,
   or refuse).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from helpdesk.models import Tenant, User
from helpdesk.services import contact_signup, user_get_or_create
from tickets.models import Message, Ticket
from tickets.services import (
    attachment_add,
    ticket_add_cc,
    ticket_create,
    ticket_reply,
    ticket_settings_for,
)
from tickets.services.cc import MAX_CC
from tickets.sniff import HEAD_BYTES, sniff

from .message import Attachment, InboundMessage
from .models import EmailThreadId, InboundEmail, Mailbox, SuppressedAddress
from .parsing import parse_message
from .senders import (
    Sender,
    is_own_address,
    mailbox_for,
    organization_by_domain,
    own_addresses,
    own_domains,
    sender_resolve,
)
from .thread_match import thread_find

logger = logging.getLogger(__name__)

Outcome = InboundEmail.Outcome
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
SUBJECT_MAX = 250
BODY_MAX = 100_000


def max_message_bytes() -> int:
    return int(getattr(settings, "HELPDESK_INBOUND_MAX_BYTES", DEFAULT_MAX_BYTES))


def _rate_limit() -> tuple[int, int]:
    return (
        int(getattr(settings, "HELPDESK_INBOUND_RATE_LIMIT", 20)),
        int(getattr(settings, "HELPDESK_INBOUND_RATE_WINDOW", 600)),
    )


class _Duplicate(Exception):
    """Raised inside the message's transaction to roll back what it did so far."""


@dataclass
class _Context:
    tenant: Tenant
    source: str
    mailbox: Mailbox | None
    message: InboundMessage
    raw_size: int
    notes: list[str] = field(default_factory=list)


def inbound_ingest(
    *,
    tenant: Tenant,
    raw: bytes,
    source: str,
    mailbox: Mailbox | None = None,
    full_size: int | None = None,
    retry_of: InboundEmail | None = None,
) -> InboundEmail:
    """Run one raw message through the pipeline and return its InboundEmail row (saved).

    ``full_size``: the size of the message when the entrance read only its first
    ``len(raw)`` bytes because it was over the limit (the message is then quarantined with
    those bytes). ``retry_of``: a quarantined row being retried by an admin; it is released
    when the message now goes through, and keeps its (new) reason when it does not.

    Never raises for anything about the message itself; preconditions: ``mailbox`` (if given)
    is the tenant's.
    """
    if mailbox is not None and mailbox.tenant_id != tenant.pk:
        raise ValueError("the mailbox belongs to another tenant")
    size = full_size if full_size is not None else len(raw)
    limit = max_message_bytes()
    if size > limit:
        reason = f"too large: {size} bytes (the limit is {limit}); the first {len(raw)} kept"
        return _quarantine(tenant, source, mailbox, raw, size, reason, retry_of=retry_of)
    result = parse_message(raw, own_domains=own_domains())
    if result.message is None:
        reason = f"malformed ({result.error}): {result.reason}"
        return _quarantine(tenant, source, mailbox, raw, size, reason, retry_of=retry_of)
    message = result.message
    if mailbox is None:
        mailbox = mailbox_for(tenant=tenant, recipients=[*message.to, *message.cc])
    context = _Context(
        tenant=tenant, source=source, mailbox=mailbox, message=message, raw_size=size
    )
    try:
        with transaction.atomic():
            row = _process(context)
    except _Duplicate:
        row = _record(context, Outcome.DUPLICATE, "Message-ID already received")
    except Exception as exc:  # one message's failure must not stop the queue
        logger.exception("inbound email %s failed; quarantined", message.message_id)
        reason = f"processing failed: {type(exc).__name__}: {exc}"
        return _quarantine(
            tenant, source, mailbox, raw, size, reason, message=message, retry_of=retry_of
        )
    if retry_of is not None:
        InboundEmail.objects.filter(pk=retry_of.pk).update(released_at=timezone.now())
        retry_of.released_at = timezone.now()
    return row


def _record(
    context: _Context,
    outcome: str,
    reason: str = "",
    ticket: Ticket | None = None,
) -> InboundEmail:
    message = context.message
    notes = "; ".join(context.notes)
    return InboundEmail.objects.create(
        tenant=context.tenant,
        source=context.source,
        mailbox=context.mailbox,
        message_id=message.message_id[:998],
        from_address=message.from_email[:320],
        subject=message.subject[:998],
        outcome=outcome,
        reason="; ".join(r for r in (reason, notes) if r),
        ticket=ticket,
        raw_size=context.raw_size,
    )


def _quarantine(
    tenant: Tenant,
    source: str,
    mailbox: Mailbox | None,
    raw: bytes,
    size: int,
    reason: str,
    *,
    message: InboundMessage | None = None,
    retry_of: InboundEmail | None = None,
) -> InboundEmail:
    """Keep the raw bytes in storage and a quarantined row pointing at them. A retry that
    fails again only updates the reason of the row it retried."""
    if retry_of is not None:
        InboundEmail.objects.filter(pk=retry_of.pk).update(reason=reason)
        retry_of.reason = reason
        return retry_of
    now = timezone.now()
    name = f"email-raw/{tenant.pk}/{now:%Y/%m}/{secrets.token_hex(16)}.eml"
    stored = default_storage.save(name, ContentFile(raw))
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(
                tenant=tenant,
                source=source,
                mailbox=mailbox,
                message_id=(message.message_id if message else "")[:998],
                from_address=(message.from_email if message else "")[:320],
                subject=(message.subject if message else _raw_subject(raw))[:998],
                outcome=Outcome.QUARANTINED,
                reason=reason,
                raw=stored,
                raw_size=size,
                received_at=now,
            )
    except BaseException:
        default_storage.delete(stored)
        raise


def _raw_subject(raw: bytes) -> str:
    """A hint for the quarantine list: the first Subject line of an unparseable message."""
    head = raw[:16384].decode("utf-8", "replace")
    for line in head.splitlines():
        if not line.strip():
            break
        if line.lower().startswith("subject:"):
            return line[8:].strip()
    return ""


def _process(context: _Context) -> InboundEmail:
    tenant, message = context.tenant, context.message
    known = dict(
        EmailThreadId.objects.for_tenant(tenant)
        .filter(message_id=message.message_id)
        .values_list("message_id", "direction")
    )
    if known.get(message.message_id) == EmailThreadId.Direction.OUT:
        return _record(context, Outcome.AUTOMATIC, "loop: the Message-ID is one we sent")
    if message.message_id in known:
        raise _Duplicate
    if message.auto_reply:
        if message.is_bounce:
            _suppress(context)
        return _record(context, Outcome.AUTOMATIC, message.auto_reply_reason)
    limit, window = _rate_limit()
    since = timezone.now() - dt.timedelta(seconds=window)
    recent = (
        InboundEmail.objects.for_tenant(tenant)
        .filter(from_address=message.from_email[:320], received_at__gte=since)
        .exclude(outcome=Outcome.DUPLICATE)
        .count()
    )
    if recent >= limit:
        return _record(
            context,
            Outcome.RATE_LIMITED,
            f"more than {limit} messages from {message.from_email} in {window} seconds",
        )
    sender = sender_resolve(tenant=tenant, email=message.from_email, name=message.from_name)
    found = thread_find(tenant=tenant, message=message, sender=sender)
    if found.ticket is not None:
        return _thread(context, sender, found.ticket)
    if found.refused:
        context.notes.append(found.refused)
    return _open(context, sender, follow_up=found.closed)


def _suppress(context: _Context) -> None:
    message = context.message
    for address in message.bounce_recipients:
        try:
            validate_email(address)
        except ValidationError:
            continue
        try:
            with transaction.atomic():
                SuppressedAddress.objects.get_or_create(
                    tenant=context.tenant,
                    address=address,
                    defaults={
                        "reason": SuppressedAddress.Reason.BOUNCED,
                        "detail": f"bounce {message.message_id}"[:1000],
                    },
                )
        except IntegrityError:  # the outbound bounce webhook suppressed it at the same time
            pass


def _claim_message_id(context: _Context, ticket: Ticket, reply: Message | None) -> None:
    """Insert the Message-ID (the dedupe): a concurrent delivery of the same message waits on
    the unique index and then fails here, rolling back everything it did."""
    try:
        with transaction.atomic():
            EmailThreadId.objects.create(
                tenant=context.tenant,
                message_id=context.message.message_id,
                ticket=ticket,
                ticket_message=reply,
                direction=EmailThreadId.Direction.IN,
            )
    except IntegrityError:
        raise _Duplicate from None


def _cc_candidates(context: _Context, exclude: str) -> list[str]:
    """The message's To and Cc addresses that become ticket CCs: not the tenant's own, not the
    sender, valid, and at most the ticket's CC limit.

    To addresses count only when one of the recipients is recognisably the tenant's (a
    mailbox, the support address): otherwise the address the mail was delivered to is unknown
    (a pipe with no mailbox set up), it is most likely in To, and making it a CC would mail
    every reply back into the desk. Cc addresses always count."""
    addresses = own_addresses(tenant=context.tenant)
    domains = own_domains()
    message = context.message
    ours_known = any(
        is_own_address(a, addresses=addresses, domains=domains) for a in (*message.to, *message.cc)
    )
    out: list[str] = []
    for address in [*(message.to if ours_known else ()), *message.cc]:
        if address == exclude or address in out:
            continue
        if is_own_address(address, addresses=addresses, domains=domains):
            continue
        try:
            validate_email(address)
        except ValidationError:
            continue
        out.append(address)
    if len(out) > MAX_CC:
        context.notes.append(f"{len(out) - MAX_CC} CCs over the limit of {MAX_CC} not added")
        out = out[:MAX_CC]
    return out


def _screen_attachments(
    context: _Context, attachments: Sequence[Attachment]
) -> tuple[list[Attachment], list[str]]:
    """Split attachments into those the tenant's limits accept and lines saying which were
    skipped and why (the same checks as ``attachment_add``, made before the text is written so
    that the conversation itself says what was not kept)."""
    limits = ticket_settings_for(tenant=context.tenant)
    kept: list[Attachment] = []
    skipped: list[str] = []
    for attachment in attachments:
        name = attachment.filename or "attachment"
        if attachment.size > limits.max_attachment_bytes:
            why = f"larger than {filesizeformat(limits.max_attachment_bytes)}"
        else:
            kind = sniff(attachment.payload[:HEAD_BYTES], attachment.content_type)
            if kind in limits.allowed_content_types:
                kept.append(attachment)
                continue
            why = f"files of type {kind} are not accepted"
        skipped.append(f"{name} ({why})")
    if skipped:
        context.notes.append("attachments not kept: " + ", ".join(skipped))
    return kept, skipped


def _body(text: str, skipped: Sequence[str]) -> str:
    text = text.strip()
    if len(text) > BODY_MAX - 2000:
        text = text[: BODY_MAX - 2000] + "\n\n[… the rest of the message was cut]"
    if skipped:
        lines = "\n".join(f"- {s}" for s in skipped)
        text = f"{text}\n\n---\nAttachments not kept (the desk's limits):\n{lines}".strip()
    return text or "(The message had no text.)"


def _store_attachments(
    context: _Context,
    ticket: Ticket,
    attachments: Sequence[Attachment],
    by: User | None,
    reply: Message | None,
) -> None:
    for attachment in attachments:
        try:
            with transaction.atomic():
                attachment_add(
                    ticket=ticket,
                    upload=io.BytesIO(attachment.payload),
                    filename=attachment.filename or "attachment",
                    declared_content_type=attachment.content_type,
                    by=by,
                    message=reply,
                )
        except ValidationError as exc:
            context.notes.append(f"attachment {attachment.filename!r} not kept: {exc.messages}")


def _thread(context: _Context, sender: Sender, ticket: Ticket) -> InboundEmail:
    message = context.message
    kept, skipped = _screen_attachments(context, message.attachments)
    _claim_message_id(context, ticket, None)
    text = message.reply_text if message.reply_text.strip() else message.text
    if (
        Message.objects.for_tenant(context.tenant)
        .filter(email_message_id=message.message_id)
        .exists()
    ):
        raise _Duplicate
    reply = ticket_reply(
        ticket=ticket,
        body=_body(text, skipped),
        author=sender.user,
        author_email=sender.email,
        channel=Ticket.Channel.EMAIL,
        email_message_id=message.message_id,
    )
    EmailThreadId.objects.for_tenant(context.tenant).filter(message_id=message.message_id).update(
        ticket_message=reply
    )
    _store_attachments(context, ticket, kept, sender.user, reply)
    new_cc = [c for c in _cc_candidates(context, sender.email) if c not in (ticket.cc or [])]
    if new_cc:
        try:
            with transaction.atomic():
                ticket_add_cc(ticket=ticket, emails=new_cc, by=sender.user)
        except ValidationError as exc:
            context.notes.append(f"CCs not added: {' '.join(exc.messages)}")
    return _record(context, Outcome.THREADED, f"added to {ticket.reference}", ticket=ticket)


def _open(context: _Context, sender: Sender, *, follow_up: Ticket | None) -> InboundEmail:
    tenant, message = context.tenant, context.message
    if sender.is_inactive_member:
        return _record(context, Outcome.REFUSED, "the sender's membership here is deactivated")
    requester = sender.user if sender.membership is not None else None
    organization = None
    if sender.membership is None:
        rule = context.mailbox.unknown_sender if context.mailbox else Mailbox.UnknownSender.PENDING
        if rule == Mailbox.UnknownSender.REFUSE:
            return _record(
                context, Outcome.REFUSED, f"{sender.email} is not a contact of this desk"
            )
        if rule == Mailbox.UnknownSender.PENDING:
            # Seed 003: only verified contacts file; the unknown sender becomes a pending
            # contact and the ticket is kept, held out of the queue until verified.
            requester = user_get_or_create(
                email=sender.email, name=sender.name[:150], verified=False
            )
            contact_signup(tenant=tenant, user=requester)
        else:
            organization = organization_by_domain(tenant=tenant, email=sender.email)
    kept, skipped = _screen_attachments(context, message.attachments)
    text = message.text
    if follow_up is not None:
        text = f"Follow-up to {follow_up.reference} (closed).\n\n{text}"
    subject = message.subject.strip() or "(no subject)"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    ticket = ticket_create(
        tenant=tenant,
        subject=subject,
        description=_body(text, skipped),
        requester=requester,
        requester_email=sender.email,
        organization=organization,
        channel=Ticket.Channel.EMAIL,
        cc=_cc_candidates(context, sender.email),
        by=requester,
    )
    _claim_message_id(context, ticket, None)
    _store_attachments(context, ticket, kept, requester, None)
    held = " (held until the sender is verified)" if ticket.held_for_verification else ""
    return _record(context, Outcome.CREATED, f"opened {ticket.reference}{held}", ticket=ticket)
