"""/api/v1/severities/, /packages/, /contracts/, /sla-policy/: members read, admins write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.permissions import IsStaffMember, IsTenantMember
from helpdesk.models import Organization

from ..models import (
    BusinessCalendar,
    Channel,
    Contract,
    Metric,
    Severity,
    SLAPolicy,
    SLATarget,
    SupportPackage,
)
from ..selectors import (
    contracts_visible_to,
    packages_for_tenant,
    severities_for_tenant,
    sla_policy_for,
)
from ..services import (
    TargetSpec,
    contract_create,
    contract_delete,
    contract_update,
    package_create,
    package_delete,
    package_update,
    severity_create,
    severity_delete,
    severity_update,
    sla_policy_get_or_create,
    sla_policy_update,
)
from .common import Conflict, ReadMembersWriteAdmins, TenantPrimaryKeyField, require


class CatalogMixin(TenantAPIMixin):
    permission_classes: PermissionClasses = [IsTenantMember, ReadMembersWriteAdmins]

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "tenant": self.tenant, "view": self}

    def one(self, pk: int) -> Any:
        """The scoped row (404 for a missing or foreign id)."""
        return get_object_or_404(self.scoped_queryset(), pk=pk)

    def input(self, cls: type[serializers.Serializer], partial: bool = False) -> dict[str, Any]:
        data = cls(data=self.request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


def _protected(what: str) -> Conflict:
    return Conflict(f"The {what} is still in use; remove what uses it first.")


if TYPE_CHECKING:
    from .common import PermissionClasses

# --- severities -------------------------------------------------------------------------------


class SeverityIO(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    key = serializers.SlugField(max_length=50)
    name = serializers.CharField(max_length=100)
    rank = serializers.IntegerField(min_value=1, max_value=1000)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    escalation_eligible = serializers.BooleanField(required=False, default=True)


class SeverityMixin(CatalogMixin):
    model = Severity

    def scoped_queryset(self) -> QuerySet[Severity]:
        return severities_for_tenant(tenant=self.tenant)


class SeverityListView(SeverityMixin, generics.ListAPIView):
    """The severity catalog (customers pick from it)."""

    serializer_class = SeverityIO

    def post(self, request: Request) -> Response:
        severity = severity_create(tenant=self.tenant, **self.input(SeverityIO))
        return Response(SeverityIO(severity).data, status=status.HTTP_201_CREATED)


class SeverityDetailView(SeverityMixin, generics.RetrieveAPIView):
    serializer_class = SeverityIO

    def _update(self, pk: int, partial: bool) -> Response:
        severity = self.one(pk)
        severity = severity_update(severity=severity, **self.input(SeverityIO, partial=partial))
        return Response(SeverityIO(severity).data)

    @extend_schema(request=SeverityIO, responses=SeverityIO)
    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    @extend_schema(request=SeverityIO, responses=SeverityIO)
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        try:
            severity_delete(severity=self.one(pk))
        except (ProtectedError, RestrictedError) as exc:
            raise _protected("severity") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- packages and targets -----------------------------------------------------------------------


class ConditionIO(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[c for c in SLATarget.Condition.values if c], help_text="opened_within|outside"
    )
    calendar = TenantPrimaryKeyField(BusinessCalendar)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require(attrs, "type", "calendar")
        return attrs


class TargetInput(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    severity = TenantPrimaryKeyField(Severity)
    target_minutes = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    target_business_days = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    calendar = TenantPrimaryKeyField(BusinessCalendar)
    escalation_eligible = serializers.BooleanField(required=False, allow_null=True, default=None)
    warn_at_percent = serializers.IntegerField(min_value=1, max_value=100, default=75)
    condition = ConditionIO(required=False, allow_null=True, default=None)
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require(attrs, "metric", "severity", "calendar")
        minutes, days = attrs.get("target_minutes"), attrs.get("target_business_days")
        if (minutes is None) == (days is None):
            msg = "Give exactly one of target_minutes and target_business_days."
            raise serializers.ValidationError({"target_minutes": msg, "target_business_days": msg})
        return attrs


CHANNELS_HELP = "Any of: " + ", ".join(Channel.values)


class PackageInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # Plain strings: the service names an unknown channel (and the schema keeps one Channel
    # enum, the ticket's).
    channels = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text=CHANNELS_HELP
    )
    severities = serializers.ListField(
        child=TenantPrimaryKeyField(Severity), required=False, default=list
    )
    targets = TargetInput(many=True, required=False, default=list)


def _target_specs(rows: list[dict[str, Any]]) -> list[TargetSpec]:
    specs = []
    for row in rows:
        condition = row.get("condition")
        eligible = row.get("escalation_eligible")
        specs.append(
            TargetSpec(
                metric=row["metric"],
                severity=row["severity"],
                target_minutes=row.get("target_minutes"),
                target_business_days=row.get("target_business_days"),
                calendar=row["calendar"],
                escalation_eligible=(
                    row["severity"].escalation_eligible if eligible is None else eligible
                ),
                warn_at_percent=row.get("warn_at_percent", 75),
                condition=condition["type"] if condition else "",
                condition_calendar=condition["calendar"] if condition else None,
                position=row.get("position"),
            )
        )
    return specs


class TargetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    metric = serializers.CharField()
    severity = serializers.IntegerField(source="severity_id")
    target_minutes = serializers.IntegerField(allow_null=True)
    target_business_days = serializers.IntegerField(allow_null=True)
    calendar = serializers.IntegerField(source="calendar_id")
    escalation_eligible = serializers.BooleanField()
    warn_at_percent = serializers.IntegerField()
    condition = serializers.SerializerMethodField()
    position = serializers.IntegerField()

    def get_condition(self, target: SLATarget) -> dict[str, Any] | None:
        if not target.condition:
            return None
        return {"type": target.condition, "calendar": target.condition_calendar_id}


class PackageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    channels = serializers.ListField(child=serializers.CharField())
    severities = serializers.SerializerMethodField()
    targets = TargetOutput(many=True, source="targets.all")

    def get_severities(self, package: SupportPackage) -> list[int]:
        return sorted(s.pk for s in package.severities.all())


class PackageMixin(CatalogMixin):
    model = SupportPackage

    def scoped_queryset(self) -> QuerySet[SupportPackage]:
        return packages_for_tenant(tenant=self.tenant)


class PackageListView(PackageMixin, generics.ListAPIView):
    """Support packages with their covered severities and SLA targets."""

    serializer_class = PackageOutput

    @extend_schema(request=PackageInput, responses={201: PackageOutput})
    def post(self, request: Request) -> Response:
        data = self.input(PackageInput)
        package = package_create(
            tenant=self.tenant,
            name=data["name"],
            description=data["description"],
            channels=data["channels"],
            severities=data["severities"],
            targets=_target_specs(data["targets"]),
        )
        return Response(PackageOutput(self.one(package.pk)).data, status=status.HTTP_201_CREATED)


class PackageDetailView(PackageMixin, generics.RetrieveAPIView):
    serializer_class = PackageOutput

    def _update(self, pk: int, partial: bool) -> Response:
        package = self.one(pk)
        data = self.input(PackageInput, partial=partial)
        package_update(
            package=package,
            name=data.get("name"),
            description=data.get("description"),
            channels=data.get("channels"),
            severities=data.get("severities"),
            targets=_target_specs(data["targets"]) if "targets" in data else None,
        )
        return Response(PackageOutput(self.one(pk)).data)

    @extend_schema(request=PackageInput, responses=PackageOutput)
    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    @extend_schema(request=PackageInput, responses=PackageOutput)
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        try:
            package_delete(package=self.one(pk))
        except (ProtectedError, RestrictedError) as exc:
            raise _protected("package") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- contracts ----------------------------------------------------------------------------------


class ContractIO(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    organization = TenantPrimaryKeyField(Organization)
    package = TenantPrimaryKeyField(SupportPackage)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)


class ContractOutput(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.IntegerField(source="organization_id")
    package = serializers.IntegerField(source="package_id")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)


class ContractMixin(CatalogMixin):
    model = Contract

    def scoped_queryset(self) -> QuerySet[Contract]:
        """Staff: every contract; a contact: their organization's."""
        return contracts_visible_to(tenant=self.tenant, membership=self.membership)


class ContractListView(ContractMixin, generics.ListAPIView):
    serializer_class = ContractOutput

    @extend_schema(request=ContractIO, responses={201: ContractOutput})
    def post(self, request: Request) -> Response:
        contract = contract_create(tenant=self.tenant, **self.input(ContractIO))
        return Response(ContractOutput(contract).data, status=status.HTTP_201_CREATED)


class ContractDetailView(ContractMixin, generics.RetrieveAPIView):
    serializer_class = ContractOutput

    def _update(self, pk: int, partial: bool) -> Response:
        contract = self.one(pk)
        data = self.input(ContractIO, partial=partial)
        organization = data.get("organization")
        if organization is not None and organization.pk != contract.organization_id:
            raise serializers.ValidationError(
                {"organization": "A contract cannot move to another organization."}
            )
        contract = contract_update(
            contract=contract,
            package=data.get("package"),
            starts_on=data.get("starts_on"),
            ends_on=data.get("ends_on"),
            clear_ends_on="ends_on" in data and data["ends_on"] is None,
        )
        return Response(ContractOutput(contract).data)

    @extend_schema(request=ContractIO, responses=ContractOutput)
    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    @extend_schema(request=ContractIO, responses=ContractOutput)
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        contract_delete(contract=self.one(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the tenant's SLA policy ----------------------------------------------------------------------


class PolicyIO(serializers.Serializer):
    no_contract_rule = serializers.ChoiceField(choices=SLAPolicy.NoContractRule.choices)
    default_package = TenantPrimaryKeyField(SupportPackage, required=False, allow_null=True)
    no_contract_note = serializers.CharField(required=False, allow_blank=True)
    pause_on_hold = serializers.BooleanField(required=False)
    template = serializers.CharField(read_only=True)
    description = serializers.CharField(required=False, allow_blank=True)

    def to_representation(self, policy: SLAPolicy) -> dict[str, Any]:
        return {
            "no_contract_rule": policy.no_contract_rule,
            "default_package": policy.default_package_id,
            "no_contract_note": policy.no_contract_note,
            "pause_on_hold": policy.pause_on_hold,
            "template": policy.template,
            "description": policy.description,
        }


class SLAPolicyView(CatalogMixin, generics.GenericAPIView):
    """The tenant's SLA settings: the no-contract rule, pausing on hold, and the template's
    description of how it reads its seed policy. Staff read, admins write."""

    model = SLAPolicy
    permission_classes: PermissionClasses = [IsStaffMember, ReadMembersWriteAdmins]
    serializer_class = PolicyIO

    def scoped_queryset(self) -> QuerySet[SLAPolicy]:
        return SLAPolicy.objects.for_tenant(self.tenant)

    def get(self, request: Request) -> Response:
        policy = sla_policy_for(tenant=self.tenant) or SLAPolicy(tenant=self.tenant)
        return Response(PolicyIO(policy).data)

    def _update(self, partial: bool) -> Response:
        data = self.input(PolicyIO, partial=partial)
        sla_policy_get_or_create(tenant=self.tenant)
        policy = sla_policy_update(
            tenant=self.tenant,
            no_contract_rule=data.get("no_contract_rule"),
            default_package=data.get("default_package"),
            no_contract_note=data.get("no_contract_note"),
            pause_on_hold=data.get("pause_on_hold"),
            description=data.get("description"),
        )
        return Response(PolicyIO(policy).data)

    @extend_schema(request=PolicyIO, responses=PolicyIO)
    def put(self, request: Request) -> Response:
        return self._update(partial=False)

    @extend_schema(request=PolicyIO, responses=PolicyIO)
    def patch(self, request: Request) -> Response:
        return self._update(partial=True)
