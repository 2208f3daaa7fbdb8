"""A hand-built desk for the SLA report's tests: tickets and clocks written directly with the ORM,
so every status, due and stop instant is exactly what the expected figures were worked out from.

Tenant zone Europe/Berlin (UTC+1 until 29 March 2026). "Now" is Fri 20 March 2026 12:00 UTC.

First-response clocks (FR), package x severity x team, all opened in the week of 2 March:

====  =================  ===========  =======  ============  =======================
 T     package/severity   opened/start due      stopped (met)  outcome
====  =================  ===========  =======  ============  =======================
 T1    Gold/High/Support  02 09:00     10:00    09:10 (10 m)  achieved
 T2    Gold/High/Support  02 10:00     11:00    10:30 (30 m)  achieved
 T3    Gold/High/Support  03 09:00     10:00    12:00 (3 h)   missed (met late, 2 h)
 T4    Gold/High/Support  03 11:00     12:00    —             missed (breached, 17 d)
 T5    Gold/High/Support  06 09:00     21st     —             in progress (running)
 T6    Gold/High/Support  06 10:00     —        —             in progress (paused)
 T7    Gold/High/Support  06 11:00     19th 12h —             missed (running, overdue 1 d)
 T8    Silver/Low/Tech    04 09:00     17:00    13:00 (4 h)   achieved
 T9    Silver/Low/Tech    04 10:00     18:00    10:20 (20 m)  achieved
====  =================  ===========  =======  ============  =======================

Plus resolution clocks: T1 met on time (achieved), T2 running, due in April (in progress).
Gold/High FR: 2 achieved, 3 missed, 2 in progress → 40.0 %. Silver/Low FR: 2 of 2 → 100.0 %.
Answered FR wall times: 600, 1200, 1800, 10800, 14400 s → median 1800 s; p90 at position
0.9 x 4 = 3.6 → 10800 + 0.6 x 3600 = 12960 s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Membership
from helpdesk.services import api_token_create
from sla.models import BusinessCalendar, Severity, SLAClock, SLATarget, SupportPackage
from tests.conftest import World
from tests.factories import (
    BusinessCalendarFactory,
    SeverityFactory,
    SupportPackageFactory,
    TicketFactory,
)
from tickets.models import Team, Ticket

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
FR, RES = "first_response", "resolution"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def api(world: World, membership: Membership) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def ticket_fields() -> set[str]:
    return {f.name for f in Ticket._meta.get_fields()}


@dataclass
class Desk:
    world: World
    office: BusinessCalendar
    high: Severity
    low: Severity
    gold: SupportPackage
    silver: SupportPackage
    support: Team
    tech: Team
    targets: dict[tuple[str, str, str], SLATarget] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)

    def target(self, package: SupportPackage, severity: Severity, metric: str) -> SLATarget:
        key = (package.name, severity.key, metric)
        if key not in self.targets:
            self.targets[key] = SLATarget.objects.create(
                tenant=self.world.tenant,
                package=package,
                severity=severity,
                metric=metric,
                target_minutes=60 if severity == self.high else 480,
                calendar=self.office,
            )
        return self.targets[key]

    def ticket(self, name: str, opened_at: dt.datetime, **kwargs: Any) -> Ticket:
        kwargs.setdefault("severity", self.high)
        kwargs.setdefault("team", self.support)
        kwargs.setdefault("organization", self.world.org1)
        kwargs.setdefault("status", Ticket.Status.OPEN)
        ticket: Ticket = TicketFactory(
            tenant=self.world.tenant,
            subject=f"{name} subject",
            opened_at=opened_at,
            created_at=opened_at,
            **kwargs,
        )
        self.tickets[name] = ticket
        return ticket

    def clock(
        self,
        ticket: Ticket,
        metric: str,
        *,
        package: SupportPackage,
        status: str,
        started_at: dt.datetime,
        due_at: dt.datetime | None,
        met_at: dt.datetime | None = None,
    ) -> SLAClock:
        assert ticket.severity is not None
        target = self.target(package, ticket.severity, metric)
        late = met_at is not None and due_at is not None and met_at > due_at
        unstopped_breach = status == "breached" and met_at is None
        return SLAClock.objects.create(
            tenant=self.world.tenant,
            ticket=ticket,
            metric=metric,
            target=target,
            calendar=self.office,
            target_minutes=target.target_minutes,
            status=status,
            started_at=started_at,
            due_at=due_at,
            met_at=met_at,
            breached_at=due_at if late or unstopped_breach else None,
        )

    def fr(
        self,
        name: str,
        start: dt.datetime,
        due: dt.datetime | None,
        met: dt.datetime | None,
        status: str,
        *,
        package: SupportPackage | None = None,
        **ticket_kwargs: Any,
    ) -> Ticket:
        """A ticket opened at ``start`` with a first-response clock."""
        ticket = self.ticket(name, start, **ticket_kwargs)
        self.clock(
            ticket,
            FR,
            package=package or self.gold,
            status=status,
            started_at=start,
            due_at=due,
            met_at=met,
        )
        return ticket


def make_desk(world: World) -> Desk:
    world.tenant.time_zone = "Europe/Berlin"
    world.tenant.save(update_fields=["time_zone"])
    office = BusinessCalendarFactory(tenant=world.tenant, name="Office", timezone="Europe/Berlin")
    desk = Desk(
        world=world,
        office=office,
        high=SeverityFactory(tenant=world.tenant, key="high", name="High", rank=1),
        low=SeverityFactory(tenant=world.tenant, key="low", name="Low", rank=2),
        gold=SupportPackageFactory(tenant=world.tenant, name="Gold"),
        silver=SupportPackageFactory(tenant=world.tenant, name="Silver"),
        support=Team.objects.create(tenant=world.tenant, name="Support"),
        tech=Team.objects.create(tenant=world.tenant, name="Tech"),
    )
    return desk


def fill_desk(desk: Desk) -> Desk:
    """The table of the module doc."""
    d = desk
    t1 = d.fr("T1", utc(2026, 3, 2, 9), utc(2026, 3, 2, 10), utc(2026, 3, 2, 9, 10), "met")
    t2 = d.fr("T2", utc(2026, 3, 2, 10), utc(2026, 3, 2, 11), utc(2026, 3, 2, 10, 30), "met")
    d.fr(
        "T3",
        utc(2026, 3, 3, 9),
        utc(2026, 3, 3, 10),
        utc(2026, 3, 3, 12),
        "breached",
        channel="email",
    )
    d.fr("T4", utc(2026, 3, 3, 11), utc(2026, 3, 3, 12), None, "breached", channel="email")
    d.fr("T5", utc(2026, 3, 6, 9), utc(2026, 3, 21, 9), None, "running", channel="phone")
    d.fr("T6", utc(2026, 3, 6, 10), None, None, "paused")
    d.fr("T7", utc(2026, 3, 6, 11), utc(2026, 3, 19, 12), None, "running")
    for name, start, due, met in (
        ("T8", utc(2026, 3, 4, 9), utc(2026, 3, 4, 17), utc(2026, 3, 4, 13)),
        ("T9", utc(2026, 3, 4, 10), utc(2026, 3, 4, 18), utc(2026, 3, 4, 10, 20)),
    ):
        d.fr(name, start, due, met, "met", package=d.silver, severity=d.low, team=d.tech)
    d.clock(
        t1,
        RES,
        package=d.gold,
        status="met",
        started_at=t1.opened_at,
        due_at=utc(2026, 3, 2, 17),
        met_at=utc(2026, 3, 2, 15),
    )
    d.clock(
        t2,
        RES,
        package=d.gold,
        status="running",
        started_at=t2.opened_at,
        due_at=utc(2026, 4, 2, 10),
    )
    return desk


@pytest.fixture
def desk(alpha: World) -> Desk:
    return fill_desk(make_desk(alpha))
