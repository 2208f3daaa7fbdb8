"""Writes of the chat channel: start a chat, post, accept, end, and turn the transcript into a
ticket (channel chat) through :func:`tickets.services.ticket_create`.

**First response.** The ticket's SLA clocks start when the chat started (``opened_at``), and every
message an agent wrote in the chat is replayed onto the ticket as a public reply at the instant it
was written. The chat's first agent message is therefore the ticket's first response, measured
by the same SLA rules as any other reply; a chat nobody answered becomes a ticket whose
first-response clock is still running.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from helpdesk.models import Membership, Tenant
from sla.models import PackageSeverity, Severity, SupportPackage
from tickets.models import Ticket
from tickets.services import agent_update, ticket_create, ticket_reply

from .models import BODY_MAX, ChatMessage, ChatSession, ChatSettings
from .selectors import chat_offer_for, chat_open_for_customer, chat_settings_for

S = ChatSession.Status
K = ChatMessage.Kind
SUBJECT_MAX = 120
ORIGINS_MAX = 20


class ChatUnavailable(Exception):
    """Chat is not offered to this member (package without chat, chat disabled …)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write a message."})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": f"At most {BODY_MAX} characters."})
    # What a form or the API's serializer refuses, for text that comes as raw JSON (the feed).
    if "\x00" in body:
        raise ValidationError({"body": "The text contains a NUL character."})
    if not body.isascii():
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError({"body": "The text contains surrogate characters."}) from None
    return body


def _name(membership: Membership) -> str:
    return membership.user.name or membership.user.email


def _append(
    session: ChatSession,
    *,
    kind: str,
    body: str,
    author: Membership | None,
    at: dt.datetime | None = None,
    author_name: str = "",
) -> ChatMessage:
    """Append a message with the session's next sequence. The UPDATE takes the session row's
    lock until commit, so two posters never share a sequence and sequences commit in order
    (a poller that saw N never later finds a smaller one appear). ``author_name`` names an
    author who is no member (an anonymous visitor)."""
    ChatSession.objects.filter(pk=session.pk).update(last_sequence=F("last_sequence") + 1)
    session.refresh_from_db(fields=["last_sequence"])
    return ChatMessage.objects.create(
        tenant_id=session.tenant_id,
        session=session,
        kind=kind,
        author=author.user if author is not None else None,
        author_name=_name(author) if author is not None else author_name,
        body=body,
        sequence=session.last_sequence,
        created_at=at or timezone.now(),
    )


def _lock(session: ChatSession) -> None:
    """Lock the session row and reload what the state checks read."""
    ChatSession.objects.select_for_update().filter(pk=session.pk).values_list(
        "pk", flat=True
    ).first()
    session.refresh_from_db(fields=["status", "agent", "ticket", "ended_at", "accepted_at"])


@transaction.atomic
def chat_start(*, tenant: Tenant, customer: Membership, body: str, origin: str = "") -> ChatSession:
    """Start a chat for ``customer`` with their first message, or add the message to the chat
    they already have open (one open chat per customer: a second tab joins the first).

    Raises :class:`ChatUnavailable` when chat is not offered to the customer (the caller shows
    the ticket form instead) and ValidationError for an empty or overlong message.
    Preconditions: ``customer`` is a member of ``tenant``."""
    offer = chat_offer_for(tenant=tenant, membership=customer)
    if not offer.offered:
        raise ChatUnavailable(offer.reason)
    body = _clean_body(body)
    # Serialise a customer's starts (two tabs at once) on their membership row.
    Membership.objects.select_for_update().filter(pk=customer.pk).values_list("pk").first()
    session = chat_open_for_customer(tenant=tenant, customer=customer)
    if session is None:
        session = ChatSession.objects.create(
            tenant=tenant,
            customer=customer,
            organization=customer.organization,
            origin=origin[:200],
            started_at=timezone.now(),
        )
    _append(session, kind=K.CUSTOMER, body=body, author=customer)
    return session


@transaction.atomic
def chat_post(*, session: ChatSession, by: Membership, body: str) -> ChatMessage:
    """A message in an open chat: by its customer, or by the agent who accepted it.

    Preconditions: ``by`` may see the chat (``chat_get_for_user``)."""
    body = _clean_body(body)
    _lock(session)
    if session.status == S.ENDED:
        raise ValidationError({"body": "This chat has ended; start a new one."})
    if by.is_staff_member:
        if session.status == S.WAITING:
            raise ValidationError({"body": "Accept the chat before you write."})
        if session.agent_id != by.pk:
            raise ValidationError({"body": "Another agent is handling this chat."})
        kind = K.AGENT
    elif by.pk == session.customer_id:
        kind = K.CUSTOMER
    else:
        raise ValidationError({"body": "You are not part of this chat."})
    return _append(session, kind=kind, body=body, author=by)


@transaction.atomic
def chat_accept(*, session: ChatSession, agent: Membership) -> ChatSession:
    """An agent takes a waiting chat. The claim is one conditional UPDATE: of two agents who
    click at once, exactly one gets it; the other gets a ValidationError naming who did."""
    if not (agent.is_staff_member and agent.is_active):
        raise ValidationError({"agent": "Only agents accept chats."})
    now = timezone.now()
    claimed = ChatSession.objects.filter(pk=session.pk, status=S.WAITING).update(
        status=S.ACTIVE, agent=agent, accepted_at=now
    )
    session.refresh_from_db(fields=["status", "agent", "accepted_at"])
    if not claimed:
        if session.status == S.ENDED:
            raise ValidationError({"status": "This chat has already ended."})
        if session.agent_id == agent.pk:
            return session
        holder = session.agent
        who = _name(holder) if holder is not None else "another agent"
        raise ValidationError({"status": f"{who} already accepted this chat."})
    _append(session, kind=K.SYSTEM, body=f"{_name(agent)} joined the chat.", author=None, at=now)
    return session


def _default_severity(tenant: Tenant, package: SupportPackage | None) -> Severity | None:
    """A chat is a conversation, not an outage: the least severe severity the package covers
    (else the tenant's least severe). Agents pick another when they make the ticket."""
    severities = Severity.objects.for_tenant(tenant)
    if package is not None:
        covered = PackageSeverity.objects.for_tenant(tenant).filter(package=package)
        chosen = (
            severities.filter(pk__in=covered.values("severity_id")).order_by("-rank", "-id").first()
        )
        if chosen is not None:
            return chosen
    return severities.order_by("-rank", "-id").first()


def _transcript(session: ChatSession, messages: Sequence[ChatMessage]) -> str:
    who = f"{session.person_name} <{session.person_email}>"
    if session.is_visitor:
        who += " (unverified visitor: name and address as typed, not checked)"
    lines = [
        f"Transcript of live chat #{session.pk} with {who}, "
        f"started {session.started_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
    ]
    for message in messages:
        who = message.author_name or "System"
        if message.kind == K.SYSTEM:
            lines += [f"*{message.created_at:%H:%M:%S} — {message.body}*", ""]
            continue
        lines.append(f"**{who}** ({message.created_at:%H:%M:%S}):")
        lines.append("")
        lines += [f"> {line}" if line else ">" for line in message.body.splitlines()]
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def _subject(messages: Sequence[ChatMessage]) -> str:
    first = next((m for m in messages if m.kind == K.CUSTOMER), None)
    text = " ".join(first.body.split()) if first is not None else ""
    if len(text) > SUBJECT_MAX:
        text = text[: SUBJECT_MAX - 1].rstrip() + "…"
    return f"Chat: {text}" if text else "Live chat"


def _make_ticket(
    session: ChatSession, *, by: Membership | None, severity: Severity | None
) -> Ticket | None:
    """The transcript as a ticket (module doc); None when the customer never wrote."""
    messages = list(
        ChatMessage.objects.for_tenant(session.tenant_id)
        .filter(session=session)
        .order_by("sequence")
    )
    if not any(m.kind == K.CUSTOMER for m in messages):
        return None
    tenant = session.tenant
    customer = session.customer
    if customer is None:
        # An anonymous visitor (channels.chat.visitors): the claimed address is handled like
        # an unknown email sender's, and the claim buys no package (no SLA entitlement).
        from .visitors import visitor_ticket_requester

        requester = visitor_ticket_requester(
            tenant=tenant, email=session.visitor_email, name=session.visitor_name
        )
        requester_email = session.visitor_email
        organization = None
        if severity is None:
            severity = _default_severity(tenant, None)
    else:
        requester = customer.user
        requester_email = customer.user.email
        organization = session.organization
        if severity is None:
            from .selectors import package_for_contact

            severity = _default_severity(tenant, package_for_contact(membership=customer))
    agent = session.agent if session.agent is not None and session.agent.is_active else None
    ticket = ticket_create(
        tenant=tenant,
        subject=_subject(messages),
        description=_transcript(session, messages),
        requester=requester,
        requester_email=requester_email,
        organization=organization,
        channel=Ticket.Channel.CHAT,
        opened_at=session.started_at,
        severity=severity,
        assignee=agent,
        by=by,
    )
    for message in messages:
        if message.kind == K.AGENT and message.author is not None:
            ticket_reply(
                ticket=ticket,
                body=message.body,
                author=message.author,
                channel=Ticket.Channel.CHAT,
                at=message.created_at,
            )
    return ticket


@transaction.atomic
def chat_end(
    *,
    session: ChatSession,
    by: Membership | None,
    severity: Severity | None = None,
    by_visitor: bool = False,
) -> ChatSession:
    """End a chat (its customer, an agent, its visitor with ``by_visitor``, or the system when
    nobody is left) and turn the transcript into a ticket (module doc). Ending an ended chat
    changes nothing.

    Preconditions: ``by`` may see the chat (``by_visitor``: the caller checked the visitor's
    secret, ``chat_get_for_visitor``); ``severity`` (staff only) is the tenant's."""
    if by_visitor and (by is not None or not session.is_visitor):
        raise ValidationError({"status": "Only the chat's visitor ends it as the visitor."})
    _lock(session)
    if severity is not None and (by is None or not by.is_staff_member):
        raise ValidationError({"severity": "Only agents choose the ticket's severity."})
    if severity is not None and severity.tenant_id != session.tenant_id:
        raise ValidationError({"severity": "Unknown severity."})
    if session.status == S.ENDED:
        return session
    if (
        by is not None
        and by.is_staff_member
        and not by.is_admin
        and session.agent_id not in (None, by.pk)
    ):
        raise ValidationError({"status": "Another agent is handling this chat."})
    now = timezone.now()
    who = "The system"
    if by_visitor:
        who = session.visitor_name
    elif by is not None:
        who = _name(by)
    _append(session, kind=K.SYSTEM, body=f"{who} ended the chat.", author=None, at=now)
    session.status = S.ENDED
    session.ended_at = now
    session.save(update_fields=["status", "ended_at"])
    ticket = _make_ticket(session, by=by, severity=severity)
    if ticket is not None:
        session.ticket = ticket
        session.save(update_fields=["ticket"])
    return session


def agent_set_available(*, agent: Membership, is_available: bool) -> Membership:
    """An agent's own available/away switch (the same flag routing reads)."""
    return agent_update(agent=agent, is_available=is_available)


def _clean_origin(value: str) -> str:
    value = value.strip().rstrip("/")
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or any(c in value for c in " ;,'\"*")
    ):
        raise ValidationError(
            {"allowed_origins": f"{value!r} is not an origin like https://app.example.com."}
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def chat_settings_update(
    *,
    tenant: Tenant,
    enabled: bool,
    allowed_origins: Sequence[str],
    welcome_text: str,
    anonymous_visitors: bool | None = None,
) -> ChatSettings:
    """Save the tenant's chat settings. Origins are scheme://host[:port] only (they go into a
    Content-Security-Policy header, so nothing else may pass). ``anonymous_visitors`` None
    keeps what is set.

    Preconditions: the caller is an admin of ``tenant``."""
    origins = list(dict.fromkeys(_clean_origin(o) for o in allowed_origins if o.strip()))
    if len(origins) > ORIGINS_MAX:
        raise ValidationError({"allowed_origins": f"At most {ORIGINS_MAX} origins."})
    welcome_text = welcome_text.strip()
    if len(welcome_text) > 1000:
        raise ValidationError({"welcome_text": "At most 1000 characters."})
    settings = chat_settings_for(tenant=tenant)
    settings.enabled = enabled
    settings.allowed_origins = origins
    settings.welcome_text = welcome_text
    if anonymous_visitors is not None:
        settings.anonymous_visitors = anonymous_visitors
    settings.updated_at = timezone.now()
    settings.save()
    return settings


def chats_end_idle(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """End the open chats (every tenant's) whose last message is older than
    ``HELPDESK_CHAT_IDLE_MINUTES`` (default 30): a customer who closed the tab without ending
    the chat, or a chat nobody accepted. Each ends as if the system ended it, so its transcript
    becomes a ticket like any other. At most ``limit`` per call (beat calls it every few minutes);
    returns how many ended. Each chat ends in its own transaction, under its row lock, and
    ``chat_end`` leaves an already ended chat alone, so two workers never end one twice."""
    now = now or timezone.now()
    minutes = int(getattr(settings, "HELPDESK_CHAT_IDLE_MINUTES", 30))
    cutoff = now - dt.timedelta(minutes=minutes)
    last_message = (
        ChatMessage.objects.filter(session=OuterRef("pk"))
        .order_by("-sequence")
        .values("created_at")[:1]
    )
    idle_ids = list(
        ChatSession.objects.exclude(status=S.ENDED)
        .annotate(last_at=Subquery(last_message))
        .filter(last_at__lt=cutoff)
        .order_by("last_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    ended = 0
    for session_id in idle_ids:
        session = ChatSession.objects.filter(pk=session_id).select_related("tenant").first()
        if session is None or not session.is_open:
            continue
        chat_end(session=session, by=None)
        ended += 1  # (a race with another ender only miscounts; chat_end ends once)
    return ended
