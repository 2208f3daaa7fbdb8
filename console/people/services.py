"""Writes the people area of the console needs that the owning apps do not offer yet: inviting
staff, changing a staff member's role, deactivating staff, rotating a webhook's signing secret,
editing and deleting routing rules. Each keeps the owning app's invariants (tenant checks, the
membership's shape constraints) and is keyword-only, like the services it sits next to."""

from __future__ import annotations

import secrets

from allauth.account.forms import ResetPasswordForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from channels.webhooks.models import WebhookSubscription
from helpdesk.configcache import config_changed
from helpdesk.models import Membership, Tenant
from helpdesk.services import membership_add, user_get_or_create
from sla.models import Severity
from tickets.models import ProductArea, RoutingRule, Team, TeamMember, Ticket, TicketType
from tickets.services.catalog import check_tenant
from tickets.services.teams import agent_update

STAFF_ROLES = (Membership.Role.ADMIN, Membership.Role.AGENT)


def _check_staff(tenant: Tenant, member: Membership) -> None:
    if member.tenant_id != tenant.pk or member.role not in STAFF_ROLES:
        raise ValidationError({"agent": "Unknown member of staff."})


def _other_active_admins(tenant: Tenant, member: Membership) -> int:
    # Lock the tenant's admin rows: two admins demoting each other at once must not both pass.
    admins = (
        Membership.objects.for_tenant(tenant)
        .select_for_update()
        .filter(role=Membership.Role.ADMIN, is_active=True)
        .exclude(pk=member.pk)
    )
    return len(list(admins.values_list("pk", flat=True)))


@transaction.atomic
def agent_invite(
    *,
    tenant: Tenant,
    email: str,
    name: str = "",
    role: str = Membership.Role.AGENT,
    tier: str = Membership.Tier.AGENT,
) -> tuple[Membership, bool]:
    """Make the person at ``email`` a member of staff (creating the global user, without a
    password, if needed). Returns the membership and whether the user still has to choose a
    password (then the caller sends the password-reset link: :func:`agent_send_password_link`).

    Refuses a current contact of the tenant (a customer cannot also be staff here) and an
    active member of staff (nothing to invite)."""
    if role not in STAFF_ROLES:
        raise ValidationError({"role": "Choose admin or agent."})
    if role == Membership.Role.AGENT and tier not in Membership.Tier.values:
        raise ValidationError({"tier": "Unknown tier."})
    user = user_get_or_create(email=email, name=name.strip())
    existing = Membership.objects.for_tenant(tenant).filter(user=user).first()
    if existing is not None and existing.role == Membership.Role.CUSTOMER and existing.is_active:
        raise ValidationError({"email": "This person is a customer contact here."})
    if existing is not None and existing.role in STAFF_ROLES and existing.is_active:
        raise ValidationError({"email": "This person is already a member of staff here."})
    membership = membership_add(
        tenant=tenant,
        user=user,
        role=role,
        tier=tier if role == Membership.Role.AGENT else "",
    )
    if not membership.is_available:
        membership.is_available = True
        membership.save(update_fields=["is_available"])
    return membership, not user.has_usable_password()


def agent_send_password_link(*, request: HttpRequest, membership: Membership) -> None:
    """Email ``membership``'s user allauth's password-reset link, built on the request's host
    (the tenant's), so the new agent chooses a password and signs in there."""
    form = ResetPasswordForm(data={"email": membership.user.email})
    if form.is_valid():
        form.save(request)


@transaction.atomic
def staff_update(
    *,
    tenant: Tenant,
    member: Membership,
    by: Membership,
    role: str | None = None,
    tier: str | None = None,
    is_available: bool | None = None,
) -> Membership:
    """Change a staff member's role (admin or agent), tier (agents) and availability.

    Never leaves the tenant without an active admin, and an admin does not demote themselves
    (another admin must: nobody locks themselves out by a slip)."""
    _check_staff(tenant, member)
    if role is not None and role != member.role:
        if role not in STAFF_ROLES:
            raise ValidationError({"role": "Choose admin or agent."})
        if member.role == Membership.Role.ADMIN:
            if member.pk == by.pk:
                raise ValidationError({"role": "You cannot remove your own admin role."})
            if member.is_active and _other_active_admins(tenant, member) == 0:
                raise ValidationError({"role": "The last admin cannot stop being an admin."})
        member.role = role
        member.tier = (tier or Membership.Tier.AGENT) if role == Membership.Role.AGENT else ""
        member.save(update_fields=["role", "tier"])
        tier = None
    if member.role != Membership.Role.AGENT:
        tier = None
    return agent_update(agent=member, tier=tier, is_available=is_available)


@transaction.atomic
def staff_deactivate(*, tenant: Tenant, member: Membership, by: Membership) -> Membership:
    """Remove a member of staff from the tenant: the membership is deactivated (their tickets,
    messages and history stay; they can no longer sign in here, their API tokens stop working,
    they leave their teams and get no assignments). Never yourself; never the last admin."""
    _check_staff(tenant, member)
    if member.pk == by.pk:
        raise ValidationError({"agent": "You cannot deactivate yourself."})
    if member.role == Membership.Role.ADMIN and _other_active_admins(tenant, member) == 0:
        raise ValidationError({"agent": "The last admin cannot be deactivated."})
    if member.is_active:
        member.is_active = False
        member.is_available = False
        member.save(update_fields=["is_active", "is_available"])
        TeamMember.objects.for_tenant(tenant).filter(membership=member).delete()
    return member


@transaction.atomic
def webhook_secret_rotate(*, subscription: WebhookSubscription) -> str:
    """Give ``subscription`` a new signing secret and return it (shown to the admin once).
    Deliveries sent from now on are signed with it; the old secret stops verifying."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription.secret = secret
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=["secret", "updated_at"])
    return secret


def _check_rule(
    tenant_id: int,
    *,
    team: Team | None,
    severity: Severity | None,
    product_area: ProductArea | None,
    ticket_type: TicketType | None,
    channel: str,
) -> None:
    check_tenant(
        tenant_id, team=team, severity=severity, product_area=product_area, ticket_type=ticket_type
    )
    if channel and channel not in Ticket.Channel.values:
        raise ValidationError({"channel": "Unknown channel."})


def routing_rule_update(
    *,
    rule: RoutingRule,
    team: Team,
    position: int,
    name: str,
    severity: Severity | None,
    product_area: ProductArea | None,
    ticket_type: TicketType | None,
    channel: str,
    is_active: bool,
) -> RoutingRule:
    """Replace every field of ``rule`` (the edit form sends them all)."""
    _check_rule(
        rule.tenant_id,
        team=team,
        severity=severity,
        product_area=product_area,
        ticket_type=ticket_type,
        channel=channel,
    )
    rule.team = team
    rule.position = position
    rule.name = name.strip()
    rule.severity = severity
    rule.product_area = product_area
    rule.ticket_type = ticket_type
    rule.channel = channel
    rule.is_active = is_active
    rule.save(
        update_fields=[
            "team",
            "position",
            "name",
            "severity",
            "product_area",
            "ticket_type",
            "channel",
            "is_active",
        ]
    )
    return rule


def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


@transaction.atomic
def team_areas_set(*, team: Team, areas: list[ProductArea]) -> None:
    """Make ``areas`` exactly the product areas whose experts are ``team`` (skills routing): the
    given ones move to this team, this team's others are left without a team."""
    check_tenant(team.tenant_id, **{f"area{a.pk}": a for a in areas})
    wanted = {a.pk for a in areas}
    config_changed(team.tenant_id)  # QuerySet.update sends no signal
    own = ProductArea.objects.for_tenant(team.tenant_id)
    own.filter(team=team).exclude(pk__in=wanted).update(team=None)
    own.filter(pk__in=wanted).exclude(team=team).update(team=team)


@transaction.atomic
def team_lead_set(*, team: Team, lead: Membership) -> None:
    """Make ``lead`` (an agent of the team's tenant) a member of ``team`` with the team-lead
    tier, which is what escalation's team-lead level reaches (sla.escalation.rules).
    Managers and principals are not team leads: escalation reaches them at their own levels."""
    if lead.tenant_id != team.tenant_id or lead.role != Membership.Role.AGENT:
        raise ValidationError({"lead": "Choose an agent of this desk."})
    if lead.tier not in (Membership.Tier.AGENT, Membership.Tier.TEAM_LEAD):
        raise ValidationError({"lead": "Managers and principals cannot lead a team."})
    TeamMember.objects.get_or_create(tenant_id=team.tenant_id, team=team, membership=lead)
    if lead.tier == Membership.Tier.AGENT:
        agent_update(agent=lead, tier=Membership.Tier.TEAM_LEAD)


@transaction.atomic
def agent_teams_set(*, agent: Membership, teams: list[Team]) -> None:
    """Make ``teams`` (of the agent's tenant) exactly the teams ``agent`` belongs to."""
    if not agent.is_staff_member or not agent.is_active:
        raise ValidationError({"teams": "Only active agents and admins join teams."})
    check_tenant(agent.tenant_id, **{f"team{t.pk}": t for t in teams})
    wanted = {t.pk for t in teams}
    rows = TeamMember.objects.for_tenant(agent.tenant_id).filter(membership=agent)
    rows.exclude(team_id__in=wanted).delete()
    have = set(rows.values_list("team_id", flat=True))
    TeamMember.objects.bulk_create(
        [
            TeamMember(tenant_id=agent.tenant_id, team_id=pk, membership=agent)
            for pk in sorted(wanted - have)
        ]
    )
