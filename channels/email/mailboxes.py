"""Writes of the tenant's email addresses (Mailbox) and of the quarantine."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction

from helpdesk.models import Tenant

from .inbound import inbound_ingest
from .models import InboundEmail, Mailbox

_SECRETS = ("imap_password", "webhook_signing_key")
_FIELDS = (
    "address",
    "display_name",
    "reply_to",
    "is_default",
    "unknown_sender",
    "imap_enabled",
    "imap_host",
    "imap_port",
    "imap_ssl",
    "imap_username",
    "imap_folder",
    *_SECRETS,
)


def _check(tenant: Tenant, mailbox: Mailbox) -> None:
    mailbox.address = mailbox.address.strip().lower()
    mailbox.reply_to = mailbox.reply_to.strip().lower()
    clash = Mailbox.objects.for_tenant(tenant).filter(address=mailbox.address)
    if mailbox.pk is not None:
        clash = clash.exclude(pk=mailbox.pk)
    if clash.exists():
        raise ValidationError({"address": "This address is already one of yours."})
    if mailbox.imap_enabled:
        missing = {
            name: "Needed to poll by IMAP."
            for name in ("imap_host", "imap_username", "imap_password")
            if not str(getattr(mailbox, name) or "").strip()
        }
        if missing:
            raise ValidationError(missing)


@transaction.atomic
def mailbox_save(*, tenant: Tenant, mailbox: Mailbox | None = None, **values: Any) -> Mailbox:
    """Create (``mailbox`` None) or update a mailbox of ``tenant`` from ``values``.

    A secret (IMAP password, webhook signing key) given as "" keeps the stored one: forms never
    echo secrets back, so an empty field means "unchanged". A mailbox made the default takes
    that role from the previous default. Polling by IMAP needs host, username and password."""
    if mailbox is not None and mailbox.tenant_id != tenant.pk:
        raise ValidationError({"mailbox": "Unknown mailbox."})
    row = mailbox or Mailbox(tenant=tenant)
    for name in _FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name in _SECRETS and not value:
            continue
        setattr(row, name, value)
    _check(tenant, row)
    if row.is_default:
        others = Mailbox.objects.for_tenant(tenant).filter(is_default=True)
        if row.pk is not None:
            others = others.exclude(pk=row.pk)
        others.update(is_default=False)
    row.save()
    return row


def mailbox_delete(*, tenant: Tenant, mailbox: Mailbox) -> None:
    """Delete a mailbox; its inbound log stays (the rows lose their mailbox)."""
    if mailbox.tenant_id != tenant.pk:
        raise ValidationError({"mailbox": "Unknown mailbox."})
    mailbox.delete()


def quarantine_retry(*, tenant: Tenant, row: InboundEmail) -> InboundEmail:
    """Run a quarantined message's raw bytes through the pipeline again (after a fix, or to
    see the reason once more). Returns the new row, or ``row`` itself, with its reason
    updated, when the message is quarantined again."""
    if row.tenant_id != tenant.pk or row.outcome != InboundEmail.Outcome.QUARANTINED:
        raise ValidationError({"inbound": "Unknown quarantined message."})
    if row.released_at is not None:
        raise ValidationError({"inbound": "This message was already released."})
    if not row.raw.name or not default_storage.exists(row.raw.name):
        raise ValidationError({"inbound": "The raw message is no longer stored."})
    with row.raw.open("rb") as stored:
        raw = stored.read()
    mailbox = row.mailbox if row.mailbox_id is not None else None
    return inbound_ingest(
        tenant=tenant,
        raw=raw,
        source=row.source,
        mailbox=mailbox,
        full_size=row.raw_size if row.raw_size > len(raw) else None,
        retry_of=row,
    )
