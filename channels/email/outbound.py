"""Ticket mail: every public reply mailed to the requester and the CCs, and the acknowledgement
of a ticket opened by email — threaded, from the tenant's address, each sent exactly once.

**Which messages are mailed.** A public reply by staff written in the workspace, the API or by
email (an agent answering a notice from their mail client). A public reply by a customer in the
portal or the API goes to the *other* participants (the requester and the CCs minus its author),
so CCs follow the conversation. Never: an internal note; a customer's reply that came by email
(its author already sent it to whoever they meant to); an agent's line in a live chat (the
customer read it live; the transcript is on the ticket). Recipients are the requester and the
ticket's CCs minus the author, minus the tenant's own mailboxes (no loops), minus suppressed
addresses (``channels.email.bounces``).

**The acknowledgement.** A ticket opened by email gets one automatic answer to its requester
(``Auto-Submitted: auto-replied``, RFC 3834 §5: it responds to their message) carrying the
reference and the reply token, so the customer knows the ticket exists and their next mail
threads. Not for a ticket held for verification (an unknown, possibly forged sender: no
backscatter), nor with ``HELPDESK_EMAIL_ACKNOWLEDGE=False``. CCs are not acknowledged: they were
on the customer's own mail.

**Exactly once.**

1. The ticket service commits the reply and publishes ``message.created`` (``tickets.outbox``);
   after commit :func:`ticket_event_to_mail` queues :func:`prepare_reply_mail` with the ids.
2. :func:`ticket_reply_mail_prepare`, in one transaction, inserts the mail's EmailThreadId
   (``out``) and its outbox row (a NotificationDelivery holding the whole message: recipients,
   headers, bodies, attachment ids). The Message-ID is derived from the ticket message (an HMAC
   of tenant and message id under SECRET_KEY: stable, unguessable), so the unique (tenant,
   message_id) of EmailThreadId is the claim: a retried, duplicated or racing preparation waits
   on the index, fails its insert and does nothing. The Message-ID is stored before anything is
   sent, and the two rows commit together or not at all.
3. After commit the notices' ``deliver_email`` task sends the row under its lease
   (``channels.notifications.services``): a retry, a second worker or the sweep finds it sent.
   A worker dying between the SMTP transaction and the ``sent`` mark is the one window that
   can send twice — with the same Message-ID, so clients show one message.
4. :func:`ticket_mail_sweep` prepares what step 1 lost (a broker outage after the commit).

**Headers.** Message-ID ``<reply-…@{tenant host}>``; In-Reply-To the customer's last inbound
message on the ticket, else the ticket's thread root (``notifications.emails.ticket_thread_id``,
which every notice answers too); References the root and the newest known Message-IDs of the
ticket (at most :data:`REFERENCES_MAX`); subject ``[OR-1042] Subject``; the signed reply token in
the footer; From/Reply-To the tenant's (``notifications.emails.tenant_sender``); anymail metadata
and a tag naming the tenant, for the bounce webhook. A human's reply carries no Auto-Submitted.

**Attachments** of the reply are attached, read from storage at send time, up to
``HELPDESK_EMAIL_ATTACHMENTS_MAX_BYTES`` (10 MiB) in all; the rest are listed with their
authorised download link in the portal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from channels.notifications.emails import (
    render_email,
    tenant_base_url,
    tenant_sender,
    ticket_thread_id,
)
from channels.notifications.models import NotificationDelivery
from channels.notifications.services import enqueue_deliveries, on_commit_robust
from helpdesk.models import Tenant
from tickets.models import Attachment, Message, Ticket

from .bounces import METADATA_TENANT, METADATA_TICKET, TAG_TENANT_PREFIX, addresses_suppressed
from .models import EmailThreadId, Mailbox
from .tokens import reply_token_marker

logger = logging.getLogger(__name__)

Channel = Ticket.Channel
Direction = EmailThreadId.Direction

REFERENCES_MAX = 20
ATTACHMENTS_MAX_BYTES = 10 * 1024 * 1024
READ_BLOCK = 1024 * 1024
# Staff replies from these channels are mailed; customers' replies only from the first two.
STAFF_MAILED = frozenset({Channel.WEB, Channel.API, Channel.EMAIL})
CUSTOMER_MAILED = frozenset({Channel.WEB, Channel.API})
# The sweep looks this far back for replies whose preparation was lost, leaving the newest to
# the task queued on commit.
SWEEP_WINDOW = dt.timedelta(hours=24)
SWEEP_GRACE = dt.timedelta(minutes=1)


def attachments_max_bytes() -> int:
    return int(getattr(settings, "HELPDESK_EMAIL_ATTACHMENTS_MAX_BYTES", ATTACHMENTS_MAX_BYTES))


def tenant_host(tenant: Tenant) -> str:
    return f"{tenant.slug}.{settings.HELPDESK_BASE_DOMAIN}"


def outbound_message_id(*, tenant: Tenant, kind: str, key: int) -> str:
    """``reply-<id>-<mac>@<tenant host>`` (without <>, as EmailThreadId stores Message-IDs): the
    same for the same message, so preparing twice collides; the MAC keeps it unguessable."""
    mac = hmac.new(
        settings.SECRET_KEY.encode(), f"{tenant.pk}:{kind}:{key}".encode(), hashlib.sha256
    ).hexdigest()[:16]
    return f"{kind}-{key}-{mac}@{tenant_host(tenant)}"


def _bracket(message_id: str) -> str:
    return f"<{message_id.strip('<>')}>"


def thread_headers(
    *, ticket: Ticket, exclude: str, message: Message | None = None
) -> dict[str, str]:
    """In-Reply-To and References for a new mail on ``ticket`` (see the module doc). For the
    mail of ``message`` only the Message-IDs known when it was written count, and not the one
    it arrived with (an agent answering by email: the customer never saw that mail)."""
    root = ticket_thread_id(tenant_slug=ticket.tenant.slug, ticket_id=ticket.pk)
    rows = EmailThreadId.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket)
    if message is not None:
        rows = rows.filter(created_at__lte=message.created_at).exclude(ticket_message=message)
    known = list(
        rows.exclude(message_id=exclude)
        .order_by("-created_at", "-id")
        .values_list("message_id", "direction")[: REFERENCES_MAX - 1]
    )
    known.reverse()  # oldest first, as References reads
    inbound = [m for m, direction in known if direction == Direction.IN]
    in_reply_to = _bracket(inbound[-1]) if inbound else root
    references = [root, *(_bracket(m) for m, _ in known if _bracket(m) != root)]
    return {"In-Reply-To": in_reply_to, "References": " ".join(references)}


def _own_addresses(tenant: Tenant) -> set[str]:
    rows = Mailbox.objects.for_tenant(tenant).values_list("address", "reply_to")
    return {a.lower() for pair in rows for a in pair if a}


@dataclass(frozen=True)
class Recipients:
    to: str
    cc: list[str]
    suppressed: list[str]


def ticket_mail_recipients(*, ticket: Ticket, exclude: Iterable[str] = ()) -> Recipients | None:
    """The requester (To) and the CCs (Cc) minus ``exclude``, the tenant's mailboxes and the
    suppressed addresses; a suppressed or excluded requester gives way to the first CC. None
    when nobody is left (``suppressed`` then says whom the suppression list removed)."""
    skip = {e.strip().lower() for e in exclude if e} | _own_addresses(ticket.tenant)
    wanted: list[str] = []
    for address in [ticket.requester_email, *(ticket.cc or [])]:
        address = (address or "").strip().lower()
        if address and address not in skip and address not in wanted:
            wanted.append(address)
    suppressed = addresses_suppressed(tenant_id=ticket.tenant_id, addresses=wanted)
    left = [a for a in wanted if a not in suppressed]
    gone = [a for a in wanted if a in suppressed]
    if not left:
        return Recipients(to="", cc=[], suppressed=gone) if gone else None
    return Recipients(to=left[0], cc=left[1:], suppressed=gone)


# reply_is_mailed as a query.
_MAILED = Q(public=True) & (
    Q(from_staff=True, channel__in=STAFF_MAILED) | Q(from_staff=False, channel__in=CUSTOMER_MAILED)
)


def reply_is_mailed(message: Message) -> bool:
    """Which public messages become mail (the module doc says why)."""
    if not message.public:
        return False
    allowed = STAFF_MAILED if message.from_staff else CUSTOMER_MAILED
    return message.channel in allowed


def _portal_url(ticket: Ticket, name: str = "portal-ticket", **kwargs: Any) -> str:
    path = reverse(name, urlconf="helpdesk.urls", kwargs={"reference": ticket.reference, **kwargs})
    return tenant_base_url(ticket.tenant) + path


@dataclass(frozen=True)
class FileRef:
    id: int
    filename: str
    size: int
    url: str


def _split_attachments(
    ticket: Ticket, attachments: Sequence[Attachment]
) -> tuple[list[FileRef], list[FileRef]]:
    """(attached, linked): in order, each file that still fits the size cap is attached, the
    others are linked to their authorised download in the portal."""
    cap, total = attachments_max_bytes(), 0
    attached: list[FileRef] = []
    linked: list[FileRef] = []
    for a in attachments:
        ref = FileRef(
            id=a.pk,
            filename=a.filename,
            size=a.size,
            url=_portal_url(ticket, "portal-ticket-attachment", attachment_id=a.pk),
        )
        if total + a.size <= cap:
            total += a.size
            attached.append(ref)
        else:
            linked.append(ref)
    return attached, linked


def _read(attachment: Attachment) -> bytes:
    chunks: list[bytes] = []
    with attachment.file.open("rb") as handle:
        while chunk := handle.read(READ_BLOCK):
            chunks.append(chunk)
    return b"".join(chunks)


def attach_stored_files(
    message: EmailMessage, *, tenant_id: int, attachment_ids: Iterable[int]
) -> None:
    """Attach the tenant's stored ticket files (public ones only), read in blocks from storage
    under their real names. A file gone from storage is left out (and logged) rather than
    holding the whole mail back."""
    ids = [int(i) for i in attachment_ids]
    found = {
        a.pk: a for a in Attachment.objects.for_tenant(tenant_id).filter(pk__in=ids, public=True)
    }
    for pk in ids:
        attachment = found.get(pk)
        if attachment is None:
            logger.warning("attachment %s of tenant %s is gone; not attached", pk, tenant_id)
            continue
        try:
            data = _read(attachment)
        except OSError:
            logger.warning("attachment %s: file missing in storage; not attached", pk)
            continue
        message.attach(
            attachment.filename, data, attachment.content_type or "application/octet-stream"
        )


def _author_name(message: Message) -> str:
    if message.author is not None:
        return message.author.name or message.author.email
    return message.author_email


def _record(
    *,
    ticket: Ticket,
    message_id: str,
    ticket_message: Message | None,
    source_key: str,
    recipients: Recipients | None,
    payload: dict[str, Any],
) -> NotificationDelivery | None:
    """Insert the EmailThreadId (the claim) and the outbox row; None when it was prepared
    before. Runs inside the caller's transaction."""
    try:
        with transaction.atomic():
            EmailThreadId.objects.create(
                tenant_id=ticket.tenant_id,
                ticket=ticket,
                ticket_message=ticket_message,
                message_id=message_id,
                direction=Direction.OUT,
            )
    except IntegrityError:
        return None  # prepared already (a retry, a duplicate task, the sweep)
    if recipients is None:
        return None  # nobody to write to (the requester wrote it and there are no CCs)
    now = timezone.now()
    skipped = not recipients.to
    delivery = NotificationDelivery.objects.create(
        tenant_id=ticket.tenant_id,
        source_key=source_key,
        channel=NotificationDelivery.Channel.EMAIL,
        recipient=recipients.to or recipients.suppressed[0],
        ticket=ticket,
        payload={**payload, "cc": recipients.cc},
        status=(
            NotificationDelivery.Status.SKIPPED if skipped else NotificationDelivery.Status.PENDING
        ),
        error="Every recipient is suppressed." if skipped else "",
        next_attempt_at=now,
        created_at=now,
    )
    if not skipped:
        on_commit_robust(enqueue_deliveries, [(delivery.pk, delivery.channel)])
    return delivery


def _payload(
    *, ticket: Ticket, name: str, context: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    tenant = ticket.tenant
    sender = tenant_sender(tenant)
    content = render_email(name, context)
    return {
        **content.as_payload(),
        "headers": headers,
        "from_email": sender.from_email,
        "reply_to": sender.reply_to,
        "metadata": {METADATA_TENANT: str(tenant.pk), METADATA_TICKET: str(ticket.pk)},
        "tags": [f"{TAG_TENANT_PREFIX}{tenant.pk}", name],
    }


def _base_context(ticket: Ticket) -> dict[str, Any]:
    return {
        "tenant": ticket.tenant,
        "ticket": ticket,
        "reference": ticket.reference,
        "ticket_url": _portal_url(ticket),
        "token": reply_token_marker(tenant_id=ticket.tenant_id, ticket_id=ticket.pk),
    }


@transaction.atomic
def ticket_reply_mail_prepare(*, tenant_id: int, message_id: int) -> NotificationDelivery | None:
    """Record the mail of a public reply (see the module doc) and queue it after commit.
    Returns the outbox row, or None when there is nothing (more) to do: not a mailed message,
    prepared before, or nobody to write to. Safe to call any number of times."""
    message = (
        Message.objects.for_tenant(tenant_id)
        .select_related("ticket", "ticket__tenant", "author")
        .filter(pk=message_id)
        .first()
    )
    if message is None or not reply_is_mailed(message):
        return None
    ticket = message.ticket
    tenant = ticket.tenant
    mid = outbound_message_id(tenant=tenant, kind="reply", key=message.pk)
    headers = {
        "Message-ID": _bracket(mid),
        **thread_headers(ticket=ticket, exclude=mid, message=message),
    }
    attachments = list(
        Attachment.objects.for_tenant(tenant_id)
        .filter(message=message, public=True)
        .order_by("created_at", "id")
    )
    attached, linked = _split_attachments(ticket, attachments)
    context = {
        **_base_context(ticket),
        "message": message,
        "author_name": _author_name(message),
        "from_staff": message.from_staff,
        "attached": attached,
        "linked": linked,
    }
    payload = _payload(ticket=ticket, name="ticket_reply", context=context, headers=headers)
    payload["attachments"] = [f.id for f in attached]
    return _record(
        ticket=ticket,
        message_id=mid,
        ticket_message=message,
        source_key=f"mail:reply:{message.pk}",
        recipients=ticket_mail_recipients(ticket=ticket, exclude=[message.author_email]),
        payload=payload,
    )


def acknowledgement_is_sent(ticket: Ticket) -> bool:
    return (
        ticket.channel == Channel.EMAIL
        and not ticket.held_for_verification
        and bool(getattr(settings, "HELPDESK_EMAIL_ACKNOWLEDGE", True))
    )


@transaction.atomic
def ticket_acknowledgement_prepare(
    *, tenant_id: int, ticket_id: int
) -> NotificationDelivery | None:
    """Record the acknowledgement of a ticket opened by email (module doc) and queue it after
    commit; None when there is none to send or it was prepared before."""
    ticket = (
        Ticket.objects.for_tenant(tenant_id).select_related("tenant").filter(pk=ticket_id).first()
    )
    if ticket is None or not acknowledgement_is_sent(ticket):
        return None
    mid = outbound_message_id(tenant=ticket.tenant, kind="ack", key=ticket.pk)
    headers = {
        "Message-ID": _bracket(mid),
        **thread_headers(ticket=ticket, exclude=mid),
        # RFC 3834: an automatic response to the customer's message; auto-responders and
        # our own inbound rules stay quiet on it.
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
    }
    payload = _payload(
        ticket=ticket, name="ticket_created", context=_base_context(ticket), headers=headers
    )
    recipients = ticket_mail_recipients(ticket=ticket)
    if recipients is not None and recipients.to != ticket.requester_email.lower():
        recipients = None  # the requester is suppressed or ours: CCs get no acknowledgement
    return _record(
        ticket=ticket,
        message_id=mid,
        ticket_message=None,
        source_key=f"mail:ack:{ticket.pk}",
        recipients=recipients if recipients is None else Recipients(recipients.to, [], []),
        payload=payload,
    )


def ticket_mail_sweep(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Prepare the mail of recent replies and email tickets whose preparation was lost (the
    task queued after commit never ran). Returns how many were prepared."""
    now = now or timezone.now()
    since, until = now - SWEEP_WINDOW, now - SWEEP_GRACE
    sent = EmailThreadId.objects.filter(direction=Direction.OUT)
    replies = (
        Message.objects.filter(_MAILED, created_at__gte=since, created_at__lte=until)
        .exclude(Exists(sent.filter(ticket_message=OuterRef("pk"))))
        .values_list("tenant_id", "pk")[:limit]
    )
    done = 0
    for tenant_id, pk in replies:
        done += ticket_reply_mail_prepare(tenant_id=tenant_id, message_id=pk) is not None
    if not getattr(settings, "HELPDESK_EMAIL_ACKNOWLEDGE", True):
        return done
    tickets = (
        Ticket.objects.filter(
            channel=Channel.EMAIL,
            held_for_verification=False,
            created_at__gte=since,
            created_at__lte=until,
        )
        .exclude(
            Exists(
                sent.filter(
                    ticket=OuterRef("pk"),
                    ticket_message__isnull=True,
                    message_id__startswith="ack-",
                )
            )
        )
        .values_list("tenant_id", "pk")[:limit]
    )
    for tenant_id, pk in tickets:
        done += ticket_acknowledgement_prepare(tenant_id=tenant_id, ticket_id=pk) is not None
    return done


# --- Celery tasks and the outbox subscriber -------------------------------------------------


@shared_task(
    name="channels.email.prepare_reply_mail",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def prepare_reply_mail(tenant_id: int, message_id: int) -> bool:
    return ticket_reply_mail_prepare(tenant_id=tenant_id, message_id=message_id) is not None


@shared_task(
    name="channels.email.prepare_acknowledgement",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def prepare_acknowledgement(tenant_id: int, ticket_id: int) -> bool:
    return ticket_acknowledgement_prepare(tenant_id=tenant_id, ticket_id=ticket_id) is not None


@shared_task(name="channels.email.sweep_outbound", acks_late=True)
def sweep_outbound() -> int:
    return ticket_mail_sweep()


def ticket_event_to_mail(name: str, payload: dict[str, Any]) -> None:
    """The ticket outbox's after-commit events → the preparation tasks. Internal notes are
    dropped here already (and again by ``reply_is_mailed``)."""
    tenant_id = int(payload["tenant_id"])
    if name == "message.created" and payload.get("public") and payload.get("message_id"):
        message_id = int(payload["message_id"])
        # One primary-key lookup rather than a task for every line of a chat transcript.
        if Message.objects.for_tenant(tenant_id).filter(_MAILED, pk=message_id).exists():
            prepare_reply_mail.apply_async((tenant_id, message_id))
    elif name == "ticket.created":
        ticket_id = int(payload["ticket_id"])
        # Not a task for every ticket opened on the web: the event says how this one came.
        if payload.get("channel") == Channel.EMAIL and not payload.get("held"):
            prepare_acknowledgement.apply_async((tenant_id, ticket_id))
