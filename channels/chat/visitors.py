"""Chats with anonymous visitors: where the tenant allows it (``ChatSettings.anonymous_visitors``),
someone without a portal login starts a chat by giving a name, an email address and a first
message. Nothing of what they typed is checked.

**The visitor's secret.** Starting mints a random secret (256 bits) that only the visitor's browser
holds (a signed, HttpOnly cookie bound to the tenant's host, ``channels.chat.views_visitor``);
the session stores its SHA-256. Every read and write of the chat by the visitor presents it
(:func:`channels.chat.selectors.chat_get_for_visitor`): another browser, another tenant's host or
a guessed chat id finds nothing (404).

**No entitlement by claim.** A visitor's chat is served first come, first served like any other
waiting chat; nobody looks up a contract or package by the address they typed, and the ticket the
transcript becomes takes the tenant's least severe severity (an agent may choose another when
ending the chat) and no organization.

**The requester of the ticket** (:func:`visitor_ticket_requester`) follows the email channel's
rule for an unknown sender, tightened where a chat claim is weaker than an email: see there.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.models import Membership, Tenant, User, email_key, hash_token
from helpdesk.services import user_get_or_create

from .models import ChatMessage, ChatSession
from .selectors import chat_settings_for
from .services import ChatUnavailable, _append, _clean_body, _lock

NAME_MAX = 150
EMAIL_MAX = 254


def visitor_chat_allowed(*, tenant: Tenant) -> bool:
    """Anonymous visitors may start a chat: chat is on and the admins let visitors in."""
    settings = chat_settings_for(tenant=tenant)
    return settings.enabled and settings.anonymous_visitors


def visitor_secret_hash(secret: str) -> str:
    return hash_token(secret)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Tell us your name."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"At most {NAME_MAX} characters."})
    if any(not c.isprintable() for c in name):
        raise ValidationError({"name": "Use letters, digits and punctuation only."})
    return name


def _clean_email(email: str) -> str:
    email = email_key(email or "")
    if not email:
        raise ValidationError({"email": "Tell us your email address."})
    if len(email) > EMAIL_MAX:
        raise ValidationError({"email": f"At most {EMAIL_MAX} characters."})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter an email address like name@example.com."}) from None
    return email


@transaction.atomic
def chat_visitor_start(
    *, tenant: Tenant, name: str, email: str, body: str, origin: str = ""
) -> tuple[ChatSession, str]:
    """Start an anonymous visitor's chat with their first message. Returns the session and the
    visitor's secret (returned once, never stored: the caller hands it to the browser).

    Raises :class:`ChatUnavailable` when the tenant does not let visitors chat, and
    ValidationError naming ``name``, ``email`` or ``body``. Preconditions: the caller throttled
    the start (``channels.chat.throttling``) and ``origin`` is one the tenant allows, or empty."""
    if not visitor_chat_allowed(tenant=tenant):
        raise ChatUnavailable("Live chat is not available at the moment.")
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for field, clean, value in (
        ("name", _clean_name, name),
        ("email", _clean_email, email),
        ("body", _clean_body, body),
    ):
        try:
            cleaned[field] = clean(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    session = ChatSession.objects.create(
        tenant=tenant,
        customer=None,
        visitor_name=cleaned["name"],
        visitor_email=cleaned["email"],
        visitor_secret_hash=visitor_secret_hash(secret),
        origin=origin[:200],
        started_at=timezone.now(),
    )
    _append(
        session,
        kind=ChatMessage.Kind.CUSTOMER,
        body=cleaned["body"],
        author=None,
        author_name=session.visitor_name,
    )
    return session, secret


@transaction.atomic
def chat_visitor_post(*, session: ChatSession, body: str) -> ChatMessage:
    """A message by the chat's visitor.

    Preconditions: the caller checked the visitor's secret (``chat_get_for_visitor``)."""
    if not session.is_visitor:
        raise ValidationError({"body": "You are not part of this chat."})
    body = _clean_body(body)
    _lock(session)
    if session.status == ChatSession.Status.ENDED:
        raise ValidationError({"body": "This chat has ended; start a new one."})
    return _append(
        session,
        kind=ChatMessage.Kind.CUSTOMER,
        body=body,
        author=None,
        author_name=session.visitor_name,
    )


def _linkable(membership: Membership) -> bool:
    """A contact nobody has vouched for: pending and in no organization (what an earlier claim
    of the same address left, or a sign-up not yet placed)."""
    return (
        membership.is_active
        and membership.role == Membership.Role.CUSTOMER
        and membership.contact_role == Membership.ContactRole.PENDING
        and membership.organization_id is None
    )


def visitor_ticket_requester(*, tenant: Tenant, email: str, name: str) -> User | None:
    """The requester user of the ticket a visitor's transcript becomes, or None for a ticket
    with only the claimed address.

    The email channel (``channels.email.inbound._open``, the default "pending" rule of its
    mailboxes) makes an unknown sender a pending contact — of the organization owning the
    address's domain, when exactly one does — and keeps the ticket held out of the queue until
    the contact is verified; a sender who already is a contact becomes the requester, in their
    organization, trusted as the From address is. A chat form proves even less than a From
    header, so the visitor's claim is taken the same way only where it cannot reach anyone
    else's data:

    * **Unknown address** (no membership in this tenant; a user of another tenant counts as
      unknown): a pending contact is created, *without* the domain's organization, and the
      ticket is held for verification, as for an unknown email sender. Staff place the contact
      in an organization when they verify it (``contact_verify``); until then no customer — not
      the domain's organization owner either — sees the ticket.
    * **A pending contact in no organization** (an earlier visitor's claim of the same address,
      or a sign-up nobody placed yet): the same contact, so its tickets stay together and are
      released together on verification.
    * **Anyone else** — a verified contact (owner or authorized), staff, a deactivated member,
      a pending contact already placed in an organization: never linked. The ticket carries only
      the claimed address, no requester user and no organization, so it is visible to no
      customer (``tickets_visible_to`` goes by requester user and organization), the visitor gets
      no access to that contact's tickets and the contact's organization gains nothing. It
      cannot be held (a held ticket waits for its requester's verification, and there is no
      requester to verify): it enters the queue for staff, who see the transcript marked
      "unverified visitor". Replies mailed from it go to the claimed address, never to the
      visitor.

    The membership is created with ``get_or_create`` rather than ``contact_signup``, which
    updates an existing membership and places the contact by domain: a claim racing an admin
    who adds the same person must never downgrade or move them.

    Preconditions: ``email`` is cleaned (lower case, valid)."""
    user = User.objects.filter(email=email_key(email)).first()
    if user is not None:
        existing = Membership.objects.for_tenant(tenant).filter(user=user).first()
        if existing is not None:
            return user if _linkable(existing) else None
    else:
        try:
            with transaction.atomic():
                user = user_get_or_create(email=email, name=name[:NAME_MAX], verified=False)
        except IntegrityError:  # the same address signed up at the same moment
            return visitor_ticket_requester(tenant=tenant, email=email, name=name)
    try:
        with transaction.atomic():
            membership, _ = Membership.objects.for_tenant(tenant).get_or_create(
                tenant=tenant,
                user=user,
                defaults={
                    "role": Membership.Role.CUSTOMER,
                    "contact_role": Membership.ContactRole.PENDING,
                    "organization": None,
                },
            )
    except IntegrityError:  # created between the read and the insert: read it again
        membership = Membership.objects.for_tenant(tenant).get(user=user)
    return user if _linkable(membership) else None
