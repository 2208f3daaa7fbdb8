"""Notices: a decision (who, what, on which channels, from when) is written as outbox rows in
the caller's transaction and sent after commit, one claimed row at a time.

Exactly once, as far as a channel allows: a row is unique per (source, recipient, channel), and
a send first claims its row (``status=pending`` and no live lease → a lease), so a retry, a
second worker or a duplicated message sends nothing twice. A worker killed between the send and
the ``sent`` mark leaves a lease that expires; the sweep then sends again (at least once for that
one crash window — no mail or SMS protocol offers better; the notice's Message-ID / idempotency
key is the same, so receivers can drop the duplicate).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from channels.email.bounces import addresses_suppressed
from channels.email.models import EmailThreadId
from helpdesk.models import Membership, Tenant

from .emails import EmailContent, TenantSender, notice_headers, send_email, tenant_sender
from .models import Notification, NotificationDelivery
from .pager import pager_backend

logger = logging.getLogger(__name__)

Channel = NotificationDelivery.Channel
Status = NotificationDelivery.Status

LEASE = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 5
RETRY_BASE = dt.timedelta(seconds=30)
# Rows the on-commit task should have sent by now; younger ones are left to it.
SWEEP_GRACE = dt.timedelta(seconds=10)
COUNTDOWN_HORIZON = dt.timedelta(minutes=10)
DELIVERY_BATCH = 50


def on_commit_robust(func: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """``func(*args, **kwargs)`` once the transaction commits; if it fails (a broker outage),
    the failure is logged, never raised into the request that committed — the sweeps pick up
    what could not be queued. (A named closure rather than ``functools.partial``: Django logs
    a failing robust callback by its ``__qualname__``, which a partial lacks.)"""

    def call() -> None:
        func(*args, **kwargs)

    call.__qualname__ = f"on_commit_robust({getattr(func, '__qualname__', func)!s})"
    transaction.on_commit(call, robust=True)


@dataclass(frozen=True)
class Recipient:
    email: str
    membership_id: int | None = None
    time_zone: str = "UTC"
    pager_address: str = ""


@dataclass(frozen=True)
class Notice:
    tenant_id: int
    tenant_slug: str
    source_key: str
    kind: str
    text: str  # the in-app line and the page's text
    email: EmailContent | None = None
    ticket_id: int | None = None
    url: str = ""
    reference: str = ""


def notice_send(
    *,
    notice: Notice,
    recipients: Sequence[Recipient],
    channels: Iterable[str],
    now: dt.datetime | None = None,
    hold: Callable[[Recipient], dt.datetime | None] | None = None,
    skip_reason: str = "",
    fresh: bool = False,
) -> list[NotificationDelivery]:
    """Record ``notice`` for every recipient on every channel and send what is due after
    commit. ``hold`` gives, per recipient, the instant an email or page may leave (quiet
    hours) or None for now; in-app notifications never wait. With ``skip_reason`` the rows are
    recorded as skipped and nothing is sent. Rows that exist already (same source, recipient
    and channel) are left alone, so calling twice sends once (``fresh``: the caller created
    the source in this very transaction, so there can be none — a query saved).

    Precondition: runs in the transaction that decided the notice.
    """
    now = now or timezone.now()
    channels = list(channels)
    existing: set[tuple[str, str]] = (
        set()
        if fresh
        else set(
            NotificationDelivery.objects.for_tenant(notice.tenant_id)
            .filter(source_key=notice.source_key)
            .values_list("recipient", "channel")
        )
    )
    rows: list[NotificationDelivery] = []
    inapp: list[Notification] = []
    thread_ids: list[EmailThreadId] = []
    sender: TenantSender | None = None

    def add(channel: str, to: str, recipient: Recipient, **fields: object) -> bool:
        if (to, channel) in existing:
            return False
        existing.add((to, channel))
        status = str(fields.pop("status", Status.PENDING))
        if skip_reason:
            status = Status.SKIPPED
        rows.append(
            NotificationDelivery(
                tenant_id=notice.tenant_id,
                source_key=notice.source_key,
                channel=channel,
                recipient=to,
                membership_id=recipient.membership_id,
                ticket_id=notice.ticket_id,
                status=status,
                error=skip_reason,
                created_at=now,
                **fields,
            )
        )
        return True

    for r in recipients:
        held = hold(r) if hold is not None else None
        for channel in channels:
            if channel == Channel.IN_APP:
                if r.membership_id is None:
                    continue
                added = add(
                    channel,
                    r.email,
                    r,
                    status=Status.SENT,
                    sent_at=now,
                    next_attempt_at=now,
                    attempts=0 if skip_reason else 1,
                )
                if added and not skip_reason:
                    inapp.append(
                        Notification(
                            tenant_id=notice.tenant_id,
                            recipient_id=r.membership_id,
                            ticket_id=notice.ticket_id,
                            kind=notice.kind,
                            text=notice.text[:500],
                            url=notice.url,
                            source_key=notice.source_key,
                            created_at=now,
                        )
                    )
            elif channel == Channel.EMAIL and notice.email is not None:
                headers = notice_headers(
                    tenant_slug=notice.tenant_slug,
                    ticket_id=notice.ticket_id,
                    key=f"{notice.source_key}:{r.email}",
                )
                if sender is None:
                    sender = tenant_sender(Tenant.objects.get(pk=notice.tenant_id))
                payload = {
                    **notice.email.as_payload(),
                    "headers": headers,
                    "from_email": sender.from_email,
                    "reply_to": sender.reply_to,
                }
                added = add(channel, r.email, r, payload=payload, next_attempt_at=held or now)
                if added and notice.ticket_id is not None:
                    # An answer to the notice threads to its ticket (In-Reply-To).
                    thread_ids.append(
                        EmailThreadId(
                            tenant_id=notice.tenant_id,
                            # Stored as the inbound side looks it up: without <>.
                            message_id=headers["Message-ID"].strip("<>"),
                            ticket_id=notice.ticket_id,
                            direction=EmailThreadId.Direction.OUT,
                            created_at=now,
                        )
                    )
            elif channel == Channel.PAGER and (r.pager_address or r.membership_id):
                payload = {"text": notice.text[:300], "reference": notice.reference}
                add(
                    channel,
                    r.pager_address or r.email,
                    r,
                    payload=payload,
                    next_attempt_at=held or now,
                )
    if inapp:
        Notification.objects.bulk_create(inapp, ignore_conflicts=True)
    if thread_ids and not skip_reason:
        EmailThreadId.objects.bulk_create(thread_ids, ignore_conflicts=True)
    created = NotificationDelivery.objects.bulk_create(rows)
    due = [
        (d.pk, d.channel)
        for d in created
        if d.status == Status.PENDING and d.next_attempt_at <= now
    ]
    if due:
        on_commit_robust(enqueue_deliveries, due)
    return created


def enqueue_deliveries(items: Iterable[tuple[int, str]], countdown: float | None = None) -> None:
    """Queue the sends: one task for the emails (``email`` queue) and one for the rest
    (``notifications``) of a batch. A broker outage only delays them (the sweep sends what is
    left); each delivery is claimed on its own, so a batch sent twice sends nothing twice."""
    from .tasks import deliver_email, deliver_notice  # tasks import this module

    emails = [pk for pk, channel in items if channel == Channel.EMAIL]
    others = [pk for pk, channel in items if channel != Channel.EMAIL]
    for task, ids in ((deliver_email, emails), (deliver_notice, others)):
        for i in range(0, len(ids), DELIVERY_BATCH):
            chunk = ids[i : i + DELIVERY_BATCH]
            if countdown is None:
                task.apply_async((chunk,))
            else:
                task.apply_async((chunk,), countdown=countdown)


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    return bool(
        NotificationDelivery.objects.filter(
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
    )


def notifications_deliver(*, delivery_ids: Iterable[int]) -> dict[str, int]:
    """:func:`notification_deliver` for each id; how many of each outcome."""
    outcomes: dict[str, int] = {}
    for pk in delivery_ids:
        outcome = notification_deliver(delivery_id=pk)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def notification_deliver(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one delivery if it is due and nobody else is sending it. Returns what happened:
    ``sent``, ``retry``, ``failed``, ``suppressed`` (every address bounced or complained: the
    row is skipped) or ``not-due`` (already sent, leased, cancelled, later)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "not-due"
    d = NotificationDelivery.objects.get(pk=delivery_id)
    to, payload = d.recipient, d.payload
    if d.channel == Channel.EMAIL:
        to, payload = _without_suppressed(d)
        if not to:
            NotificationDelivery.objects.filter(pk=d.pk).update(
                status=Status.SKIPPED, error="Every recipient is suppressed.", lease_until=None
            )
            return "suppressed"
    try:
        if d.channel == Channel.EMAIL:
            send_email(to=to, payload=payload, tenant_id=d.tenant_id)
        elif d.channel == Channel.PAGER:
            pager_backend().send(
                to=d.recipient,
                text=str(d.payload.get("text", "")),
                reference=str(d.payload.get("reference", "")),
                key=f"{d.source_key}:{d.recipient}",
            )
    except Exception as exc:  # any transport failure is retried, then recorded
        logger.warning("notice %s to %s failed: %s", d.pk, d.recipient, exc)
        if d.attempts >= MAX_ATTEMPTS:
            NotificationDelivery.objects.filter(pk=d.pk).update(
                status=Status.FAILED, error=str(exc)[:2000], lease_until=None
            )
            return "failed"
        delay = RETRY_BASE * (2 ** (d.attempts - 1))
        NotificationDelivery.objects.filter(pk=d.pk).update(
            next_attempt_at=now + delay, error=str(exc)[:2000], lease_until=None
        )
        if delay <= COUNTDOWN_HORIZON:
            enqueue_deliveries([(d.pk, d.channel)], countdown=delay.total_seconds())
        return "retry"
    NotificationDelivery.objects.filter(pk=d.pk).update(
        status=Status.SENT, sent_at=timezone.now(), lease_until=None, error=""
    )
    return "sent"


def _without_suppressed(d: NotificationDelivery) -> tuple[str, dict[str, Any]]:
    """The delivery's To and payload minus the addresses that bounced or complained since it
    was recorded (channels.email.bounces); a suppressed To gives way to the first CC left.
    ("", …) when nobody is left."""
    cc = [str(a) for a in d.payload.get("cc") or []]
    suppressed = addresses_suppressed(tenant_id=d.tenant_id, addresses=[d.recipient, *cc])
    if not suppressed:
        return d.recipient, d.payload
    left = [a for a in [d.recipient, *cc] if a.lower() not in suppressed]
    if not left:
        return "", d.payload
    return left[0], {**d.payload, "cc": left[1:]}


def notifications_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Queue the pending deliveries whose time has come and that no task picked up: held by
    quiet hours, retries beyond the countdown horizon, or lost with a worker or the broker.
    Marks them queued now so the next sweep leaves them to the task for a grace period."""
    now = now or timezone.now()
    rows = list(
        NotificationDelivery.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=now - SWEEP_GRACE
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", "channel")[:limit]
    )
    if rows:
        NotificationDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            next_attempt_at=now
        )
        enqueue_deliveries(rows)
    return len(rows)


def deliveries_cancel(*, tenant_id: int, source_keys: Iterable[str], reason: str) -> int:
    """Cancel the still-pending deliveries of ``source_keys`` (a notice that no longer
    applies). Returns how many."""
    return (
        NotificationDelivery.objects.for_tenant(tenant_id)
        .filter(source_key__in=list(source_keys), status=Status.PENDING)
        .update(status=Status.CANCELLED, error=reason, lease_until=None)
    )


# --- in-app notifications ----------------------------------------------------------------------


def notifications_for(*, membership: Membership) -> QuerySet[Notification]:
    """The member's own notifications, newest first."""
    return (
        Notification.objects.for_tenant(membership.tenant_id)
        .filter(recipient=membership)
        .order_by("-created_at", "-id")
    )


def notification_get(*, membership: Membership, notification_id: int) -> Notification:
    """One of the member's notifications; 404 for anyone else's (any tenant) alike."""
    found = notifications_for(membership=membership).filter(pk=notification_id).first()
    if found is None:
        raise Http404("No such notification")
    return found


def notifications_unread_count(*, membership: Membership) -> int:
    return notifications_for(membership=membership).filter(read_at__isnull=True).count()


def notification_mark_read(
    *, notification: Notification, read: bool = True, now: dt.datetime | None = None
) -> Notification:
    """Mark read (or unread again). Precondition: the caller may see ``notification``."""
    notification.read_at = (now or timezone.now()) if read else None
    notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, membership: Membership, now: dt.datetime | None = None) -> int:
    return (
        notifications_for(membership=membership)
        .filter(read_at__isnull=True)
        .update(read_at=now or timezone.now())
    )
