"""Core API resources: organizations (members read what they may see; admins create, change
and delete)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.models import Organization
from helpdesk.selectors import organizations_visible_to
from helpdesk.services import organization_create, organization_delete, organization_update
from sla.api.common import Conflict

from .base import TenantAPIMixin
from .permissions import IsTenantAdmin, IsTenantMember

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "domains", "account_executive_email", "created_at"]
        read_only_fields = fields


class OrganizationInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domains = serializers.ListField(
        child=serializers.CharField(max_length=253), required=False, default=list, max_length=50
    )
    account_executive_email = serializers.EmailField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = [k for k in data if k not in self.fields]
            if unknown:
                raise serializers.ValidationError({k: "Unknown field." for k in unknown})
        return super().to_internal_value(data)


class AdminWrites(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return request.method in SAFE_METHODS or IsTenantAdmin().has_permission(request, view)


class OrganizationQuerysetMixin(TenantAPIMixin):
    model = Organization
    permission_classes: PermissionClasses = [IsTenantMember, AdminWrites]

    def scoped_queryset(self) -> QuerySet[Organization]:
        """All of the tenant's organizations for staff; their own for a contact."""
        return organizations_visible_to(tenant=self.tenant, membership=self.membership)

    def parse(self, partial: bool = False) -> dict[str, Any]:
        data = OrganizationInput(data=self.request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


class OrganizationListView(OrganizationQuerysetMixin, generics.ListAPIView):
    serializer_class = OrganizationOutput

    @extend_schema(request=OrganizationInput, responses={201: OrganizationOutput})
    def post(self, request: Request) -> Response:
        data = self.parse()
        organization = organization_create(
            tenant=self.tenant,
            name=data["name"],
            domains=data["domains"],
            account_executive_email=data["account_executive_email"],
        )
        if data["notes"]:
            organization_update(organization=organization, notes=data["notes"])
        return Response(OrganizationOutput(organization).data, status=status.HTTP_201_CREATED)


class OrganizationDetailView(OrganizationQuerysetMixin, generics.RetrieveAPIView):
    serializer_class = OrganizationOutput

    def _update(self, pk: int, partial: bool) -> Response:
        organization = get_object_or_404(self.scoped_queryset(), pk=pk)
        data = self.parse(partial=partial)
        organization = organization_update(
            organization=organization,
            name=data.get("name"),
            domains=data.get("domains"),
            account_executive_email=data.get("account_executive_email"),
            notes=data.get("notes"),
        )
        return Response(OrganizationOutput(organization).data)

    @extend_schema(request=OrganizationInput, responses={200: OrganizationOutput})
    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    @extend_schema(request=OrganizationInput, responses={200: OrganizationOutput})
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    @extend_schema(
        responses={
            204: None,
            409: OpenApiResponse(description="Tickets belong to the organization."),
        }
    )
    def delete(self, request: Request, pk: int) -> Response:
        """Delete an organization (admins): its contracts go with it; its contacts stay,
        detached and pending until verified into another organization. Refused (409) while any
        ticket belongs to it: tickets are never deleted or orphaned."""
        organization = get_object_or_404(self.scoped_queryset(), pk=pk)
        try:
            organization_delete(organization=organization)
        except ValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
