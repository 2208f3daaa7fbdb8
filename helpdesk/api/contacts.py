"""/api/v1/contacts/: an organization's people (customers of the tenant).

Staff see and manage every contact. An organization's owner sees, adds and verifies the
contacts of their own organization (seed 003: the owner lists the people who may file). Other
customers get 403. Creating a contact creates or links the global user
(``helpdesk.services.contact_add``), so ``create_api_token --email`` works for them; setting
``role`` to owner/authorized on a pending contact verifies it (``contact_verify``), which also
releases the tickets it filed while pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.models import Membership, Organization
from helpdesk.services import contact_add, contact_deactivate, contact_update, contact_verify
from sla.api.common import TenantPrimaryKeyField

from .base import TenantAPIMixin
from .permissions import IsTenantMember, request_membership

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses

ROLE = Membership.ContactRole


class StaffOrOrganizationOwner(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        membership = request_membership(request)
        return membership is not None and (
            membership.is_staff_member
            or (membership.contact_role == ROLE.OWNER and membership.organization_id is not None)
        )


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(allow_null=True)
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLE.choices)
    is_active = serializers.BooleanField()

    def to_representation(self, contact: Membership) -> dict[str, Any]:
        return {
            "id": contact.pk,
            "organization": contact.organization_id,
            "email": contact.user.email,
            "name": contact.user.name,
            "role": contact.contact_role,
            "is_active": contact.is_active,
        }


class _Strict(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = [k for k in data if k not in self.fields]
            if unknown:
                raise serializers.ValidationError({k: "Unknown field." for k in unknown})
        return super().to_internal_value(data)


class ContactCreateInput(_Strict):
    organization = TenantPrimaryKeyField(Organization)
    email = serializers.EmailField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=ROLE.choices, default=ROLE.AUTHORIZED)


class ContactUpdateInput(_Strict):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=ROLE.choices, required=False)
    organization = TenantPrimaryKeyField(Organization, required=False, help_text="Staff only.")


class ContactMixin(TenantAPIMixin):
    model = Membership
    permission_classes: PermissionClasses = [IsTenantMember, StaffOrOrganizationOwner]

    def scoped_queryset(self) -> QuerySet[Membership]:
        """Staff: every customer of the tenant (pending sign-ups included); an owner: the
        contacts of their organization."""
        qs = (
            Membership.objects.for_tenant(self.tenant)
            .filter(role=Membership.Role.CUSTOMER)
            .select_related("user")
        )
        if self.membership.is_staff_member:
            return qs
        return qs.filter(organization_id=self.membership.organization_id)

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "tenant": self.tenant, "view": self}

    def parse(self, cls: type[serializers.Serializer], partial: bool = False) -> dict[str, Any]:
        data = cls(data=self.request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def check_owner_rules(self, data: dict[str, Any]) -> None:
        """An owner acts within their own organization and cannot create or demote owners."""
        me = self.membership
        if me.is_staff_member:
            return
        errors = {}
        organization = data.get("organization")
        if organization is not None and organization.pk != me.organization_id:
            errors["organization"] = "You manage the contacts of your own organization only."
        if data.get("role") == ROLE.OWNER:
            errors["role"] = "Only staff name owners."
        if errors:
            raise serializers.ValidationError(errors)


class ContactListView(ContactMixin, generics.ListAPIView):
    """Contacts: staff see every customer of the tenant; an owner their organization's."""

    serializer_class = ContactOutput

    @extend_schema(request=ContactCreateInput, responses={201: ContactOutput})
    def post(self, request: Request) -> Response:
        data = self.parse(ContactCreateInput)
        self.check_owner_rules(data)
        contact = contact_add(
            tenant=self.tenant,
            organization=data["organization"],
            email=data["email"],
            name=data["name"],
            role=data["role"],
        )
        contact = self.scoped_queryset().get(pk=contact.pk)
        return Response(ContactOutput(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailView(ContactMixin, generics.RetrieveAPIView):
    serializer_class = ContactOutput

    @extend_schema(request=ContactUpdateInput, responses={200: ContactOutput})
    def patch(self, request: Request, pk: int) -> Response:
        contact = get_object_or_404(self.scoped_queryset(), pk=pk)
        data = self.parse(ContactUpdateInput, partial=True)
        self.check_owner_rules(data)
        if not self.membership.is_staff_member and contact.contact_role == ROLE.OWNER:
            raise serializers.ValidationError({"role": "Only staff change an owner."})
        organization = data.get("organization")
        role = data.get("role")
        if "name" in data:
            contact_update(tenant=self.tenant, contact=contact, name=data["name"])
        if role in (ROLE.OWNER, ROLE.AUTHORIZED) and contact.contact_role == ROLE.PENDING:
            contact_verify(
                tenant=self.tenant, contact=contact, organization=organization, role=role
            )
        elif role is not None or organization is not None:
            contact_update(
                tenant=self.tenant, contact=contact, role=role, organization=organization
            )
        return Response(ContactOutput(self.scoped_queryset().get(pk=pk)).data)

    def delete(self, request: Request, pk: int) -> Response:
        """Staff remove a contact from the tenant (the membership is deactivated: their tickets
        and history stay); an owner removes a contact of their organization."""
        contact = get_object_or_404(self.scoped_queryset(), pk=pk)
        if not self.membership.is_staff_member and (
            contact.pk == self.membership.pk or contact.contact_role == ROLE.OWNER
        ):
            raise serializers.ValidationError({"contact": "Only staff remove an owner."})
        contact_deactivate(tenant=self.tenant, contact=contact)
        return Response(status=status.HTTP_204_NO_CONTENT)
