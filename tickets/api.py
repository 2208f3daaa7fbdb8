"""Ticket API resources."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import generics, serializers

from helpdesk.api.base import TenantAPIMixin

from .models import Ticket
from .selectors import tickets_visible_to


class TicketOutput(serializers.ModelSerializer):
    reference = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "subject",
            "description",
            "status",
            "organization",
            "requester_email",
            "channel",
            "opened_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_reference(self, ticket: Ticket) -> str:
        return ticket.reference


class TicketQuerysetMixin(TenantAPIMixin):
    model = Ticket

    def scoped_queryset(self) -> QuerySet[Ticket]:
        return tickets_visible_to(tenant=self.tenant, membership=self.membership)


class TicketListView(TicketQuerysetMixin, generics.ListAPIView):
    """Tickets visible to the caller, newest first."""

    serializer_class = TicketOutput


class TicketDetailView(TicketQuerysetMixin, generics.RetrieveAPIView):
    serializer_class = TicketOutput
