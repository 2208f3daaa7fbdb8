"""Public replies and internal notes, and what each does to the status and the SLA clocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.markup import render_markdown
from helpdesk.models import Membership, User
from sla.clocks import sla_agent_public_reply, sla_customer_replied, sla_first_public_agent_reply

from .. import outbox
from ..models import Attachment, Message, Ticket, TicketEvent
from .events import event_record, lock_ticket, touch
from .workflow import ALLOWED_TRANSITIONS, require_staff, transition_apply

S = Ticket.Status
BODY_MAX = 100_000


def _body(body: str) -> str:
    if not body or not body.strip():
        raise ValidationError({"body": "Write a message."})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": f"At most {BODY_MAX} characters."})
    return body


def _member(ticket: Ticket, user: User | None) -> Membership | None:
    if user is None:
        return None
    return (
        Membership.objects.for_tenant(ticket.tenant_id)
        .filter(user=user, is_active=True)
        .select_related("user")
        .first()
    )


def _link(message: Message, attachments: Sequence[Attachment]) -> None:
    """Attach files uploaded earlier (to this ticket, not yet on a message) to ``message``;
    they become as visible as the message."""
    for attachment in attachments:
        if attachment.ticket_id != message.ticket_id or attachment.message_id is not None:
            raise ValidationError({"attachments": f"Attachment {attachment.pk} is not available."})
    ids = [a.pk for a in attachments]
    if ids:
        Attachment.objects.filter(pk__in=ids).update(message=message, public=message.public)


def _new_message(
    ticket: Ticket,
    *,
    body: str,
    author: User | None,
    author_email: str,
    public: bool,
    from_staff: bool,
    channel: str,
    at: dt.datetime,
    email_message_id: str | None,
) -> Message:
    email_message_id = (email_message_id or "").strip() or None
    if (
        email_message_id is not None
        and Message.objects.for_tenant(ticket.tenant_id)
        .filter(email_message_id=email_message_id)
        .exists()
    ):
        raise ValidationError({"email_message_id": "This message was already received."})
    return Message.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        author=author,
        author_email=(author.email if author is not None else author_email).strip().lower(),
        from_staff=from_staff,
        body=body,
        body_html=render_markdown(body),
        public=public,
        channel=channel,
        email_message_id=email_message_id,
        created_at=at,
    )


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    body: str,
    author: User | None,
    author_email: str = "",
    channel: str = Ticket.Channel.WEB,
    at: dt.datetime | None = None,
    email_message_id: str | None = None,
    status: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> Message:
    """A public reply on ``ticket``.

    * By staff (an active agent or admin of the tenant): meets the first response (the first
      public agent reply) or a running next response; a new ticket becomes open, or ``status``
      (reply and set pending, reply and solve …) by the transitions table.
    * By anyone else (the requester, a colleague who may see the ticket, a CC writing by email
      with ``author`` None and ``author_email``): starts next response where the SLA says so; a
      solved or pending ticket reopens (→ open). ``status`` is ignored.
    * A closed ticket is final: the reply is refused.

    Preconditions: the caller checked that ``author`` may see the ticket (portal and API:
    ``ticket_get_for_user``; email: the channel's sender rules)."""
    body = _body(body)
    lock_ticket(ticket, "status", "last_agent_reply_at")
    if ticket.status == S.CLOSED:
        raise ValidationError(
            {"status": "This ticket is closed; it takes no more replies. Open a new ticket."}
        )
    at = at or timezone.now()
    member = _member(ticket, author)
    staff = member is not None and member.is_staff_member
    if author is None and not author_email.strip():
        raise ValidationError({"author_email": "Who wrote this?"})
    message = _new_message(
        ticket,
        body=body,
        author=author,
        author_email=author_email,
        public=True,
        from_staff=staff,
        channel=channel,
        at=at,
        email_message_id=email_message_id,
    )
    _link(message, attachments)
    by = member or author
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.REPLY_ADDED,
        by=by,
        after={"message": message.pk, "from_staff": staff},
        at=at,
    )
    if staff:
        first = ticket.last_agent_reply_at is None
        ticket.last_agent_reply_at = at
        touch(ticket, "last_agent_reply_at")
        if first:
            sla_first_public_agent_reply(ticket=ticket, at=at)
        else:
            sla_agent_public_reply(ticket=ticket, at=at)
        new = status or (S.OPEN if ticket.status == S.NEW else None)
        if new is not None:
            transition_apply(ticket, new, by=by, at=at)
    else:
        ticket.last_customer_reply_at = at
        touch(ticket, "last_customer_reply_at")
        if ticket.status in (S.SOLVED, S.PENDING) and S.OPEN in ALLOWED_TRANSITIONS[ticket.status]:
            transition_apply(ticket, S.OPEN, by=by, at=at)
        sla_customer_replied(ticket=ticket, at=at)
    outbox.publish(
        "message.created",
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.pk,
        message_id=message.pk,
        public=True,
    )
    return message


@transaction.atomic
def ticket_note(
    *,
    ticket: Ticket,
    body: str,
    by: Membership,
    at: dt.datetime | None = None,
    attachments: Sequence[Attachment] = (),
) -> Message:
    """An internal note: staff only, never shown to customers, no effect on SLA clocks (a note
    is not a response). Allowed on closed tickets too (agents annotate history).

    Preconditions: ``by`` is a staff member of the ticket's tenant."""
    require_staff(ticket, by, "write internal notes")
    body = _body(body)
    at = at or timezone.now()
    message = _new_message(
        ticket,
        body=body,
        author=by.user,
        author_email="",
        public=False,
        from_staff=True,
        channel=Ticket.Channel.WEB,
        at=at,
        email_message_id=None,
    )
    _link(message, attachments)
    event_record(
        ticket=ticket, kind=TicketEvent.Kind.NOTE_ADDED, by=by, after={"message": message.pk}, at=at
    )
    touch(ticket)
    outbox.publish(
        "message.created",
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.pk,
        message_id=message.pk,
        public=False,
    )
    return message
