"""Core API resources: organizations."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics, serializers

from helpdesk.models import Organization
from helpdesk.selectors import organizations_visible_to

from .base import TenantAPIMixin


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "domains", "account_executive_email", "created_at"]
        read_only_fields = fields


class OrganizationQuerysetMixin(TenantAPIMixin):
    model = Organization

    def scoped_queryset(self) -> QuerySet[Organization]:
        """All of the tenant's organizations for staff; their own for a contact."""
        return organizations_visible_to(tenant=self.tenant, membership=self.membership)


class OrganizationListView(OrganizationQuerysetMixin, generics.ListAPIView):
    serializer_class = OrganizationOutput


class OrganizationDetailView(OrganizationQuerysetMixin, generics.RetrieveAPIView):
    serializer_class = OrganizationOutput
