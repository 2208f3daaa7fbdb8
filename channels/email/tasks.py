"""Celery tasks of the inbound email channel: the beat's IMAP sweep enqueues one poll per
enabled mailbox; each poll takes the mailbox's lease, so overlapping runs do nothing twice."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from .imap import mailbox_poll
from .models import Mailbox


@shared_task(name="channels.email.poll_mailbox", acks_late=True)
def poll_mailbox(mailbox_id: int) -> int:
    """Poll one mailbox; a backlog larger than one batch is polled again at once."""
    result = mailbox_poll(mailbox_id=mailbox_id)
    if result.polled and result.remaining and not result.error:
        poll_mailbox.delay(mailbox_id)
    return result.processed


@shared_task(name="channels.email.poll_mailboxes", acks_late=True)
def poll_mailboxes() -> int:
    """Enqueue a poll of every IMAP-enabled mailbox whose lease is free (beat, every minute)."""
    free = Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=timezone.now())
    ids = list(Mailbox.objects.filter(imap_enabled=True).filter(free).values_list("id", flat=True))
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return len(ids)
