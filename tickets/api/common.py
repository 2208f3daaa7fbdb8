"""What the ticket API views share: role-by-method permissions, the ticket of a nested route
(fetched — and 404 — before anything else), input parsing, pagination."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet, RestrictedError
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.etag import version_etag
from helpdesk.api.pagination import CursorPagination
from helpdesk.api.permissions import IsStaffMember, IsTenantAdmin
from sla.api.common import Conflict
from sla.models import Escalation, SLAClock

from ..models import Ticket
from ..selectors import ticket_get_for_user, tickets_visible_to


class StaffWrites(BasePermission):
    """Members read; staff write (pair with IsTenantMember)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return IsStaffMember().has_permission(request, view)


class AdminWrites(BasePermission):
    """Members read; admins write (pair with the view's read permission)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return IsTenantAdmin().has_permission(request, view)


class ConversationPagination(CursorPagination):
    """Oldest first: a conversation reads top to bottom."""

    ordering = "id"


def ticket_etag(ticket: Ticket) -> str:
    return version_etag(ticket.pk, ticket.updated_at)


def in_use(what: str, exc: RestrictedError) -> Conflict:
    return Conflict(f"The {what} is still in use by tickets; change them first.")


class TenantInputMixin(TenantAPIMixin):
    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "tenant": self.tenant, "view": self}

    def parse(self, cls: type[serializers.Serializer], partial: bool = False) -> dict[str, Any]:
        data = cls(data=self.request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


def ticket_queryset(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """What a ticket representation needs, in a constant number of queries."""
    return qs.prefetch_related(
        Prefetch("sla_clocks", queryset=SLAClock.objects.order_by("id")),
        Prefetch("escalations", queryset=Escalation.objects.order_by("fired_at", "id")),
    )


class TicketChildMixin(TenantInputMixin):
    """Routes under ``/tickets/<ticket_pk>/``: the ticket visible to the caller, else 404 —
    before the body is even parsed."""

    kwargs: dict[str, Any]

    def ticket(self, write: bool = False) -> Ticket:
        return ticket_get_for_user(
            tenant=self.tenant,
            membership=self.membership,
            ticket_id=self.kwargs["ticket_pk"],
            write=write,
        )

    def ticket_fresh(self, pk: int) -> Ticket:
        return ticket_queryset(
            tickets_visible_to(tenant=self.tenant, membership=self.membership)
        ).get(pk=pk)
