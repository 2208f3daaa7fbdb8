"""Sweep makers for the email channel: ``/manage/email/addresses/<pk>/…``,
``/manage/email/quarantine/<pk>/…`` and the inbound webhook
``/email/inbound/mailgun/<mailbox_id>/``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.email.inbound import inbound_ingest
from channels.email.models import InboundEmail, Mailbox

Maker = Callable[[Any], Any]


def _mailbox(world: Any) -> Mailbox:
    found = world.extra.get("sweep_mailbox")
    if found is None:
        found = world.extra["sweep_mailbox"] = Mailbox.objects.create(
            tenant=world.tenant,
            address=f"alpha-secret@{world.tenant.slug}.example",
            webhook_signing_key="ALPHA-SECRET-key",
        )
    return found


def _quarantined(world: Any) -> int:
    row = inbound_ingest(
        tenant=world.tenant,
        raw=b"\x00\x01 ALPHA-SECRET garbage",
        source=InboundEmail.Source.PIPE,
    )
    assert row.outcome == InboundEmail.Outcome.QUARANTINED
    return row.pk


ROUTE_MAKERS: dict[str, Maker] = {
    "console-email-mailbox": lambda w: _mailbox(w).pk,
    "console-email-mailbox-delete": lambda w: _mailbox(w).pk,
    "console-email-quarantine-detail": _quarantined,
    "console-email-quarantine-raw": _quarantined,
}
KWARG_MAKERS: dict[str, Maker] = {"mailbox_id": lambda w: _mailbox(w).pk}
