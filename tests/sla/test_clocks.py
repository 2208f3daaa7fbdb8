"""The clock engine's lifecycle, on a hand-made setup (Mon-Fri 09:00-17:00 Europe/London, which
is UTC in early March 2026) and on the templates. Expected instants are worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from helpdesk.services import contact_signup, contact_verify
from sla import clocks
from sla.models import BusinessCalendar, Severity, SLAClock
from sla.policies import load_policy_template
from sla.services import calendar_update, contract_create, sla_policy_update
from sla.services.recompute import INLINE_LIMIT
from tests.conftest import World
from tests.factories import UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_reclassify, ticket_set_sla_exempt

from .conftest import Setup, make_setup, utc


@pytest.fixture
def clock_at() -> Iterator[Any]:
    """travel(instant): freeze the clock there (and move it later with the same call)."""
    with time_machine.travel(utc(2026, 1, 1), tick=False) as traveller:
        yield traveller.move_to


def clock(ticket: Ticket, metric: str) -> SLAClock:
    return SLAClock.objects.get(ticket=ticket, metric=metric)


def open_ticket(world: World, severity: Severity | None, **kwargs: Any) -> Ticket:
    kwargs.setdefault("organization", world.org1)
    return ticket_create(
        tenant=world.tenant,
        subject="Printer on fire",
        requester_email=world.contact1.user.email,
        severity=severity,
        **kwargs,
    )


def test_open_starts_first_response_and_resolution(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))  # Monday
    ticket = open_ticket(alpha, setup.high)
    first, resolution = clock(ticket, "first_response"), clock(ticket, "resolution")
    assert (first.status, first.started_at) == ("running", utc(2026, 3, 2, 10))
    assert first.due_at == utc(2026, 3, 2, 11)
    assert first.warn_at == utc(2026, 3, 2, 10, 45)  # 75 % of 60 min
    # 8 h: Mon 10:00-17:00 (7 h) + Tue 09:00-10:00.
    assert resolution.due_at == utc(2026, 3, 3, 10)
    assert resolution.warn_at == utc(2026, 3, 2, 16)  # 6 h
    assert not SLAClock.objects.filter(ticket=ticket, metric="next_response").exists()
    assert "Mon 10:00" in resolution.explanation and "Office" in resolution.explanation
    ticket.refresh_from_db()
    assert ticket.sla_note == ""


def test_first_public_reply_meets_or_breaches(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    on_time = open_ticket(alpha, setup.high)
    late = open_ticket(alpha, setup.high)
    clock_at(utc(2026, 3, 2, 11, 30))
    clocks.sla_first_public_agent_reply(ticket=on_time, at=utc(2026, 3, 2, 10, 30))
    clocks.sla_first_public_agent_reply(ticket=late, at=utc(2026, 3, 2, 11, 30))
    met = clock(on_time, "first_response")
    assert (met.status, met.met_at, met.breached_at) == ("met", utc(2026, 3, 2, 10, 30), None)
    missed = clock(late, "first_response")
    assert (missed.status, missed.met_at) == ("breached", utc(2026, 3, 2, 11, 30))
    assert missed.breached_at == utc(2026, 3, 2, 11)
    assert clock(on_time, "resolution").status == "running"  # a reply does not resolve


def test_pending_pauses_resolution_and_keeps_consumed_time(
    alpha: World, setup: Setup, clock_at
) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    clock_at(utc(2026, 3, 2, 12, 0))
    clocks.sla_status_changed(ticket=ticket, old="open", new="pending", at=utc(2026, 3, 2, 12))
    paused = clock(ticket, "resolution")
    assert paused.status == "paused"
    assert (paused.paused_at, paused.due_at, paused.warn_at) == (utc(2026, 3, 2, 12), None, None)
    assert "6 h left" in paused.explanation
    assert clock(ticket, "first_response").status == "running"  # pending pauses resolution only

    clock_at(utc(2026, 3, 4, 10, 0))  # Wednesday
    clocks.sla_status_changed(ticket=ticket, old="pending", new="open", at=utc(2026, 3, 4, 10))
    resumed = clock(ticket, "resolution")
    # 2 h ran before the pause; 6 h remain from Wed 10:00.
    assert (resumed.status, resumed.paused_at) == ("running", None)
    assert resumed.due_at == utc(2026, 3, 4, 16)
    assert resumed.warn_at == utc(2026, 3, 4, 14)
    # Business time inside the pause: Mon 12-17, Tue 09-17, Wed 09-10 = 14 h.
    assert resumed.paused_seconds == 14 * 3600
    assert resumed.version > paused.version


@pytest.mark.parametrize(("pause_on_hold", "expected"), [(False, "running"), (True, "paused")])
def test_on_hold_pauses_where_the_policy_says(
    alpha: World, clock_at, pause_on_hold: bool, expected: str
) -> None:
    setup = make_setup(alpha, pause_on_hold=pause_on_hold)
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    clock_at(utc(2026, 3, 2, 11, 0))
    clocks.sla_status_changed(ticket=ticket, old="open", new="on_hold", at=utc(2026, 3, 2, 11))
    assert clock(ticket, "resolution").status == expected


def test_solved_stops_every_clock_and_reopen_resumes_resolution(
    alpha: World, setup: Setup, clock_at
) -> None:
    clock_at(utc(2026, 3, 2, 12, 0))
    ticket = open_ticket(alpha, setup.high, opened_at=utc(2026, 3, 2, 10))
    clocks.sla_status_changed(ticket=ticket, old="open", new="solved", at=utc(2026, 3, 2, 12))
    first, resolution = clock(ticket, "first_response"), clock(ticket, "resolution")
    assert (resolution.status, resolution.met_at) == ("met", utc(2026, 3, 2, 12))
    # Solved without a reply after the 11:00 deadline: stopped, and late.
    assert (first.status, first.breached_at) == ("breached", utc(2026, 3, 2, 11))

    clock_at(utc(2026, 3, 3, 10, 0))
    clocks.sla_status_changed(ticket=ticket, old="solved", new="open", at=utc(2026, 3, 3, 10))
    reopened = clock(ticket, "resolution")
    # The solved spell (Mon 12:00 - Tue 10:00) does not count: 2 h ran, 6 h left from Tue 10.
    assert (reopened.status, reopened.met_at) == ("running", None)
    assert reopened.due_at == utc(2026, 3, 3, 16)
    assert clock(ticket, "first_response").status == "breached"  # stopped clocks stay


def test_severity_change_recomputes_from_start_and_clears_stale_breach(
    alpha: World, setup: Setup, clock_at
) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    clock_at(utc(2026, 3, 2, 11, 30))
    clocks.sla_recompute(ticket=ticket)  # what the sweep would see
    breached = clock(ticket, "first_response")
    assert (breached.status, breached.breached_at) == ("breached", utc(2026, 3, 2, 11))
    clock_at(utc(2026, 3, 2, 12, 0))
    clocks.sla_status_changed(ticket=ticket, old="open", new="pending", at=utc(2026, 3, 2, 12))

    clock_at(utc(2026, 3, 2, 13, 0))
    ticket_reclassify(ticket=ticket, severity=setup.low, by=alpha.agent)
    first = clock(ticket, "first_response")
    # Low: 8 business hours from the original start, Mon 10:00 -> Tue 10:00; no longer breached.
    assert (first.status, first.breached_at) == ("running", None)
    assert first.due_at == utc(2026, 3, 3, 10)
    assert first.started_at == utc(2026, 3, 2, 10)
    assert first.version > breached.version
    resolution = clock(ticket, "resolution")
    assert (resolution.target_business_days, resolution.status) == (3, "paused")

    clock_at(utc(2026, 3, 3, 9, 0))
    clocks.sla_status_changed(ticket=ticket, old="pending", new="open", at=utc(2026, 3, 3, 9))
    resolution = clock(ticket, "resolution")
    # 3 business days = 24 business hours from Mon 10:00; 2 h ran before the pause, 22 h
    # from Tue 09:00: Tue 8 h, Wed 8 h, Thu 09:00 + 6 h.
    assert resolution.due_at == utc(2026, 3, 5, 15)


def test_business_days_target_lands_on_the_same_local_time(
    alpha: World, setup: Setup, clock_at
) -> None:
    clock_at(utc(2026, 3, 2, 9, 0))
    ticket = open_ticket(alpha, setup.low)
    assert clock(ticket, "resolution").due_at == utc(2026, 3, 5, 9)  # Thu, same wall time
    # A pause that swallows all of Monday pushes it a whole business day: the due reaches
    # its budget at Thu 17:00, which reads as the next opening (business-days landing).
    clocks.sla_status_changed(ticket=ticket, old="open", new="pending", at=utc(2026, 3, 2, 9))
    clock_at(utc(2026, 3, 2, 17, 0))
    clocks.sla_status_changed(ticket=ticket, old="pending", new="open", at=utc(2026, 3, 2, 17))
    assert clock(ticket, "resolution").due_at == utc(2026, 3, 6, 9)


def test_holiday_added_to_calendar_moves_due_times(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 6, 16, 0))  # Friday
    ticket = open_ticket(alpha, setup.high)
    before = clock(ticket, "resolution")
    assert before.due_at == utc(2026, 3, 9, 16)  # Fri 16-17 + Mon 09-16
    first_before = clock(ticket, "first_response")
    assert first_before.due_at == utc(2026, 3, 6, 17)  # lands on the closing time

    calendar_update(
        calendar=setup.calendar, holidays=[{"date": dt.date(2026, 3, 9), "name": "Closed"}]
    )
    after = clock(ticket, "resolution")
    assert after.due_at == utc(2026, 3, 10, 16)
    assert after.version == before.version + 1
    assert "Closed" in after.explanation
    assert clock(ticket, "first_response").version == first_before.version  # unmoved


def test_imported_ticket_is_born_breached(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 10, 12, 0))
    ticket = open_ticket(alpha, setup.high, opened_at=utc(2026, 3, 2, 10))
    first, resolution = clock(ticket, "first_response"), clock(ticket, "resolution")
    assert (first.status, first.breached_at, first.due_at) == (
        "breached",
        utc(2026, 3, 2, 11),
        utc(2026, 3, 2, 11),
    )
    assert (resolution.status, resolution.breached_at) == ("breached", utc(2026, 3, 3, 10))


def test_uncovered_severity_gets_no_clock_and_says_why(alpha: World, clock_at) -> None:
    load_policy_template(tenant=alpha.tenant, template="apiplatform")
    medium = Severity.objects.get(tenant=alpha.tenant, key="medium")
    clock_at(utc(2026, 3, 2, 15, 0))
    ticket = open_ticket(alpha, medium)  # no contract: Break-Fix, which covers Critical/High
    assert not ticket.sla_clocks.exists()
    ticket.refresh_from_db()
    assert ticket.sla_note == "Medium is not covered by your Break-Fix package."


def test_no_severity_no_clock(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 15, 0))
    ticket = open_ticket(alpha, None)
    ticket.refresh_from_db()
    assert not ticket.sla_clocks.exists()
    assert ticket.sla_note == clocks.NO_SEVERITY_NOTE


def test_no_contract_rule_none(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 15, 0))
    ticket = open_ticket(alpha, setup.high, organization=alpha.org2)
    ticket.refresh_from_db()
    assert not ticket.sla_clocks.exists()
    assert ticket.sla_note == "No support contract: requests are handled first come, first served."


@pytest.mark.parametrize(
    ("template", "severity", "note"),
    [
        ("webagency", "normal", "first come, first served"),
        ("spaceos", "high", "please contact your sales representative"),
    ],
)
def test_template_no_contract_notes(
    alpha: World, clock_at, template: str, severity: str, note: str
) -> None:
    load_policy_template(tenant=alpha.tenant, template=template)
    clock_at(utc(2026, 3, 2, 15, 0))
    ticket = open_ticket(alpha, Severity.objects.get(tenant=alpha.tenant, key=severity))
    ticket.refresh_from_db()
    assert not ticket.sla_clocks.exists()
    assert note in ticket.sla_note


def test_no_contract_default_package(alpha: World, clock_at) -> None:
    load_policy_template(tenant=alpha.tenant, template="otcommerce")
    normal = Severity.objects.get(tenant=alpha.tenant, key="normal")
    clock_at(utc(2026, 3, 2, 4, 30))  # Mon 07:30 Moscow
    ticket = open_ticket(alpha, normal)
    # Customer Support's calendar (07:00-17:00 Moscow): 1 business hour.
    assert clock(ticket, "first_response").due_at == utc(2026, 3, 2, 5, 30)


def test_contract_applies_on_the_opening_date(alpha: World, setup: Setup, clock_at) -> None:
    contract_create(
        tenant=alpha.tenant,
        organization=alpha.org2,
        package=setup.package,
        starts_on=dt.date(2026, 3, 3),
        ends_on=dt.date(2026, 3, 3),
    )
    clock_at(utc(2026, 3, 3, 12, 0))
    before = open_ticket(alpha, setup.high, organization=alpha.org2, opened_at=utc(2026, 3, 2, 12))
    during = open_ticket(alpha, setup.high, organization=alpha.org2)
    clock_at(utc(2026, 3, 4, 12, 0))
    after = open_ticket(alpha, setup.high, organization=alpha.org2)
    assert [t.sla_clocks.count() for t in (before, during, after)] == [0, 2, 0]


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        # Saturday 12:00 Moscow: a weekend, 3 wall-clock hours.
        (utc(2026, 3, 7, 9, 0), utc(2026, 3, 7, 12, 0)),
        # Monday 20:00 Moscow: a working day, 1 business hour of Technical Support (08-17).
        (utc(2026, 3, 9, 17, 0), utc(2026, 3, 10, 6, 0)),
        # Monday 10:00 Moscow.
        (utc(2026, 3, 9, 7, 0), utc(2026, 3, 9, 8, 0)),
    ],
)
def test_otcommerce_critical_condition(
    alpha: World, clock_at, opened: dt.datetime, due: dt.datetime
) -> None:
    load_policy_template(tenant=alpha.tenant, template="otcommerce")
    critical = Severity.objects.get(tenant=alpha.tenant, key="critical")
    clock_at(opened)
    ticket = open_ticket(alpha, critical)
    assert clock(ticket, "first_response").due_at == due


def test_next_response_cycle(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    clock_at(utc(2026, 3, 2, 10, 10))
    assert clocks.sla_customer_replied(ticket=ticket, at=utc(2026, 3, 2, 10, 10)) is None
    clock_at(utc(2026, 3, 2, 10, 30))
    clocks.sla_agent_public_reply(ticket=ticket, at=utc(2026, 3, 2, 10, 30))
    assert clock(ticket, "first_response").status == "met"

    clock_at(utc(2026, 3, 2, 11, 0))
    started = clocks.sla_customer_replied(ticket=ticket, at=utc(2026, 3, 2, 11))
    assert started is not None and started.due_at == utc(2026, 3, 2, 13)
    clock_at(utc(2026, 3, 2, 11, 30))
    again = clocks.sla_customer_replied(ticket=ticket, at=utc(2026, 3, 2, 11, 30))
    assert again is not None and again.started_at == utc(2026, 3, 2, 11)  # earliest counts

    clock_at(utc(2026, 3, 2, 12, 0))
    clocks.sla_agent_public_reply(ticket=ticket, at=utc(2026, 3, 2, 12))
    assert clock(ticket, "next_response").status == "met"

    clock_at(utc(2026, 3, 2, 16, 0))
    clocks.sla_customer_replied(ticket=ticket, at=utc(2026, 3, 2, 16))
    cycle = clock(ticket, "next_response")
    # A new cycle: 2 business hours from Mon 16:00 = Mon 16-17 + Tue 09-10.
    assert (cycle.status, cycle.met_at, cycle.started_at) == ("running", None, utc(2026, 3, 2, 16))
    assert cycle.due_at == utc(2026, 3, 3, 10)


def test_sla_exempt_duplicate_loses_its_clocks(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    ticket_set_sla_exempt(ticket=ticket, exempt=True, by=alpha.agent)
    ticket.refresh_from_db()
    assert not ticket.sla_clocks.exists()
    assert ticket.sla_note == clocks.EXEMPT_NOTE
    ticket_set_sla_exempt(ticket=ticket, exempt=False, by=alpha.agent)
    assert clock(ticket, "first_response").due_at == utc(2026, 3, 2, 11)


def test_held_ticket_starts_its_clocks_on_release(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    user = UserFactory(email="newbie@alpha.test")
    pending = contact_signup(tenant=alpha.tenant, user=user)
    ticket = ticket_create(
        tenant=alpha.tenant,
        subject="Hello",
        requester=user,
        requester_email=user.email,
        severity=setup.high,
    )
    ticket.refresh_from_db()
    assert ticket.held_for_verification and not ticket.sla_clocks.exists()
    assert ticket.sla_note == clocks.HELD_NOTE
    clock_at(utc(2026, 3, 2, 14, 0))
    contact_verify(tenant=alpha.tenant, contact=pending, organization=alpha.org1)
    first = clock(ticket, "first_response")
    assert (first.started_at, first.due_at) == (utc(2026, 3, 2, 14), utc(2026, 3, 2, 15))


def test_reclassify_refuses_customers_and_foreign_severities(
    alpha: World, beta: World, setup: Setup, clock_at
) -> None:
    from django.core.exceptions import ValidationError

    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    with pytest.raises(ValidationError):
        ticket_reclassify(ticket=ticket, severity=setup.low, by=alpha.contact1)
    foreign = make_setup(beta).low
    with pytest.raises(ValidationError):
        ticket_reclassify(ticket=ticket, severity=foreign, by=alpha.agent)


def test_policy_change_recomputes_open_tickets(alpha: World, setup: Setup, clock_at) -> None:
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high, organization=alpha.org2)
    assert not ticket.sla_clocks.exists()
    sla_policy_update(
        tenant=alpha.tenant, no_contract_rule="default_package", default_package=setup.package
    )
    assert clock(ticket, "first_response").due_at == utc(2026, 3, 2, 11)
    ticket.refresh_from_db()
    assert ticket.sla_note == ""


def test_calendar_change_over_many_clocks_goes_to_a_task(
    alpha: World, setup: Setup, clock_at, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from sla import tasks

    clock_at(utc(2026, 3, 2, 10, 0))
    tickets = [open_ticket(alpha, setup.high) for _ in range(INLINE_LIMIT + 1)]
    sent: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(tasks.sla_recompute_tickets_task, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        calendar_update(
            calendar=setup.calendar, holidays=[{"date": dt.date(2026, 3, 3), "name": "Closed"}]
        )
    assert sent == [(alpha.tenant.pk, sorted(t.pk for t in tickets))]
    # Not recomputed inline ...
    assert clock(tickets[0], "resolution").due_at == utc(2026, 3, 3, 10)
    # ... but by the task.
    tasks.sla_recompute_tickets_task(*sent[0])
    assert clock(tickets[0], "resolution").due_at == utc(2026, 3, 4, 10)


def test_pure_calendar_is_cached_per_version(
    alpha: World, setup: Setup, django_assert_num_queries
) -> None:
    from sla.selectors import calendar_compute

    calendar = BusinessCalendar.objects.get(pk=setup.calendar.pk)
    years = range(2025, 2030)
    first = calendar_compute(calendar, years=years)
    with django_assert_num_queries(0):
        assert calendar_compute(calendar, years=years) is first
    changed = calendar_update(calendar=calendar, holidays=[{"date": dt.date(2026, 1, 2)}])
    again = calendar_compute(changed, years=years)
    assert again is not first and dt.date(2026, 1, 2) in again.holidays


def test_yearly_holidays_and_ranges_are_expanded(alpha: World, setup: Setup, clock_at) -> None:
    calendar_update(
        calendar=setup.calendar,
        holidays=[
            {"date": dt.date(2020, 3, 9), "name": "Founders' day", "yearly": True},
            {"date": dt.date(2026, 3, 10), "end_date": dt.date(2026, 3, 11), "name": "Away"},
        ],
    )
    clock_at(utc(2026, 3, 6, 16, 0))  # Friday
    ticket = open_ticket(alpha, setup.high)
    # Fri 16-17, then Mon 9 (yearly), Tue 10 and Wed 11 (range) are closed: Thu 09-16.
    assert clock(ticket, "resolution").due_at == utc(2026, 3, 12, 16)


def test_contract_added_later_starts_clocks_and_target_removal_drops_them(
    alpha: World, setup: Setup, clock_at
) -> None:
    from sla.services import package_update

    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high, organization=alpha.org2)
    assert not ticket.sla_clocks.exists()
    contract_create(
        tenant=alpha.tenant,
        organization=alpha.org2,
        package=setup.package,
        starts_on=dt.date(2026, 3, 1),
    )
    assert clock(ticket, "first_response").due_at == utc(2026, 3, 2, 11)
    package_update(
        package=setup.package,
        targets=[
            {
                "metric": "resolution",
                "severity": setup.high,
                "target_minutes": 60,
                "calendar": setup.calendar,
            }
        ],
    )
    assert list(ticket.sla_clocks.values_list("metric", "due_at")) == [
        ("resolution", utc(2026, 3, 2, 11))
    ]


def test_calendar_without_business_time_leaves_no_due_instead_of_failing(
    alpha: World, setup: Setup, clock_at
) -> None:
    calendar_update(
        calendar=setup.calendar,
        holidays=[{"date": dt.date(2020, 1, 1), "end_date": dt.date(2020, 12, 31), "yearly": True}],
    )
    clock_at(utc(2026, 3, 2, 10, 0))
    ticket = open_ticket(alpha, setup.high)
    first = clock(ticket, "first_response")
    assert (first.status, first.due_at) == ("running", None)
    assert "no due time" in first.explanation
