"""Which existing ticket an inbound message continues, if any.

Candidates, in order: the In-Reply-To Message-ID, then every References entry (newest first),
each looked up in EmailThreadId (the Message-IDs we sent and received); then a signed reply
token (``[#hd-…]``, channels.email.tokens) in the subject or body; then a bare reference
("[OR-1042]"). A candidate is taken only when the sender may write to it
(``senders.sender_may_write``); otherwise the next is tried, and when none is left the message
opens a new ticket. A merged ticket continues as its master; a closed one takes no replies, so
the message opens a follow-up ticket instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.models import Tenant
from tickets.models import Ticket
from tickets.selectors import reference_number

from .message import InboundMessage
from .models import EmailThreadId
from .senders import Sender, sender_may_write
from .tokens import reply_token_ticket_id

_MAX_MERGE_HOPS = 10


@dataclass(frozen=True)
class ThreadFound:
    ticket: Ticket | None  # the ticket to add the message to
    closed: Ticket | None = None  # a closed ticket the sender followed up on
    refused: str = ""  # why a ticket the message pointed at was not used


def _candidate_ids(tenant: Tenant, message: InboundMessage) -> list[int]:
    message_ids = [*message.in_reply_to, *reversed(message.references)]
    ids: list[int] = []
    if message_ids:
        by_message_id = dict(
            EmailThreadId.objects.for_tenant(tenant)
            .filter(message_id__in=message_ids)
            .values_list("message_id", "ticket_id")
        )
        ids += [by_message_id[m] for m in message_ids if m in by_message_id]
    for token in message.tokens.reply_tokens:
        ticket_id = reply_token_ticket_id(token, tenant_id=tenant.pk)
        if ticket_id is not None:
            ids.append(ticket_id)
    return list(dict.fromkeys(ids))


def _reference_ids(tenant: Tenant, message: InboundMessage) -> list[int]:
    numbers = [
        n
        for ref in message.tokens.ticket_references
        if (n := reference_number(tenant=tenant, reference=ref)) is not None
    ]
    if not numbers:
        return []
    by_number = dict(
        Ticket.objects.for_tenant(tenant).filter(number__in=numbers).values_list("number", "id")
    )
    return [by_number[n] for n in numbers if n in by_number]


def _master(tenant: Tenant, ticket: Ticket) -> Ticket:
    for _ in range(_MAX_MERGE_HOPS):
        if ticket.merged_into_id is None:
            return ticket
        master = Ticket.objects.for_tenant(tenant).filter(pk=ticket.merged_into_id).first()
        if master is None:
            return ticket
        ticket = master
    return ticket


def thread_find(*, tenant: Tenant, message: InboundMessage, sender: Sender) -> ThreadFound:
    """The ticket ``message`` continues (see the module docstring)."""
    ids = list(dict.fromkeys([*_candidate_ids(tenant, message), *_reference_ids(tenant, message)]))
    if not ids:
        return ThreadFound(ticket=None)
    tickets = Ticket.objects.for_tenant(tenant).select_related("tenant").in_bulk(ids)
    refused: list[str] = []
    closed: Ticket | None = None
    for ticket_id in ids:
        ticket = tickets.get(ticket_id)
        if ticket is None:
            continue
        ticket = _master(tenant, ticket)
        if not sender_may_write(sender=sender, ticket=ticket):
            refused.append(ticket.reference)
            continue
        if ticket.status == Ticket.Status.CLOSED:
            closed = closed or ticket
            continue
        return ThreadFound(ticket=ticket)
    why = ""
    if refused:
        why = f"not threaded: {sender.email} may not write to {', '.join(refused)}"
    return ThreadFound(ticket=None, closed=closed, refused=why)
