"""``manage.py ingest_email --tenant SLUG [--mailbox ADDRESS] < message.eml``: one message from
standard input through the inbound pipeline (for an MTA's pipe transport, e.g. Postfix
``mailbox_command`` or an alias ``|manage.py ingest_email --tenant acme``)."""

from __future__ import annotations

import sys
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.email.inbound import inbound_ingest, max_message_bytes
from channels.email.models import InboundEmail, Mailbox
from helpdesk.selectors import tenant_for_slug

_CHUNK = 1 << 20


def read_capped(stream: IO[Any], limit: int) -> tuple[bytes, int]:
    """Up to ``limit`` bytes of ``stream`` and its full size: the rest is read and counted
    but not kept, so a huge message costs at most ``limit`` bytes of memory."""
    buffer = getattr(stream, "buffer", stream)  # sys.stdin is text; its buffer is bytes
    kept: list[bytes] = []
    kept_size = 0
    size = 0
    while True:
        chunk = buffer.read(_CHUNK)
        if not chunk:
            break
        if isinstance(chunk, str):  # a text stream handed in by a caller
            chunk = chunk.encode("utf-8", "surrogateescape")
        size += len(chunk)
        if kept_size < limit:
            piece = chunk[: limit - kept_size]
            kept.append(piece)
            kept_size += len(piece)
    return b"".join(kept), size


class Command(BaseCommand):
    help = (
        "Read one RFC 822 message from standard input and run it through the inbound email "
        "pipeline of a tenant. Prints the outcome (and the ticket's reference); exits 0 "
        "whatever became of the message, non-zero only for bad arguments."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument(
            "--mailbox",
            default="",
            help="the tenant's address the message arrived at (its rules apply); "
            "default: the first of the tenant's addresses in To/Cc",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_for_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"No tenant '{options['tenant']}'.")
        mailbox = None
        if options["mailbox"]:
            mailbox = (
                Mailbox.objects.for_tenant(tenant)
                .filter(address__iexact=options["mailbox"].strip())
                .first()
            )
            if mailbox is None:
                raise CommandError(f"{options['mailbox']} is not an address of {tenant.slug}.")
        stream = options.get("stdin") or sys.stdin
        raw, size = read_capped(stream, max_message_bytes())
        row = inbound_ingest(
            tenant=tenant,
            raw=raw,
            source=InboundEmail.Source.PIPE,
            mailbox=mailbox,
            full_size=size,
        )
        reference = f" {row.ticket.reference}" if row.ticket is not None else ""
        reason = f": {row.reason}" if row.reason else ""
        self.stdout.write(f"{row.outcome}{reference} (inbound {row.pk}){reason}")
