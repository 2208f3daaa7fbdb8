"""/api/v1/teams/ (staff read, admins write) and /api/v1/agents/ (staff read; admins set an
agent's tier and availability)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.permissions import IsStaffMember
from helpdesk.models import Membership
from sla.api.common import TenantPrimaryKeyField
from sla.models import BusinessCalendar

from ..models import Team
from ..selectors import agents_for, teams_for
from ..services import agent_update, team_create, team_delete, team_update
from .common import AdminWrites, TenantInputMixin
from .serializers import StrictInput

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses


class TeamIO(StrictInput):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    calendar = TenantPrimaryKeyField(
        BusinessCalendar, required=False, allow_null=True, default=None
    )
    escalation_emails = serializers.ListField(
        child=serializers.EmailField(), required=False, default=list, max_length=50
    )
    assignment_strategy = serializers.ChoiceField(
        choices=Team.Strategy.choices, required=False, default=Team.Strategy.MANUAL
    )
    members = serializers.ListField(
        child=TenantPrimaryKeyField(Membership),
        required=False,
        default=list,
        help_text="Agent ids (see /agents/).",
    )

    def to_representation(self, team: Team) -> dict[str, Any]:
        return {
            "id": team.pk,
            "name": team.name,
            "description": team.description,
            "calendar": team.calendar_id,
            "escalation_emails": list(team.escalation_emails or []),
            "assignment_strategy": team.assignment_strategy,
            "members": sorted(m.membership_id for m in team.members.all()),
        }


class TeamMixin(TenantInputMixin):
    model = Team
    permission_classes: PermissionClasses = [IsStaffMember, AdminWrites]

    def scoped_queryset(self) -> QuerySet[Team]:
        return teams_for(tenant=self.tenant)


class TeamListView(TeamMixin, generics.ListAPIView):
    """Teams with their calendar, escalation list, assignment strategy and members."""

    serializer_class = TeamIO

    @extend_schema(request=TeamIO, responses={201: TeamIO})
    def post(self, request: Request) -> Response:
        team = team_create(tenant=self.tenant, **self.parse(TeamIO))
        team = self.scoped_queryset().get(pk=team.pk)
        return Response(TeamIO(team).data, status=status.HTTP_201_CREATED)


class TeamDetailView(TeamMixin, generics.RetrieveAPIView):
    serializer_class = TeamIO

    def _update(self, pk: int, partial: bool) -> Response:
        team = get_object_or_404(self.scoped_queryset(), pk=pk)
        data = self.parse(TeamIO, partial=partial)
        team_update(
            team=team,
            name=data.get("name"),
            description=data.get("description"),
            calendar=data.get("calendar"),
            clear_calendar="calendar" in data and data["calendar"] is None,
            escalation_emails=data.get("escalation_emails"),
            assignment_strategy=data.get("assignment_strategy"),
            members=data.get("members"),
        )
        return Response(TeamIO(self.scoped_queryset().get(pk=pk)).data)

    @extend_schema(request=TeamIO, responses={200: TeamIO})
    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    @extend_schema(request=TeamIO, responses={200: TeamIO})
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        team_delete(team=get_object_or_404(self.scoped_queryset(), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()
    tier = serializers.CharField(help_text="agent, team_lead, manager, principal (agents only)")
    is_available = serializers.BooleanField(help_text="Routing assigns only available agents.")
    is_active = serializers.BooleanField()
    teams = serializers.ListField(child=serializers.IntegerField())

    def to_representation(self, member: Membership) -> dict[str, Any]:
        return {
            "id": member.pk,
            "email": member.user.email,
            "name": member.user.name,
            "role": member.role,
            "tier": member.tier,
            "is_available": member.is_available,
            "is_active": member.is_active,
            "teams": sorted(t.team_id for t in member.team_memberships.all()),
        }


class AgentUpdateInput(StrictInput):
    tier = serializers.ChoiceField(choices=Membership.Tier.choices, required=False)
    is_available = serializers.BooleanField(required=False)


class AgentMixin(TenantInputMixin):
    model = Membership
    permission_classes: PermissionClasses = [IsStaffMember, AdminWrites]

    def scoped_queryset(self) -> QuerySet[Membership]:
        return agents_for(tenant=self.tenant)


class AgentListView(AgentMixin, generics.ListAPIView):
    """The tenant's agents and admins, with tier, availability and teams."""

    serializer_class = AgentOutput


class AgentDetailView(AgentMixin, generics.RetrieveAPIView):
    serializer_class = AgentOutput

    @extend_schema(request=AgentUpdateInput, responses={200: AgentOutput})
    def patch(self, request: Request, pk: int) -> Response:
        agent = get_object_or_404(self.scoped_queryset(), pk=pk)
        data = self.parse(AgentUpdateInput, partial=True)
        agent_update(agent=agent, tier=data.get("tier"), is_available=data.get("is_available"))
        return Response(AgentOutput(self.scoped_queryset().get(pk=pk)).data)
