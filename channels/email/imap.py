"""Polling a tenant's IMAP mailbox (imap-tools): unseen messages through the inbound pipeline.

* **One poll per mailbox at a time.** A lease on the Mailbox row (``poll_lease_until``) is
  claimed with one conditional UPDATE; a second worker (two beats, a slow poll overlapping the
  next) finds it taken and does nothing. A lease rather than a row lock: each message commits
  in its own transaction during the poll, which a ``SELECT … FOR UPDATE`` held across the poll
  would forbid, and it works the same on PostgreSQL and on the embedded SQLite. A worker that
  dies leaves a lease that expires by itself.
* **Seen only after commit.** A message is flagged ``\\Seen`` after ``inbound_ingest`` returned,
  i.e. after its transaction committed. A crash in between leaves it unseen: it comes again
  next poll and is dropped as a duplicate by its Message-ID. Nothing is lost, nothing doubled.
* **Streaming.** Only the list of unseen UIDs is held; messages are fetched one at a time
  (``BODY.PEEK[]``, which does not set ``\\Seen``), at most ``HELPDESK_IMAP_BATCH`` per poll;
  a message over the size limit is fetched only up to the limit and quarantined.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxUnencrypted, MailMessageFlags
from imap_tools.mailbox import BaseMailBox

from .inbound import inbound_ingest, max_message_bytes
from .models import InboundEmail, Mailbox

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
TIMEOUT_SECONDS = 60
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class PollResult:
    polled: bool  # False: disabled, or another worker holds the lease
    processed: int = 0
    remaining: int = 0  # unseen messages left for the next poll
    error: str = ""


def _batch_size() -> int:
    return int(getattr(settings, "HELPDESK_IMAP_BATCH", 100))


def imap_connect(mailbox: Mailbox) -> BaseMailBox:
    """A logged-in imap-tools MailBox on the mailbox's folder (the caller logs out)."""
    box: BaseMailBox
    if mailbox.imap_ssl:
        box = MailBox(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    else:
        box = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
    return box.login(
        mailbox.imap_username, mailbox.imap_password, initial_folder=mailbox.imap_folder
    )


def _lease_claim(mailbox_id: int) -> bool:
    now = timezone.now()
    free = Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now)
    claimed = (
        Mailbox.objects.filter(pk=mailbox_id, imap_enabled=True)
        .filter(free)
        .update(poll_lease_until=now + LEASE)
    )
    return claimed == 1


def _lease_renew(mailbox_id: int) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(poll_lease_until=timezone.now() + LEASE)


def _fetch_raw(box: BaseMailBox, uid: str, limit: int) -> tuple[bytes, int] | None:
    """The message's bytes (at most ``limit``) and its full size; None if it vanished."""
    typ, data = box.client.uid("FETCH", uid, "(RFC822.SIZE)")
    found = _SIZE.search(b" ".join(d if isinstance(d, bytes) else b"" for d in data or ()))
    if typ != "OK" or found is None:
        return None
    size = int(found.group(1))
    part = "BODY.PEEK[]" if size <= limit else f"BODY.PEEK[]<0.{limit}>"
    typ, data = box.client.uid("FETCH", uid, f"({part})")
    if typ != "OK":
        return None
    for item in data or ():
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1]), size
    return None


def mailbox_poll(*, mailbox_id: int) -> PollResult:
    """Poll one mailbox once (see the module docstring). Connection and login errors are
    stored on the mailbox (``last_error``, shown in the console) and returned, not raised."""
    if not _lease_claim(mailbox_id):
        return PollResult(polled=False)
    processed = remaining = 0
    error = ""
    try:
        mailbox = Mailbox.objects.select_related("tenant").get(pk=mailbox_id)
        limit = max_message_bytes()
        with imap_connect(mailbox) as box:
            uids = box.uids(AND(seen=False))
            batch = uids[: _batch_size()]
            remaining = len(uids) - len(batch)
            for uid in batch:
                fetched = _fetch_raw(box, uid, limit)
                if fetched is None:
                    continue
                raw, size = fetched
                inbound_ingest(
                    tenant=mailbox.tenant,
                    raw=raw,
                    source=InboundEmail.Source.IMAP,
                    mailbox=mailbox,
                    full_size=size,
                )
                # Committed: only now may the server forget it.
                box.flag(uid, MailMessageFlags.SEEN, True)
                processed += 1
                if processed % 20 == 0:
                    _lease_renew(mailbox_id)
    except Exception as exc:  # a server down or a wrong password is the mailbox's state
        logger.warning("IMAP poll of mailbox %s failed", mailbox_id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        Mailbox.objects.filter(pk=mailbox_id).update(
            poll_lease_until=None, last_polled_at=timezone.now(), last_error=error
        )
    return PollResult(polled=True, processed=processed, remaining=remaining, error=error)


def imap_test_connection(mailbox: Mailbox) -> str:
    """ "" when the mailbox's IMAP settings log in and open the folder, else why not."""
    try:
        with imap_connect(mailbox) as box:
            box.uids(AND(seen=False))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]
    return ""
