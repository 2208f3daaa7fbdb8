"""Reads of tickets, scoped to the tenant and to what the viewer may see. Every selector scopes
before it fetches; a missing id and a forbidden one answer the same 404."""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Prefetch, Q, QuerySet, Value
from django.http import Http404

from helpdesk.models import Membership, Tenant

from .models import (
    Attachment,
    BusinessImpact,
    CustomField,
    Message,
    Priority,
    ProductArea,
    Team,
    Ticket,
    TicketEvent,
    TicketType,
)

_REFERENCE = re.compile(r"^([A-Z][A-Z0-9]{0,9})-(\d{1,18})$")
_WORD = re.compile(r"\w{3,}", re.UNICODE)


def tickets_visible_to(*, tenant: Tenant, membership: Membership) -> QuerySet[Ticket]:
    """Staff see every ticket of the tenant. An organization's owner sees all of the
    organization's tickets; other contacts see the tickets they requested."""
    qs = Ticket.objects.for_tenant(tenant).select_related("tenant")
    if membership.is_staff_member:
        return qs
    if (
        membership.contact_role == Membership.ContactRole.OWNER
        and membership.organization_id is not None
    ):
        return qs.filter(
            Q(organization_id=membership.organization_id) | Q(requester_id=membership.user_id)
        )
    return qs.filter(requester_id=membership.user_id)


def reference_number(*, tenant: Tenant, reference: str) -> int | None:
    """``OR-1042`` → 1042 when the prefix is this tenant's; None otherwise."""
    match = _REFERENCE.match((reference or "").strip().upper())
    if match is None or match.group(1) != tenant.ticket_prefix:
        return None
    return int(match.group(2))


def ticket_get_for_user(
    *,
    tenant: Tenant,
    membership: Membership,
    ticket_id: int | None = None,
    reference: str | None = None,
    write: bool = False,
) -> Ticket:
    """The ticket (by id or by reference) if ``membership`` may see it; Http404 for a missing
    ticket and a forbidden one alike. ``write`` locks the row (``SELECT … FOR UPDATE``) for the
    rest of the transaction, so a check (If-Match, status) and the write that follows see the
    same row; it needs a transaction."""
    qs = tickets_visible_to(tenant=tenant, membership=membership)
    if ticket_id is not None:
        qs = qs.filter(pk=ticket_id)
    elif reference is not None:
        number = reference_number(tenant=tenant, reference=reference)
        if number is None:
            raise Http404("No such ticket")
        qs = qs.filter(number=number)
    else:
        raise Http404("No such ticket")
    if write:
        qs = qs.select_for_update(of=("self",))
    ticket = qs.first()
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def messages_visible_to(*, ticket: Ticket, membership: Membership) -> QuerySet[Message]:
    """The ticket's conversation, oldest first, with each message's visible attachments.
    Customers never get internal notes (nor their attachments)."""
    qs = (
        Message.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id"))
        )
    )
    if not membership.is_staff_member:
        qs = qs.filter(public=True)
    return qs


def attachments_visible_to(*, ticket: Ticket, membership: Membership) -> QuerySet[Attachment]:
    """The ticket's attachments; customers see public ones only (on a public message, or
    uploaded by a customer)."""
    qs = Attachment.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket)
    if not membership.is_staff_member:
        qs = qs.filter(public=True)
    return qs


def attachment_get_for_user(
    *, ticket: Ticket, membership: Membership, attachment_id: int
) -> Attachment:
    attachment = attachments_visible_to(ticket=ticket, membership=membership).filter(
        pk=attachment_id
    )
    found = attachment.first()
    if found is None:
        raise Http404("No such attachment")
    return found


def events_for(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's event log, oldest first (staff only: callers check the role)."""
    return (
        TicketEvent.objects.for_tenant(ticket.tenant_id)
        .filter(ticket=ticket)
        .select_related("actor")
    )


# --- similar tickets --------------------------------------------------------------------------


class _TrigramMatch(Func):
    """``subject % 'text'``: pg_trgm's similarity operator (uses the trigram index)."""

    template = "%(expressions)s"
    arg_joiner = " %% "
    output_field = BooleanField()


_TRGM: dict[str, bool] = {}


def _has_trigram() -> bool:
    alias = connection.alias
    if alias not in _TRGM:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _TRGM[alias] = cursor.fetchone() is not None
    return _TRGM[alias]


def ticket_similar(*, ticket: Ticket, limit: int = 5) -> list[Ticket]:
    """Tickets of the same tenant whose subject resembles ``ticket``'s: merge suggestions.
    Open or recent first among equals; merged tickets are left out.

    PostgreSQL: pg_trgm similarity (index-backed ``%``), else full-text search on subject and
    description. Elsewhere (SQLite): shared words of three letters or more, scored in Python over
    the tenant's latest 500 tickets."""
    base = (
        Ticket.objects.for_tenant(ticket.tenant_id)
        .select_related("tenant")
        .exclude(pk=ticket.pk)
        .filter(merged_into__isnull=True)
    )
    if connection.vendor == "postgresql":
        if _has_trigram():
            from django.contrib.postgres.search import TrigramSimilarity

            return list(
                base.filter(_TrigramMatch(F("subject"), Value(ticket.subject)))
                .annotate(similarity=TrigramSimilarity("subject", ticket.subject))
                .order_by("-similarity", "-id")[:limit]
            )
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        terms = " | ".join(_WORD.findall(ticket.subject.lower())[:16])
        if not terms:
            return []
        query = SearchQuery(terms, search_type="raw", config="simple")
        vector = SearchVector("subject", weight="A", config="simple") + SearchVector(
            "description", weight="B", config="simple"
        )
        return list(
            base.annotate(rank=SearchRank(vector, query))
            .filter(rank__gt=0)
            .order_by("-rank", "-id")[:limit]
        )
    words = set(_WORD.findall(ticket.subject.lower()))
    if not words:
        return []
    scored: list[tuple[float, int, Ticket]] = []
    for other in base.order_by("-id")[:500]:
        theirs = set(_WORD.findall(other.subject.lower()))
        shared = len(words & theirs)
        if shared:
            scored.append((shared / len(words | theirs), other.pk, other))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return [t for _, _, t in scored[:limit]]


# --- catalogs and teams -----------------------------------------------------------------------


def priorities_for(*, tenant: Tenant) -> QuerySet[Priority]:
    return Priority.objects.for_tenant(tenant)


def ticket_types_for(*, tenant: Tenant) -> QuerySet[TicketType]:
    return TicketType.objects.for_tenant(tenant)


def business_impacts_for(*, tenant: Tenant) -> QuerySet[BusinessImpact]:
    return BusinessImpact.objects.for_tenant(tenant)


def product_areas_for(*, tenant: Tenant) -> QuerySet[ProductArea]:
    return ProductArea.objects.for_tenant(tenant)


def custom_fields_catalog(*, tenant: Tenant) -> QuerySet[CustomField]:
    return CustomField.objects.for_tenant(tenant).prefetch_related("ticket_types")


def teams_for(*, tenant: Tenant) -> QuerySet[Team]:
    return Team.objects.for_tenant(tenant).prefetch_related("members")


def agents_for(*, tenant: Tenant) -> QuerySet[Membership]:
    """The tenant's staff (agents and admins), with their teams."""
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=(Membership.Role.AGENT, Membership.Role.ADMIN))
        .select_related("user")
        .prefetch_related("team_memberships")
    )


def row_get(qs: QuerySet[Any], pk: int, what: str = "object") -> Any:
    """One row of an already scoped queryset; 404 for a missing or foreign id."""
    row = qs.filter(pk=pk).first()
    if row is None:
        raise Http404(f"No such {what}")
    return row
