"""/api/v1/tickets/ — list (filters), create, detail (ETag), update (If-Match), transitions,
merge and similar tickets. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.etag import check_if_match
from helpdesk.api.permissions import IsStaffMember, IsTenantMember
from helpdesk.models import Membership, email_key
from sla.models import SLAClock

from ..models import Ticket
from ..selectors import ticket_get_for_user, ticket_similar, tickets_visible_to
from ..services import (
    ALLOWED_TRANSITIONS,
    UNSET,
    ticket_add_cc,
    ticket_assign,
    ticket_create,
    ticket_merge,
    ticket_reclassify,
    ticket_remove_cc,
    ticket_transition,
    ticket_update,
)
from .common import StaffWrites, TicketChildMixin, ticket_etag, ticket_queryset
from .filters import TicketFilter
from .serializers import (
    MergeInput,
    SimilarOutput,
    TicketCreateInput,
    TicketOutput,
    TicketUpdateInput,
    TransitionInput,
)

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses

STAFF_ONLY_CREATE = ("priority", "billable", "team", "assignee")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any POST: the same key and body replay the first response (never a second "
    "ticket); the same key with another body is 422.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag you read: a stale one is 412 Precondition Failed.",
)


class TicketQuerysetMixin(TicketChildMixin):
    model = Ticket

    def scoped_queryset(self) -> Any:
        return ticket_queryset(tickets_visible_to(tenant=self.tenant, membership=self.membership))


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
        for name in STAFF_ONLY_CREATE:
            if data.get(name) is not None:
                errors[name] = "Only staff set this."
    if errors:
        raise serializers.ValidationError(errors)
    return data


def _answer_from_memory(ticket: Ticket, clocks: list[SLAClock]) -> bool:
    """Whether the created ticket and its clocks, as they were inserted, are what reading them
    back would give (it saves three queries). Not when an alarm was due at once (a worker may
    have fired it, and its escalation belongs in the answer), nor when a custom field holds a
    float (PostgreSQL's jsonb may write it back differently, e.g. 1e300 as an integer)."""
    now = timezone.now()
    if any(c.next_alarm_at is not None and c.next_alarm_at <= now for c in clocks):
        return False
    return not any(isinstance(v, float) for v in ticket.custom_fields.values())


class TicketListView(TicketQuerysetMixin, generics.ListAPIView):
    """Tickets visible to the caller, newest first (staff: all of the tenant's; an
    organization's owner: the organization's; other contacts: their own). POST files one (staff,
    and customers for themselves and their own organization)."""

    serializer_class = TicketOutput
    filterset_class = TicketFilter

    @extend_schema(
        request=TicketCreateInput,
        responses={201: TicketOutput},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request: Request) -> Response:
        membership = self.membership
        values = _check_create(self.parse(TicketCreateInput), membership)
        if membership.is_staff_member:
            requester = (
                Membership.objects.for_tenant(self.tenant)
                .filter(user__email=email_key(values["requester_email"]), role="customer")
                .select_related("user")
                .first()
            )
            requester_user = requester.user if requester is not None else None
        else:
            requester, requester_user = membership, membership.user
        clocks: list[SLAClock] = []
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
            ticket_type=values["type"],
            business_impact=values["business_impact"],
            business_impact_text=values["business_impact_text"],
            product_area=values["product_area"],
            custom_fields=values["custom_fields"],
            requested_due_date=values["requested_due_date"],
            priority=values["priority"],
            billable=values["billable"],
            team=values["team"],
            assignee=values["assignee"],
            by=membership,
            requester_membership=requester,
            started_clocks=clocks,
        )
        if _answer_from_memory(ticket, clocks):
            output = TicketOutput(ticket, context={"sla_clocks": clocks, "escalations": []})
        else:
            ticket = self.ticket_fresh(ticket.pk)
            output = TicketOutput(ticket)
        return Response(
            output.data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": ticket_etag(ticket), "Location": f"/api/v1/tickets/{ticket.pk}/"},
        )


class TicketDetailView(TicketQuerysetMixin, generics.GenericAPIView):
    """One ticket, with an ``ETag``. PATCH (staff) takes an optional ``If-Match``: a stale tag
    is 412 Precondition Failed. Customers read only."""

    permission_classes: PermissionClasses = [IsTenantMember, StaffWrites]
    serializer_class = TicketOutput
    lookup_url_kwarg = "pk"

    def get(self, request: Request, pk: int) -> Response:
        ticket = self.get_object()
        return Response(TicketOutput(ticket).data, headers={"ETag": ticket_etag(ticket)})

    @extend_schema(request=TicketUpdateInput, responses={200: TicketOutput}, parameters=[IF_MATCH])
    def patch(self, request: Request, pk: int) -> Response:
        by = self.membership
        with transaction.atomic():
            ticket = ticket_get_for_user(
                tenant=self.tenant, membership=by, ticket_id=pk, write=True
            )
            check_if_match(request, ticket_etag(ticket))
            data = self.parse(TicketUpdateInput)
            if "severity" in data:
                ticket_reclassify(ticket=ticket, severity=data.pop("severity"), by=by)
            if "assignee" in data or "team" in data:
                ticket_assign(
                    ticket=ticket,
                    assignee=data.pop("assignee", UNSET),
                    team=data.pop("team", UNSET),
                    by=by,
                )
            if "cc" in data:
                wanted = [e.lower() for e in data.pop("cc")]
                ticket_remove_cc(
                    ticket=ticket, emails=[e for e in ticket.cc if e not in wanted], by=by
                )
                ticket_add_cc(ticket=ticket, emails=wanted, by=by)
            if data:
                ticket_update(
                    ticket=ticket,
                    by=by,
                    subject=data.get("subject", UNSET),
                    priority=data.get("priority", UNSET),
                    ticket_type=data.get("type", UNSET),
                    business_impact=data.get("business_impact", UNSET),
                    business_impact_text=data.get("business_impact_text", UNSET),
                    product_area=data.get("product_area", UNSET),
                    requested_due_date=data.get("requested_due_date", UNSET),
                    billable=data.get("billable", UNSET),
                    custom_fields=data.get("custom_fields", UNSET),
                )
        ticket = self.ticket_fresh(pk)
        return Response(TicketOutput(ticket).data, headers={"ETag": ticket_etag(ticket)})


_TRANSITIONS_OUTPUT = inline_serializer(
    "TicketTransitions",
    {
        "status": serializers.CharField(),
        "allowed": serializers.ListField(child=serializers.CharField()),
    },
)


class TicketTransitionView(TicketChildMixin, generics.GenericAPIView):
    """GET: the ticket's status and where it may go. POST {"status"} (staff) moves it by the
    transitions table; customers reopen a solved ticket by replying."""

    model = Ticket
    permission_classes: PermissionClasses = [IsTenantMember, StaffWrites]
    serializer_class = TransitionInput

    def scoped_queryset(self) -> Any:
        return tickets_visible_to(tenant=self.tenant, membership=self.membership)

    @extend_schema(responses={200: _TRANSITIONS_OUTPUT})
    def get(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.ticket()
        return Response(
            {"status": ticket.status, "allowed": sorted(ALLOWED_TRANSITIONS[ticket.status])},
            headers={"ETag": ticket_etag(ticket)},
        )

    @extend_schema(request=TransitionInput, responses={200: TicketOutput}, parameters=[IF_MATCH])
    def post(self, request: Request, ticket_pk: int) -> Response:
        with transaction.atomic():
            ticket = self.ticket(write=True)
            check_if_match(request, ticket_etag(ticket))
            data = self.parse(TransitionInput)
            ticket_transition(ticket=ticket, status=data["status"], by=self.membership)
        ticket = self.ticket_fresh(ticket_pk)
        return Response(TicketOutput(ticket).data, headers={"ETag": ticket_etag(ticket)})


_MERGE_OUTPUT = inline_serializer(
    "TicketMergeState",
    {
        "merged_into": serializers.IntegerField(allow_null=True),
        "merged_from": serializers.ListField(child=serializers.IntegerField()),
    },
)


class TicketMergeView(TicketChildMixin, generics.GenericAPIView):
    """GET (staff): what the ticket was merged into and from. POST {"into", "filed_without_request"}
    (staff) merges this ticket — the duplicate — into ``into``; answers the master."""

    model = Ticket
    permission_classes: PermissionClasses = [IsStaffMember]
    serializer_class = MergeInput

    def scoped_queryset(self) -> Any:
        return tickets_visible_to(tenant=self.tenant, membership=self.membership)

    @extend_schema(responses={200: _MERGE_OUTPUT})
    def get(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.ticket()
        merged_from = list(
            Ticket.objects.for_tenant(self.tenant)
            .filter(merged_into=ticket)
            .order_by("id")
            .values_list("id", flat=True)
        )
        return Response({"merged_into": ticket.merged_into_id, "merged_from": merged_from})

    @extend_schema(request=MergeInput, responses={200: TicketOutput})
    def post(self, request: Request, ticket_pk: int) -> Response:
        duplicate = self.ticket()
        data = self.parse(MergeInput)
        master = ticket_merge(
            duplicate=duplicate,
            master=data["into"],
            by=self.membership,
            filed_without_request=data["filed_without_request"],
        )
        master = self.ticket_fresh(master.pk)
        return Response(TicketOutput(master).data, headers={"ETag": ticket_etag(master)})


class TicketSimilarView(TicketChildMixin, generics.GenericAPIView):
    """Tickets whose subject resembles this one's (staff): merge suggestions, best first."""

    model = Ticket
    permission_classes: PermissionClasses = [IsStaffMember]
    serializer_class = SimilarOutput
    pagination_class = None

    def scoped_queryset(self) -> Any:
        return tickets_visible_to(tenant=self.tenant, membership=self.membership)

    @extend_schema(responses={200: SimilarOutput(many=True)})
    def get(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.ticket()
        similar = ticket_similar(ticket=ticket)
        return Response(
            [
                {
                    "id": t.pk,
                    "reference": t.reference,
                    "subject": t.subject,
                    "status": t.status,
                    "created_at": serializers.DateTimeField().to_representation(t.created_at),
                }
                for t in similar
            ]
        )
