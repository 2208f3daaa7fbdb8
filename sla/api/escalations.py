"""Escalation resources of /api/v1/: a customer's own escalation of a ticket, the escalations
that fired, the tenant's escalation policy and levels, the on-call roster, emergency pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.exceptions import PROBLEM_CONTENT_TYPE, problem
from helpdesk.api.permissions import IsStaffMember
from helpdesk.models import Membership
from tickets.models import Ticket
from tickets.selectors import tickets_visible_to

from ..escalation.customer import (
    CustomerEscalationNotAllowed,
    customer_escalation_state,
    ticket_customer_escalate,
)
from ..escalation.notify import escalation_output
from ..escalation.paging import emergency_downgrade, page_acknowledge, page_get
from ..escalation.selectors import escalations_visible_to
from ..escalation.services import (
    escalation_policy_get,
    escalation_policy_update,
    on_call_entry_create,
    on_call_entry_delete,
    on_call_entry_update,
)
from ..models import (
    EmergencyPage,
    Escalation,
    EscalationPolicy,
    EscalationRole,
    EscalationRule,
    Metric,
    NoticeChannel,
    OnCallEntry,
)
from .common import ReadMembersWriteAdmins, TenantPrimaryKeyField, utc_iso

if TYPE_CHECKING:
    from .common import PermissionClasses


class EscalationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Escalation.Kind.choices)
    ticket = serializers.IntegerField(source="ticket_id")
    metric = serializers.CharField()
    level = serializers.IntegerField(allow_null=True, help_text="0 = warning; 1… = levels.")
    due_at = serializers.DateTimeField(allow_null=True)
    fired_at = serializers.DateTimeField()
    recipients = serializers.ListField(child=serializers.CharField())
    cancelled_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, escalation: Escalation) -> dict[str, Any]:
        return {**escalation_output(escalation), "ticket": escalation.ticket_id}


# --- a customer escalates -----------------------------------------------------------------------


class EscalateInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class EscalateState(serializers.Serializer):
    allowed = serializers.BooleanField()
    allowed_from = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    escalation = EscalationOutput(allow_null=True)


def _state_output(ticket: Ticket) -> dict[str, Any]:
    state = customer_escalation_state(ticket=ticket)
    return {
        "allowed": state.allowed,
        "allowed_from": utc_iso(state.allowed_from),
        "reason": state.reason,
        "escalation": (
            EscalationOutput(state.escalation).data if state.escalation is not None else None
        ),
    }


class TicketEscalateView(TenantAPIMixin, generics.GenericAPIView):
    """GET: whether the ticket's customer may escalate it now, and from when. POST (the
    ticket's customers): escalate it to the escalation list and the account executive, once
    its acknowledgement window is breached (409 before, saying when it becomes allowed)."""

    model = Ticket
    serializer_class = EscalateState

    def scoped_queryset(self) -> QuerySet[Ticket]:
        return tickets_visible_to(tenant=self.tenant, membership=self.membership)

    def get(self, request: Request, pk: int) -> Response:
        ticket = get_object_or_404(self.scoped_queryset(), pk=pk)
        return Response(_state_output(ticket))

    @extend_schema(request=EscalateInput, responses={201: EscalationOutput, 200: EscalationOutput})
    def post(self, request: Request, pk: int) -> Response:
        ticket = get_object_or_404(self.scoped_queryset(), pk=pk)
        membership = self.membership
        if membership.role != Membership.Role.CUSTOMER:
            raise exceptions.PermissionDenied("Only the ticket's customers escalate it here.")
        data = EscalateInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            escalation, created = ticket_customer_escalate(
                ticket=ticket, by=membership, reason=data.validated_data["reason"]
            )
        except CustomerEscalationNotAllowed as exc:
            when = exc.state.allowed_from
            detail = exc.state.reason + (
                f" Allowed from {utc_iso(when)}." if when is not None else ""
            )
            body = problem(409, detail, code="escalation-not-allowed")
            body["allowed_from"] = utc_iso(when)
            return Response(body, status=409, content_type=PROBLEM_CONTENT_TYPE)
        return Response(
            EscalationOutput(escalation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- escalations ----------------------------------------------------------------------------------


class EscalationListView(TenantAPIMixin, generics.ListAPIView):
    """The escalations that fired (staff), newest first; ``?ticket=<id>`` narrows."""

    model = Escalation
    serializer_class = EscalationOutput
    permission_classes: PermissionClasses = [IsStaffMember]

    def scoped_queryset(self) -> QuerySet[Escalation]:
        qs = escalations_visible_to(tenant=self.tenant, membership=self.membership)
        ticket = self.request.query_params.get("ticket")
        if ticket is not None:
            if not ticket.isdigit():
                raise exceptions.ValidationError({"ticket": "A ticket id."})
            qs = qs.filter(ticket_id=int(ticket))
        return qs

    @extend_schema(parameters=[OpenApiParameter("ticket", int, required=False)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- the tenant's escalation policy ---------------------------------------------------------


class LevelIO(serializers.Serializer):
    level = serializers.IntegerField(min_value=0, max_value=20)
    offset_minutes = serializers.IntegerField(min_value=0, max_value=60 * 24 * 30, default=0)
    recipients = serializers.ListField(
        child=serializers.ChoiceField(choices=EscalationRole.choices), max_length=10
    )
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=NoticeChannel.choices), required=False, default=list
    )
    metrics = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        default=list,
        help_text="Metrics the level applies to (first_response, next_response, resolution); "
        "empty: every metric.",
    )
    active = serializers.BooleanField(required=False, default=True)

    def validate_metrics(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(Metric.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown metrics: {', '.join(unknown)}.")
        return value


class EscalationPolicyIO(serializers.Serializer):
    distribution_emails = serializers.ListField(
        child=serializers.EmailField(), required=False, max_length=50
    )
    quiet_hours_enabled = serializers.BooleanField(required=False)
    quiet_hours_start = serializers.IntegerField(min_value=0, max_value=1440, required=False)
    quiet_hours_end = serializers.IntegerField(min_value=0, max_value=1440, required=False)
    urgent_max_rank = serializers.IntegerField(min_value=0, max_value=100, required=False)
    repage_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    max_pages = serializers.IntegerField(min_value=1, max_value=100, required=False)
    customer_escalation_enabled = serializers.BooleanField(required=False)
    levels = LevelIO(many=True, required=False)


def _policy_output(policy: EscalationPolicy, rules: list[EscalationRule]) -> dict[str, Any]:
    return {
        "distribution_emails": list(policy.distribution_emails),
        "quiet_hours_enabled": policy.quiet_hours_enabled,
        "quiet_hours_start": policy.quiet_hours_start,
        "quiet_hours_end": policy.quiet_hours_end,
        "urgent_max_rank": policy.urgent_max_rank,
        "repage_minutes": policy.repage_minutes,
        "max_pages": policy.max_pages,
        "customer_escalation_enabled": policy.customer_escalation_enabled,
        "levels": [
            {
                "level": r.level,
                "offset_minutes": r.offset_minutes,
                "recipients": list(r.recipients),
                "channels": list(r.channels),
                "metrics": list(r.metrics),
                "active": r.active,
            }
            for r in rules
        ],
    }


class EscalationPolicyView(TenantAPIMixin, generics.GenericAPIView):
    """The tenant's escalation chain (level 0 = warning at the target's warning share; level n
    at due + offset), quiet hours, re-paging and customer escalation. Staff read; admins
    write (``levels``, when given, replaces the chain)."""

    model = EscalationPolicy
    serializer_class = EscalationPolicyIO
    permission_classes: PermissionClasses = [IsStaffMember, ReadMembersWriteAdmins]

    def scoped_queryset(self) -> QuerySet[EscalationPolicy]:
        return EscalationPolicy.objects.for_tenant(self.tenant)

    def get(self, request: Request) -> Response:
        return Response(_policy_output(*escalation_policy_get(tenant=self.tenant)))

    def _update(self) -> Response:
        data = EscalationPolicyIO(data=self.request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        levels = values.pop("levels", None)
        escalation_policy_update(
            tenant=self.tenant,
            levels=[dict(lv) for lv in levels] if levels is not None else None,
            **values,
        )
        return Response(_policy_output(*escalation_policy_get(tenant=self.tenant)))

    @extend_schema(request=EscalationPolicyIO, responses=EscalationPolicyIO)
    def put(self, request: Request) -> Response:
        return self._update()

    @extend_schema(request=EscalationPolicyIO, responses=EscalationPolicyIO)
    def patch(self, request: Request) -> Response:
        return self._update()


# --- on call --------------------------------------------------------------------------------------


class OnCallIO(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    membership = TenantPrimaryKeyField(Membership)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, default=list
    )
    start_minute = serializers.IntegerField(min_value=0, max_value=1440, default=0)
    end_minute = serializers.IntegerField(min_value=0, max_value=1440, default=1440)
    pager_address = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    active = serializers.BooleanField(required=False, default=True)

    def to_representation(self, entry: OnCallEntry) -> dict[str, Any]:
        return {
            "id": entry.pk,
            "membership": entry.membership_id,
            "weekdays": list(entry.weekdays),
            "start_minute": entry.start_minute,
            "end_minute": entry.end_minute,
            "pager_address": entry.pager_address,
            "active": entry.active,
        }


class OnCallMixin(TenantAPIMixin):
    model = OnCallEntry
    permission_classes: PermissionClasses = [IsStaffMember, ReadMembersWriteAdmins]

    def scoped_queryset(self) -> QuerySet[OnCallEntry]:
        return OnCallEntry.objects.for_tenant(self.tenant).order_by("id")


class OnCallListView(OnCallMixin, generics.ListAPIView):
    """The on-call roster (staff read, admins write). No entry covering an instant means
    every agent is paged then."""

    serializer_class = OnCallIO

    @extend_schema(request=OnCallIO, responses={201: OnCallIO})
    def post(self, request: Request) -> Response:
        data = OnCallIO(data=request.data, context={"tenant": self.tenant})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("active", None)
        entry = on_call_entry_create(tenant=self.tenant, **values)
        return Response(OnCallIO(entry).data, status=status.HTTP_201_CREATED)


class OnCallDetailView(OnCallMixin, generics.RetrieveAPIView):
    serializer_class = OnCallIO

    @extend_schema(request=OnCallIO, responses=OnCallIO)
    def patch(self, request: Request, pk: int) -> Response:
        entry = get_object_or_404(self.scoped_queryset(), pk=pk)
        data = OnCallIO(data=request.data, partial=True, context={"tenant": self.tenant})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "membership" in values and values.pop("membership").pk != entry.membership_id:
            raise exceptions.ValidationError({"membership": "Create a new entry instead."})
        return Response(OnCallIO(on_call_entry_update(entry=entry, **values)).data)

    def delete(self, request: Request, pk: int) -> Response:
        on_call_entry_delete(entry=get_object_or_404(self.scoped_queryset(), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- emergency pages ------------------------------------------------------------------------------


class PageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.IntegerField()
    reason = serializers.CharField()
    opened_at = serializers.DateTimeField()
    rounds = serializers.IntegerField()
    last_paged_at = serializers.DateTimeField(allow_null=True)
    next_page_at = serializers.DateTimeField(allow_null=True)
    paged = serializers.ListField(child=serializers.CharField())
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.IntegerField(allow_null=True)
    downgraded_at = serializers.DateTimeField(allow_null=True)
    downgraded_by = serializers.IntegerField(allow_null=True)

    def to_representation(self, page: EmergencyPage) -> dict[str, Any]:
        return {
            "id": page.pk,
            "ticket": page.ticket_id,
            "reason": page.reason,
            "opened_at": utc_iso(page.opened_at),
            "rounds": page.rounds,
            "last_paged_at": utc_iso(page.last_paged_at),
            "next_page_at": utc_iso(page.next_page_at),
            "paged": list(page.paged),
            "acknowledged_at": utc_iso(page.acknowledged_at),
            "acknowledged_by": page.acknowledged_by_id,
            "downgraded_at": utc_iso(page.downgraded_at),
            "downgraded_by": page.downgraded_by_id,
        }


class PageMixin(TenantAPIMixin):
    model = EmergencyPage
    permission_classes: PermissionClasses = [IsStaffMember]

    def scoped_queryset(self) -> QuerySet[EmergencyPage]:
        return EmergencyPage.objects.for_tenant(self.tenant)

    def page(self, pk: int) -> EmergencyPage:
        return page_get(tenant=self.tenant, membership=self.membership, page_id=pk)


class PageListView(PageMixin, generics.ListAPIView):
    """Emergency pages (staff), newest first."""

    serializer_class = PageOutput


class PageDetailView(PageMixin, generics.RetrieveAPIView):
    serializer_class = PageOutput


class PageAcknowledgeView(PageMixin, generics.GenericAPIView):
    """GET: the page. POST: "I have it" — stops the re-paging (the first acknowledgement
    counts)."""

    serializer_class = PageOutput

    def get(self, request: Request, pk: int) -> Response:
        return Response(PageOutput(self.page(pk)).data)

    @extend_schema(request=None, responses=PageOutput)
    def post(self, request: Request, pk: int) -> Response:
        page = page_acknowledge(page=self.page(pk), by=self.membership)
        return Response(PageOutput(page).data)


class PageDowngradeView(PageMixin, generics.GenericAPIView):
    """GET: the page. POST: not an emergency — stops paging; the ticket becomes billable when
    its organization has no active contract (seed 002)."""

    serializer_class = PageOutput

    def get(self, request: Request, pk: int) -> Response:
        return Response(PageOutput(self.page(pk)).data)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "PageDowngraded", {"page": PageOutput(), "billable": serializers.BooleanField()}
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        page = self.page(pk)
        ticket = Ticket.objects.for_tenant(self.tenant).select_related("tenant", "organization")
        ticket_row = ticket.get(pk=page.ticket_id)
        emergency_downgrade(ticket=ticket_row, by=self.membership)
        page.refresh_from_db()
        return Response(
            {
                "page": PageOutput(page).data,
                "billable": bool(getattr(ticket_row, "billable", False)),
            }
        )
