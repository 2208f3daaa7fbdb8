"""Teams, their members, agents' tier and availability, and routing rules."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from helpdesk.models import Membership, Tenant
from sla.models import BusinessCalendar, Severity

from ..models import ProductArea, RoutingRule, Team, TeamMember, Ticket, TicketType
from .catalog import check_tenant


def _emails(emails: Sequence[str] | None) -> list[str]:
    out = []
    for raw in emails or []:
        email = str(raw).strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                {"escalation_emails": f"'{raw}' is not an email address."}
            ) from None
        if email not in out:
            out.append(email)
    return out


def _check_members(tenant_id: int, members: Sequence[Membership]) -> None:
    for member in members:
        if member.tenant_id != tenant_id:
            raise ValidationError({"members": "Unknown member."})
        if not member.is_staff_member:
            raise ValidationError({"members": "Only agents and admins join teams."})


@transaction.atomic
def team_members_set(*, team: Team, members: Sequence[Membership]) -> Team:
    """Make ``members`` (staff of the team's tenant) the team's members."""
    _check_members(team.tenant_id, members)
    wanted = {m.pk for m in members}
    TeamMember.objects.filter(team=team).exclude(membership_id__in=wanted).delete()
    have = set(TeamMember.objects.filter(team=team).values_list("membership_id", flat=True))
    TeamMember.objects.bulk_create(
        [
            TeamMember(tenant_id=team.tenant_id, team=team, membership_id=pk)
            for pk in sorted(wanted - have)
        ]
    )
    return team


@transaction.atomic
def team_create(
    *,
    tenant: Tenant,
    name: str,
    description: str = "",
    calendar: BusinessCalendar | None = None,
    escalation_emails: Sequence[str] | None = None,
    assignment_strategy: str = Team.Strategy.MANUAL,
    members: Sequence[Membership] = (),
) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A name is required."})
    check_tenant(tenant, calendar=calendar)
    if assignment_strategy not in Team.Strategy.values:
        raise ValidationError({"assignment_strategy": "Unknown strategy."})
    if Team.objects.for_tenant(tenant).filter(name=name).exists():
        raise ValidationError({"name": "A team with this name already exists."})
    team = Team.objects.create(
        tenant=tenant,
        name=name,
        description=description,
        calendar=calendar,
        escalation_emails=_emails(escalation_emails),
        assignment_strategy=assignment_strategy,
    )
    team_members_set(team=team, members=members)
    return team


@transaction.atomic
def team_update(
    *,
    team: Team,
    name: str | None = None,
    description: str | None = None,
    calendar: BusinessCalendar | None = None,
    clear_calendar: bool = False,
    escalation_emails: Sequence[str] | None = None,
    assignment_strategy: str | None = None,
    members: Sequence[Membership] | None = None,
) -> Team:
    """Change what is given (``clear_calendar`` removes the team's own calendar)."""
    check_tenant(team.tenant_id, calendar=calendar)
    fields = []
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": "A name is required."})
        clash = Team.objects.for_tenant(team.tenant_id).filter(name=name).exclude(pk=team.pk)
        if clash.exists():
            raise ValidationError({"name": "A team with this name already exists."})
        team.name = name
        fields.append("name")
    if description is not None:
        team.description = description
        fields.append("description")
    if clear_calendar or calendar is not None:
        team.calendar = None if clear_calendar else calendar
        fields.append("calendar")
    if escalation_emails is not None:
        team.escalation_emails = _emails(escalation_emails)
        fields.append("escalation_emails")
    if assignment_strategy is not None:
        if assignment_strategy not in Team.Strategy.values:
            raise ValidationError({"assignment_strategy": "Unknown strategy."})
        team.assignment_strategy = assignment_strategy
        fields.append("assignment_strategy")
    if fields:
        team.save(update_fields=fields)
    if members is not None:
        team_members_set(team=team, members=members)
    return team


@transaction.atomic
def team_delete(*, team: Team) -> None:
    """Delete a team: its tickets stay, without a team; its routing rules go."""
    Ticket.objects.for_tenant(team.tenant_id).filter(team=team).update(team=None)
    team.delete()


def agent_update(
    *, agent: Membership, tier: str | None = None, is_available: bool | None = None
) -> Membership:
    """Set an agent's tier (agents only: admins carry none) and availability for routing.

    Preconditions: the caller is an admin of the agent's tenant."""
    if not agent.is_staff_member:
        raise ValidationError({"agent": "Not an agent."})
    fields = []
    if tier is not None:
        if agent.role != Membership.Role.AGENT:
            raise ValidationError({"tier": "Only agents have a tier."})
        if tier not in Membership.Tier.values:
            raise ValidationError({"tier": f"One of: {', '.join(Membership.Tier.values)}."})
        agent.tier = tier
        fields.append("tier")
    if is_available is not None:
        agent.is_available = is_available
        fields.append("is_available")
    if fields:
        agent.save(update_fields=fields)
    return agent


def routing_rule_create(
    *,
    tenant: Tenant,
    team: Team,
    position: int = 0,
    name: str = "",
    severity: Severity | None = None,
    product_area: ProductArea | None = None,
    ticket_type: TicketType | None = None,
    channel: str = "",
) -> RoutingRule:
    """A routing rule: every given condition must hold; the first matching rule by position
    sends the ticket to ``team``."""
    check_tenant(
        tenant, team=team, severity=severity, product_area=product_area, ticket_type=ticket_type
    )
    if channel and channel not in Ticket.Channel.values:
        raise ValidationError({"channel": "Unknown channel."})
    return RoutingRule.objects.create(
        tenant=tenant,
        team=team,
        position=position,
        name=name,
        severity=severity,
        product_area=product_area,
        ticket_type=ticket_type,
        channel=channel,
    )
