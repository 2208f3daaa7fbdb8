"""Ticket API resources."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import TenantAPIMixin
from helpdesk.models import Membership, Organization
from sla.api.common import InstantField, TenantPrimaryKeyField, utc_iso
from sla.models import Severity, SLAClock

from .models import Ticket
from .selectors import tickets_visible_to
from .services import ticket_create

_METRIC_ORDER = {"first_response": 0, "next_response": 1, "resolution": 2}


class ClockOutput(serializers.Serializer):
    metric = serializers.CharField()
    target_minutes = serializers.IntegerField(allow_null=True)
    target_business_days = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    warn_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    paused_at = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    escalation_eligible = serializers.BooleanField()
    explanation = serializers.CharField()

    def to_representation(self, clock: SLAClock) -> dict[str, Any]:
        return {
            "metric": clock.metric,
            "target_minutes": clock.target_minutes,
            "target_business_days": clock.target_business_days,
            "started_at": utc_iso(clock.started_at),
            "due_at": utc_iso(clock.due_at),
            "warn_at": utc_iso(clock.warn_at),
            "status": clock.status,
            "paused_at": utc_iso(clock.paused_at),
            "met_at": utc_iso(clock.met_at),
            "breached_at": utc_iso(clock.breached_at),
            "escalation_eligible": clock.escalation_eligible,
            "explanation": clock.explanation,
        }


class TicketOutput(serializers.ModelSerializer):
    reference = serializers.SerializerMethodField()
    priority = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    escalations = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "subject",
            "description",
            "status",
            "severity",
            "priority",
            "organization",
            "requester_email",
            "cc",
            "assignee",
            "team",
            "channel",
            "opened_at",
            "created_at",
            "updated_at",
            "sla",
            "sla_note",
            "sla_exempt",
            "escalations",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_reference(self, ticket: Ticket) -> str:
        return ticket.reference

    # Priority, assignee and team arrive with the tickets issue; the shape is fixed now.
    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_priority(self, ticket: Ticket) -> None:
        return None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_assignee(self, ticket: Ticket) -> None:
        return None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_team(self, ticket: Ticket) -> None:
        return None

    @extend_schema_field(ClockOutput(many=True))
    def get_sla(self, ticket: Ticket) -> list[dict[str, Any]]:
        clocks = sorted(ticket.sla_clocks.all(), key=lambda c: _METRIC_ORDER.get(c.metric, 9))
        return [ClockOutput(c).data for c in clocks]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_escalations(self, ticket: Ticket) -> list[dict[str, Any]]:
        return []  # filled by the escalation workers' issue


class TicketCreateInput(serializers.Serializer):
    subject = serializers.CharField(max_length=250)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    severity = TenantPrimaryKeyField(Severity, required=False, allow_null=True, default=None)
    organization = TenantPrimaryKeyField(
        Organization, required=False, allow_null=True, default=None
    )
    requester_email = serializers.EmailField(
        help_text="Required: the API never assumes the caller is the requester."
    )
    cc = serializers.ListField(
        child=serializers.EmailField(), required=False, default=list, max_length=50
    )
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.API)
    opened_at = InstantField(
        required=False, help_text="Admins only (imports): the SLA clocks start then."
    )


class TicketQuerysetMixin(TenantAPIMixin):
    model = Ticket

    def scoped_queryset(self) -> QuerySet[Ticket]:
        return tickets_visible_to(tenant=self.tenant, membership=self.membership).prefetch_related(
            Prefetch("sla_clocks", queryset=SLAClock.objects.order_by("id"))
        )


def _check_create(data: dict[str, Any], membership: Membership) -> dict[str, Any]:
    """Role rules of ticket creation (the service does the rest)."""
    errors: dict[str, str] = {}
    opened_at = data.get("opened_at")
    if opened_at is not None and not membership.is_admin:
        errors["opened_at"] = "Only admins may set opened_at (for imports)."
    elif opened_at is not None and opened_at > timezone.now():
        errors["opened_at"] = "A ticket cannot be opened in the future."
    if not membership.is_staff_member:
        if data["requester_email"].lower() != membership.user.email.lower():
            errors["requester_email"] = "You can file tickets only as yourself."
        organization = data.get("organization")
        if organization is not None and organization.pk != membership.organization_id:
            errors["organization"] = "You can file tickets only for your own organization."
    if errors:
        raise serializers.ValidationError(errors)
    return data


class TicketListView(TicketQuerysetMixin, generics.ListAPIView):
    """Tickets visible to the caller, newest first; POST files one (staff, and customers for
    themselves and their own organization)."""

    serializer_class = TicketOutput

    @extend_schema(request=TicketCreateInput, responses={201: TicketOutput})
    def post(self, request: Request) -> Response:
        membership = self.membership
        data = TicketCreateInput(data=request.data, context={"tenant": self.tenant})
        data.is_valid(raise_exception=True)
        values = _check_create(dict(data.validated_data), membership)
        if membership.is_staff_member:
            requester = (
                Membership.objects.for_tenant(self.tenant)
                .filter(user__email__iexact=values["requester_email"], role="customer")
                .select_related("user")
                .first()
            )
            requester_user = requester.user if requester is not None else None
        else:
            requester_user = membership.user
        ticket = ticket_create(
            tenant=self.tenant,
            subject=values["subject"],
            description=values["description"],
            requester_email=values["requester_email"],
            requester=requester_user,
            organization=values["organization"],
            severity=values["severity"],
            cc=values["cc"],
            channel=values["channel"],
            opened_at=values.get("opened_at"),
        )
        ticket = self.scoped_queryset().get(pk=ticket.pk)
        return Response(TicketOutput(ticket).data, status=status.HTTP_201_CREATED)


class TicketDetailView(TicketQuerysetMixin, generics.RetrieveAPIView):
    serializer_class = TicketOutput
