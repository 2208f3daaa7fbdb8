"""/api/v1/priorities/, /ticket-types/, /business-impacts/, /product-areas/, /custom-fields/:
every member reads (the portal's form needs them); admins create, change and delete. A row
that tickets still use cannot be deleted (409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from django.db.models import Model, QuerySet, RestrictedError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.permissions import IsTenantMember
from sla.api.common import TenantPrimaryKeyField

from ..models import BusinessImpact, CustomField, Priority, ProductArea, Team, TicketType
from ..selectors import (
    business_impacts_for,
    custom_fields_catalog,
    priorities_for,
    product_areas_for,
    ticket_types_for,
)
from ..services import (
    business_impact_create,
    business_impact_update,
    catalog_delete,
    custom_field_create,
    custom_field_update,
    priority_create,
    priority_update,
    product_area_create,
    product_area_update,
    ticket_type_create,
    ticket_type_update,
)
from .common import AdminWrites, TenantInputMixin, in_use
from .serializers import StrictInput

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses


class PriorityIO(StrictInput):
    id = serializers.IntegerField(read_only=True)
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)
    rank = serializers.IntegerField(min_value=1, max_value=1000)


class TicketTypeIO(StrictInput):
    id = serializers.IntegerField(read_only=True)
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    form_hints = serializers.CharField(required=False, allow_blank=True, default="")
    is_emergency = serializers.BooleanField(required=False, default=False)
    pages_on_call_out_of_hours = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False, default=0)


class BusinessImpactIO(StrictInput):
    id = serializers.IntegerField(read_only=True)
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)
    rank = serializers.IntegerField(min_value=1, max_value=1000)
    requires_text = serializers.BooleanField(required=False, default=False)


class ProductAreaIO(StrictInput):
    id = serializers.IntegerField(read_only=True)
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)
    team = TenantPrimaryKeyField(Team, required=False, allow_null=True, default=None)

    def to_representation(self, area: ProductArea) -> dict[str, Any]:
        return {"id": area.pk, "key": area.key, "name": area.name, "team": area.team_id}


class OptionIO(serializers.Serializer):
    value = serializers.CharField(max_length=100)
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=200, required=False, allow_blank=True
    )


class CustomFieldIO(StrictInput):
    id = serializers.IntegerField(read_only=True)
    key = serializers.SlugField(max_length=50)
    label = serializers.CharField(max_length=200)  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=CustomField.Kind.choices)
    options = OptionIO(many=True, required=False, default=list)
    required = serializers.BooleanField(required=False, default=False)  # type: ignore[assignment]
    help_text = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, default="", max_length=500
    )
    position = serializers.IntegerField(min_value=0, max_value=32767, required=False, default=0)
    ticket_types = serializers.ListField(
        child=TenantPrimaryKeyField(TicketType),
        required=False,
        default=list,
        help_text="Empty: every ticket type.",
    )

    def to_representation(self, field: CustomField) -> dict[str, Any]:
        return {
            "id": field.pk,
            "key": field.key,
            "label": field.label,
            "kind": field.kind,
            "options": list(field.options or []),
            "required": field.required,
            "help_text": field.help_text,
            "position": field.position,
            "ticket_types": sorted(t.pk for t in field.ticket_types.all()),
        }


class CatalogListBase(TenantInputMixin, generics.ListAPIView):
    permission_classes: PermissionClasses = [IsTenantMember, AdminWrites]
    model: ClassVar[type[Model]]
    selector: ClassVar[Callable[..., QuerySet[Any]]]

    def scoped_queryset(self) -> QuerySet[Any]:
        return type(self).selector(tenant=self.tenant)

    def create(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        row = self.create(
            self.parse(cast(type[serializers.Serializer], self.get_serializer_class()))
        )
        row = self.scoped_queryset().get(pk=row.pk)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class CatalogDetailBase(TenantInputMixin, generics.RetrieveAPIView):
    permission_classes: PermissionClasses = [IsTenantMember, AdminWrites]
    model: ClassVar[type[Model]]
    selector: ClassVar[Callable[..., QuerySet[Any]]]
    what: ClassVar[str] = "entry"

    def scoped_queryset(self) -> QuerySet[Any]:
        return type(self).selector(tenant=self.tenant)

    def update(self, row: Any, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def _update(self, pk: int, partial: bool) -> Response:
        row = get_object_or_404(self.scoped_queryset(), pk=pk)
        self.update(
            row,
            self.parse(
                cast(type[serializers.Serializer], self.get_serializer_class()), partial=partial
            ),
        )
        row = self.scoped_queryset().get(pk=pk)
        return Response(self.get_serializer(row).data)

    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        row = get_object_or_404(self.scoped_queryset(), pk=pk)
        try:
            catalog_delete(row=row)
        except RestrictedError as exc:
            raise in_use(self.what, exc) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- priorities -------------------------------------------------------------------------------


class PriorityListView(CatalogListBase):
    """The priority catalog: the agents' working order (default from severity x impact)."""

    model = Priority
    selector = priorities_for
    serializer_class = PriorityIO

    @extend_schema(request=PriorityIO, responses={201: PriorityIO})
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, data: dict[str, Any]) -> Model:
        return priority_create(tenant=self.tenant, **data)


class PriorityDetailView(CatalogDetailBase):
    model = Priority
    selector = priorities_for
    serializer_class = PriorityIO
    what = "priority"

    def update(self, row: Any, data: dict[str, Any]) -> Model:
        return priority_update(priority=row, **data)


# --- ticket types -----------------------------------------------------------------------------


class TicketTypeListView(CatalogListBase):
    """Ticket types (bug, question, incident, emergency …) with their form hints."""

    model = TicketType
    selector = ticket_types_for
    serializer_class = TicketTypeIO

    @extend_schema(request=TicketTypeIO, responses={201: TicketTypeIO})
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, data: dict[str, Any]) -> Model:
        return ticket_type_create(tenant=self.tenant, **data)


class TicketTypeDetailView(CatalogDetailBase):
    model = TicketType
    selector = ticket_types_for
    serializer_class = TicketTypeIO
    what = "ticket type"

    def update(self, row: Any, data: dict[str, Any]) -> Model:
        return ticket_type_update(ticket_type=row, **data)


# --- business impacts -------------------------------------------------------------------------


class BusinessImpactListView(CatalogListBase):
    """Business impacts (single user … everyone; "other" asks for a text)."""

    model = BusinessImpact
    selector = business_impacts_for
    serializer_class = BusinessImpactIO

    @extend_schema(request=BusinessImpactIO, responses={201: BusinessImpactIO})
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, data: dict[str, Any]) -> Model:
        return business_impact_create(tenant=self.tenant, **data)


class BusinessImpactDetailView(CatalogDetailBase):
    model = BusinessImpact
    selector = business_impacts_for
    serializer_class = BusinessImpactIO
    what = "business impact"

    def update(self, row: Any, data: dict[str, Any]) -> Model:
        return business_impact_update(business_impact=row, **data)


# --- product areas ----------------------------------------------------------------------------


class ProductAreaListView(CatalogListBase):
    """Product areas, each with the team of its subject-matter experts (skills routing)."""

    model = ProductArea
    selector = product_areas_for
    serializer_class = ProductAreaIO

    @extend_schema(request=ProductAreaIO, responses={201: ProductAreaIO})
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, data: dict[str, Any]) -> Model:
        return product_area_create(tenant=self.tenant, **data)


class ProductAreaDetailView(CatalogDetailBase):
    model = ProductArea
    selector = product_areas_for
    serializer_class = ProductAreaIO
    what = "product area"

    def update(self, row: Any, data: dict[str, Any]) -> Model:
        clear = "team" in data and data["team"] is None
        return product_area_update(
            product_area=row,
            key=data.get("key"),
            name=data.get("name"),
            team=data.get("team"),
            clear_team=clear,
        )


# --- custom fields ----------------------------------------------------------------------------


class CustomFieldListView(CatalogListBase):
    """Custom ticket fields (select, text, number, date), per ticket type or for all."""

    model = CustomField
    selector = custom_fields_catalog
    serializer_class = CustomFieldIO

    @extend_schema(request=CustomFieldIO, responses={201: CustomFieldIO})
    def post(self, request: Request) -> Response:
        return super().post(request)

    def create(self, data: dict[str, Any]) -> Model:
        return custom_field_create(tenant=self.tenant, **data)


class CustomFieldDetailView(CatalogDetailBase):
    model = CustomField
    selector = custom_fields_catalog
    serializer_class = CustomFieldIO
    what = "custom field"

    def update(self, row: Any, data: dict[str, Any]) -> Model:
        return custom_field_update(custom_field=row, **data)
