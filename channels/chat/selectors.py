"""Reads of the chat channel: every query is scoped to the tenant (and, for customers, to their
own chats; for anonymous visitors, to the one chat their secret opens) before it fetches;
another tenant's or another customer's chat is a 404."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from helpdesk.models import Membership, Tenant, hash_token
from helpdesk.selectors import tenant_today
from sla.models import SupportPackage
from sla.selectors import package_for_organization
from tickets.models import Ticket

from .models import ChatMessage, ChatSession, ChatSettings

POLL_LIMIT = 200


def chat_settings_for(*, tenant: Tenant) -> ChatSettings:
    """The tenant's chat settings; an unsaved default row (chat enabled, no embedding origins)
    when the admins never changed them."""
    found = ChatSettings.objects.for_tenant(tenant).first()
    return found if found is not None else ChatSettings(tenant=tenant)


def package_for_contact(*, membership: Membership) -> SupportPackage | None:
    """The package that covers a contact today, by the same rule as ticket coverage
    (:mod:`sla.coverage`): the organization's active contract, else the tenant's default package
    when its no-contract rule says so, else none."""
    organization = membership.organization
    if organization is None:
        return None
    tenant = membership.tenant
    return package_for_organization(
        tenant=tenant, organization=organization, on=tenant_today(tenant)
    ).package


@dataclass(frozen=True)
class ChatOffer:
    """Whether a member may start a chat, and if not, why (shown next to the ticket form link)."""

    offered: bool
    reason: str = ""
    package: SupportPackage | None = None


def chat_offer_for(*, tenant: Tenant, membership: Membership) -> ChatOffer:
    """Chat is offered to a verified contact whose package includes the chat channel, while the
    tenant has chat enabled. Everyone else gets the ticket form."""
    if not chat_settings_for(tenant=tenant).enabled:
        return ChatOffer(False, "Live chat is not available at the moment.")
    if not membership.is_verified_contact:
        if membership.is_staff_member:
            return ChatOffer(False, "Staff answer chats in the chat console.")
        return ChatOffer(False, "Live chat opens once your account is verified.")
    package = package_for_contact(membership=membership)
    if package is None:
        return ChatOffer(False, "Your organization has no support package that includes chat.")
    if Ticket.Channel.CHAT not in (package.channels or []):
        return ChatOffer(False, f"Your {package.name} package does not include live chat.", package)
    return ChatOffer(True, "", package)


def chats_visible_to(*, tenant: Tenant, membership: Membership) -> QuerySet[ChatSession]:
    """Staff see every chat of the tenant; a customer sees only their own."""
    chats = ChatSession.objects.for_tenant(tenant).select_related(
        "customer__user", "agent__user", "organization", "ticket"
    )
    if membership.is_staff_member:
        return chats
    return chats.filter(customer=membership)


def chat_get_for_user(
    *, tenant: Tenant, membership: Membership, chat_id: int, for_update: bool = False
) -> ChatSession:
    """One chat the member may see, else Http404 (missing, another tenant's and another
    customer's alike). ``for_update`` locks the row (callers are inside a transaction)."""
    chats = chats_visible_to(tenant=tenant, membership=membership)
    if for_update:
        chats = chats.select_for_update(of=("self",))
    found = chats.filter(pk=chat_id).first()
    if found is None:
        raise Http404("No such chat")
    return found


def chat_get_for_visitor(*, tenant: Tenant, chat_id: int, secret: str) -> ChatSession:
    """An anonymous visitor's chat, found only with the secret their browser holds
    (``channels.chat.visitors``), else Http404: a wrong or missing secret, a member's chat, a
    missing chat and another tenant's chat alike. The hash is compared by the database: it is
    the SHA-256 of 256 random bits, so knowing how close a guess came is worth nothing."""
    if not secret:
        raise Http404("No such chat")
    found = (
        ChatSession.objects.for_tenant(tenant)
        .filter(pk=chat_id, customer__isnull=True, visitor_secret_hash=hash_token(secret))
        .select_related("agent__user", "ticket")
        .first()
    )
    if found is None:
        raise Http404("No such chat")
    return found


def chat_messages_after(*, session: ChatSession, after: int = 0) -> QuerySet[ChatMessage]:
    """Messages with a sequence above ``after``, oldest first, at most POLL_LIMIT (a poller asks
    again with the last sequence it saw)."""
    return (
        ChatMessage.objects.for_tenant(session.tenant_id)
        .filter(session=session, sequence__gt=after)
        .order_by("sequence")[:POLL_LIMIT]
    )


def chats_waiting(*, tenant: Tenant) -> QuerySet[ChatSession]:
    """Chats nobody accepted yet, longest waiting first."""
    return (
        ChatSession.objects.for_tenant(tenant)
        .filter(status=ChatSession.Status.WAITING)
        .select_related("customer__user", "organization")
        .order_by("started_at", "id")
    )


def chats_of_agent(*, tenant: Tenant, agent: Membership) -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.for_tenant(tenant)
        .filter(status=ChatSession.Status.ACTIVE, agent=agent)
        .select_related("customer__user", "organization")
        .order_by("accepted_at", "id")
    )


def chats_recently_ended(*, tenant: Tenant, limit: int = 10) -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.for_tenant(tenant)
        .filter(status=ChatSession.Status.ENDED)
        .select_related("customer__user", "agent__user", "ticket")
        .order_by("-ended_at", "-id")[:limit]
    )


def chat_open_for_customer(*, tenant: Tenant, customer: Membership) -> ChatSession | None:
    return (
        ChatSession.objects.for_tenant(tenant)
        .filter(customer=customer)
        .exclude(status=ChatSession.Status.ENDED)
        .order_by("-started_at")
        .first()
    )
