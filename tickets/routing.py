"""Routing: which team a ticket goes to, and which of the team's agents gets it.

1. Routing rules, by position, first match wins (seed 003: severity 1 goes to Technical
   Support only). A rule's conditions are ANDed; a rule without conditions is a catch-all.
2. Otherwise the product area's team (the subject-matter experts: skills routing).
3. Within the team, by the team's strategy: manual (nobody: the team's queue), round-robin, or
   least-loaded (fewest unsolved tickets) among the team's *available* agents — active staff
   memberships with ``is_available`` set; agents away are skipped.
"""

from __future__ import annotations

import copy

from django.db.models import Count, Q, QuerySet

from helpdesk import configcache
from helpdesk.models import Membership

from .models import RoutingRule, Team, Ticket

UNSOLVED = (
    Ticket.Status.NEW,
    Ticket.Status.OPEN,
    Ticket.Status.PENDING,
    Ticket.Status.ON_HOLD,
)


def _matches(rule: RoutingRule, ticket: Ticket) -> bool:
    return (
        (rule.severity_id is None or rule.severity_id == ticket.severity_id)
        and (rule.product_area_id is None or rule.product_area_id == ticket.product_area_id)
        and (rule.ticket_type_id is None or rule.ticket_type_id == ticket.type_id)
        and (not rule.channel or rule.channel == ticket.channel)
    )


def routing_rule_for(*, ticket: Ticket) -> RoutingRule | None:
    """The first active rule (by position) whose conditions hold for ``ticket`` (read-only: the
    tenant's rules are shared by requests, see helpdesk.configcache)."""
    tenant_id = ticket.tenant_id

    def load() -> list[RoutingRule]:
        return list(
            RoutingRule.objects.for_tenant(tenant_id)
            .filter(is_active=True)
            .select_related("team")
            .order_by("position", "id")
        )

    rules = configcache.cached(tenant_id, "routing_rules", load)
    return next((r for r in rules if _matches(r, ticket)), None)


def routing_team_for(*, ticket: Ticket) -> Team | None:
    """The team ``ticket`` goes to: the first matching rule's, else its product area's."""
    rule = routing_rule_for(ticket=ticket)
    if rule is not None:
        return copy.copy(rule.team)  # the rule is shared; the ticket's team is its own
    area = ticket.product_area
    if area is not None and area.team_id is not None:
        team_id = area.team_id
        return configcache.cached_row(
            ticket.tenant_id,
            ("team", team_id),
            lambda: Team.objects.for_tenant(ticket.tenant_id).filter(pk=team_id).first(),
        )
    return None


def available_agents(*, team: Team) -> QuerySet[Membership]:
    """The team's members who can take a ticket now: active, available staff."""
    return (
        Membership.objects.for_tenant(team.tenant_id)
        .filter(
            team_memberships__team=team,
            is_active=True,
            is_available=True,
            user__is_active=True,
            role__in=(Membership.Role.AGENT, Membership.Role.ADMIN),
        )
        .select_related("user")
        .order_by("id")
    )


def routing_pick_assignee(*, team: Team) -> Membership | None:
    """The agent of ``team`` who gets the next ticket, by the team's strategy (None: manual, or
    nobody available). Must run inside a transaction: the team row is locked so that two
    tickets routed at once do not both go to the same "next" agent."""
    if team.assignment_strategy == Team.Strategy.MANUAL:
        return None
    locked = Team.objects.select_for_update().get(pk=team.pk)
    agents = available_agents(team=locked)
    if locked.assignment_strategy == Team.Strategy.LEAST_LOADED:
        load = Count(
            "assigned_tickets",
            filter=Q(
                assigned_tickets__status__in=UNSOLVED,
                assigned_tickets__tenant_id=team.tenant_id,
            ),
        )
        chosen: Membership | None = agents.annotate(load=load).order_by("load", "id").first()
    else:
        candidates = list(agents)
        if not candidates:
            return None
        last = locked.last_assigned_id or 0
        chosen = next((m for m in candidates if m.pk > last), candidates[0])
    if chosen is not None:
        locked.last_assigned = chosen
        locked.save(update_fields=["last_assigned"])
        team.last_assigned = chosen
    return chosen
