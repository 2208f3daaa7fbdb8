"""Routing: rules first (seed 003), then the product area's team, then the team's strategy among
its available agents."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.models import Membership
from sla.models import Severity
from sla.policies import load_policy_template
from tests.conftest import World
from tests.factories import MembershipFactory, ProductAreaFactory, SeverityFactory, TeamFactory
from tickets.models import Team
from tickets.services import (
    agent_update,
    routing_rule_create,
    team_members_set,
    ticket_reclassify,
    ticket_transition,
)

from .conftest import new_ticket


def agents(world: World, n: int) -> list[Membership]:
    return [
        MembershipFactory(
            tenant=world.tenant, role="agent", user__email=f"r{i}@{world.tenant.slug}.test"
        )
        for i in range(n)
    ]


def test_seed_003_severity_1_goes_to_technical_support_only(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="otcommerce")
    critical = Severity.objects.get(tenant=alpha.tenant, key="critical")
    normal = Severity.objects.get(tenant=alpha.tenant, key="normal")
    ts = Team.objects.get(tenant=alpha.tenant, name="Technical Support")
    cs = Team.objects.get(tenant=alpha.tenant, name="Customer Support")
    assert ts.calendar is not None and ts.calendar.name == "Technical Support"

    assert new_ticket(alpha, severity=critical).team == ts
    assert new_ticket(alpha, severity=normal).team == cs
    assert new_ticket(alpha).team == cs  # the catch-all
    # A re-classification to severity 1 moves the ticket to Technical Support.
    ticket = new_ticket(alpha, severity=normal)
    ticket_reclassify(ticket=ticket, severity=critical, by=alpha.agent)
    ticket.refresh_from_db()
    assert ticket.team == ts
    team_events: Any = ticket.events.filter(kind="team").order_by("id")
    assert [e.after["name"] for e in team_events] == ["Customer Support", "Technical Support"]


def test_rules_first_then_product_area(alpha: World) -> None:
    api_team = TeamFactory(tenant=alpha.tenant, name="API experts")
    mobile_team = TeamFactory(tenant=alpha.tenant, name="Mobile experts")
    api_area = ProductAreaFactory(tenant=alpha.tenant, key="api", team=api_team)
    mobile = ProductAreaFactory(tenant=alpha.tenant, key="mobile", team=mobile_team)
    urgent = SeverityFactory(tenant=alpha.tenant)
    routing_rule_create(
        tenant=alpha.tenant, team=mobile_team, position=1, severity=urgent, product_area=api_area
    )
    routing_rule_create(tenant=alpha.tenant, team=api_team, position=2, channel="phone")
    assert new_ticket(alpha, product_area=api_area).team == api_team
    assert new_ticket(alpha, product_area=mobile).team == mobile_team
    assert new_ticket(alpha, product_area=api_area, severity=urgent).team == mobile_team
    assert new_ticket(alpha, product_area=mobile, channel="phone").team == api_team
    assert new_ticket(alpha).team is None
    # An explicit team wins over routing.
    assert new_ticket(alpha, product_area=api_area, team=mobile_team).team == mobile_team


def test_round_robin_skips_unavailable_agents(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant, assignment_strategy="round_robin")
    a, b, c = agents(alpha, 3)
    team_members_set(team=team, members=[a, b, c])
    area = ProductAreaFactory(tenant=alpha.tenant, team=team)
    picked = [new_ticket(alpha, product_area=area).assignee for _ in range(4)]
    assert picked == [a, b, c, a]
    agent_update(agent=b, is_available=False)
    picked = [new_ticket(alpha, product_area=area).assignee for _ in range(3)]
    assert picked == [c, a, c]
    ticket = new_ticket(alpha, product_area=area)
    assert ticket.events.filter(kind="assignee", actor__isnull=True).exists()  # the system


def test_least_loaded_picks_the_agent_with_fewest_unsolved(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant, assignment_strategy="least_loaded")
    a, b = agents(alpha, 2)
    team_members_set(team=team, members=[a, b])
    area = ProductAreaFactory(tenant=alpha.tenant, team=team)
    first = new_ticket(alpha, product_area=area)
    second = new_ticket(alpha, product_area=area)
    third = new_ticket(alpha, product_area=area)
    assert [first.assignee, second.assignee, third.assignee] == [a, b, a]
    # Solved tickets are not load.
    for ticket in (first, third):
        ticket_transition(ticket=ticket, status="solved", by=alpha.agent)
    assert new_ticket(alpha, product_area=area).assignee == a
    agent_update(agent=a, is_available=False)
    assert new_ticket(alpha, product_area=area).assignee == b


@pytest.mark.parametrize("strategy", ["manual", "round_robin", "least_loaded"])
def test_nobody_available_leaves_the_ticket_in_the_team_queue(alpha: World, strategy: str) -> None:
    team = TeamFactory(tenant=alpha.tenant, assignment_strategy=strategy)
    (a,) = agents(alpha, 1)
    team_members_set(team=team, members=[a])
    agent_update(agent=a, is_available=False)
    area = ProductAreaFactory(tenant=alpha.tenant, team=team)
    ticket: Any = new_ticket(alpha, product_area=area)
    assert (ticket.team, ticket.assignee) == (team, None)


def test_inactive_members_and_customers_never_get_tickets(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant, assignment_strategy="round_robin")
    (a,) = agents(alpha, 1)
    team_members_set(team=team, members=[a])
    Membership.objects.filter(pk=a.pk).update(is_active=False)
    area = ProductAreaFactory(tenant=alpha.tenant, team=team)
    assert new_ticket(alpha, product_area=area).assignee is None
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        team_members_set(team=team, members=[alpha.contact1])


def test_held_tickets_are_routed_on_release(alpha: World) -> None:
    from helpdesk.services import contact_signup, contact_verify
    from tests.factories import UserFactory

    team = TeamFactory(tenant=alpha.tenant, assignment_strategy="round_robin")
    (a,) = agents(alpha, 1)
    team_members_set(team=team, members=[a])
    area = ProductAreaFactory(tenant=alpha.tenant, team=team)
    user = UserFactory(email="newbie@alpha.test")
    pending = contact_signup(tenant=alpha.tenant, user=user)
    ticket = new_ticket(alpha, requester=pending, product_area=area)
    assert (ticket.held_for_verification, ticket.team, ticket.assignee) == (True, None, None)
    contact_verify(tenant=alpha.tenant, contact=pending, organization=alpha.org1)
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee) == (team, a)
    assert ticket.events.filter(kind="released").exists()
