"""A small escalation setup shared by the escalation, paging and worker tests: a 24/7 calendar
(so due times are plain arithmetic), severities Critical (rank 1), High (rank 2) and Low (rank
3, not eligible for escalation), a package covering them, org1 under contract, a team with the
world's agent and team lead, a manager, and a ticket factory."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from helpdesk.models import Membership
from sla.models import BusinessCalendar, Severity, SLAClock, SupportPackage
from sla.services import (
    calendar_create,
    contract_create,
    package_create,
    severity_create,
    sla_policy_update,
)
from tests.conftest import World
from tests.factories import MembershipFactory
from tickets.models import Team, TeamMember, Ticket
from tickets.services import ticket_create

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@dataclass
class EscalationSetup:
    world: World
    calendar: BusinessCalendar
    critical: Severity
    high: Severity
    low: Severity
    package: SupportPackage
    team: Team
    manager: Membership

    def ticket(
        self,
        *,
        severity: Severity | None = None,
        opened_at: dt.datetime | None = None,
        assignee: Membership | None = None,
        team: bool = True,
        organization: Any = None,
        subject: str = "Checkout is down",
    ) -> Ticket:
        """A ticket of org1's contact, assigned to the world's agent in the team."""
        w = self.world
        ticket = ticket_create(
            tenant=w.tenant,
            subject=subject,
            requester=w.contact1.user,
            requester_email=w.contact1.user.email,
            organization=organization or w.org1,
            severity=severity or self.critical,
            opened_at=opened_at,
        )
        Ticket.objects.filter(pk=ticket.pk).update(
            assignee=assignee or w.agent, team=self.team if team else None
        )
        ticket.refresh_from_db()
        return ticket


def clock_of(ticket: Ticket, metric: str = "first_response") -> SLAClock:
    return SLAClock.objects.get(ticket=ticket, metric=metric)


def make_escalation_setup(world: World) -> EscalationSetup:
    """First response: Critical 60 min, High 120 min, Low 60 min; resolution: Critical 8 h.
    Warnings at 75 %. org1 holds the package; org2 has no contract (no SLA)."""
    tenant = world.tenant
    calendar = calendar_create(
        tenant=tenant,
        name="Always",
        timezone="UTC",
        hours=[{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
    )
    critical = severity_create(tenant=tenant, key="critical", name="Critical", rank=1)
    high = severity_create(tenant=tenant, key="high", name="High", rank=2)
    low = severity_create(tenant=tenant, key="low", name="Low", rank=3, escalation_eligible=False)
    package = package_create(
        tenant=tenant,
        name="Premium",
        channels=["web", "email"],
        severities=[critical, high, low],
        targets=[
            {
                "metric": "first_response",
                "severity": critical,
                "target_minutes": 60,
                "calendar": calendar,
            },
            {
                "metric": "resolution",
                "severity": critical,
                "target_minutes": 480,
                "calendar": calendar,
            },
            {
                "metric": "first_response",
                "severity": high,
                "target_minutes": 120,
                "calendar": calendar,
            },
            {
                "metric": "first_response",
                "severity": low,
                "target_minutes": 60,
                "calendar": calendar,
                "escalation_eligible": False,
            },
        ],
    )
    contract_create(
        tenant=tenant, organization=world.org1, package=package, starts_on=dt.date(2020, 1, 1)
    )
    sla_policy_update(tenant=tenant, no_contract_rule="none")
    world.org1.account_executive_email = f"ae@{tenant.slug}.test"
    world.org1.save(update_fields=["account_executive_email"])
    team = Team.objects.create(
        tenant=tenant, name="Support", escalation_emails=[f"escalations@{tenant.slug}.test"]
    )
    manager = MembershipFactory(
        tenant=tenant, role="agent", tier="manager", user__email=f"manager@{tenant.slug}.test"
    )
    for member in (world.agent, world.lead, manager):
        TeamMember.objects.create(tenant=tenant, team=team, membership=member)
    return EscalationSetup(world, calendar, critical, high, low, package, team, manager)
