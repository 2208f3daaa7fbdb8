"""Real workers on real Redis and PostgreSQL: a breach is recorded within 5 s of its due time;
SIGKILL of the worker mid-run, a Redis restart and two workers racing lose nothing and
duplicate nothing. (Time is real here: these tests wait on wall-clock instants.)"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db.models import Count
from django.utils import timezone

from channels.notifications.models import NotificationDelivery
from sla.escalation.selectors import escalations_for_tickets
from sla.escalation.services import escalation_policy_update
from sla.models import Escalation, SLAClock
from sla.tasks import fire_clock
from tests.conftest import World
from tests.sla.escalation_support import EscalationSetup, clock_of, make_escalation_setup
from tickets.models import Ticket

from .conftest import Workers, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.xdist_group("workers"),
    pytest.mark.django_db(transaction=True),
]

HOUR = dt.timedelta(minutes=60)


def due_in(esc: EscalationSetup, seconds: float, **kwargs: object) -> Ticket:
    """A Critical ticket imported with its first response (60 min) due ``seconds`` from now:
    its warning point (45 min) has passed, so it also gets a catch-up warning."""
    return esc.ticket(opened_at=timezone.now() - HOUR + dt.timedelta(seconds=seconds), **kwargs)


def first_response_clocks(tickets: list[Ticket]) -> list[SLAClock]:
    return list(SLAClock.objects.filter(ticket__in=tickets, metric="first_response"))


def all_breached(clocks: list[SLAClock]) -> bool:
    fired = Escalation.objects.filter(clock__in=clocks, level=1).count()
    return fired == len(clocks)


def assert_exactly_once(clocks: list[SLAClock]) -> None:
    rows = (
        Escalation.objects.filter(clock__in=clocks)
        .values("clock", "level", "clock_version")
        .annotate(n=Count("id"))
    )
    assert rows, "nothing fired"
    assert all(r["n"] == 1 for r in rows), [r for r in rows if r["n"] != 1]
    per_clock: dict[int, list[int]] = {}
    for r in rows:
        per_clock.setdefault(r["clock"], []).append(r["level"])
    # One warning (caught up) and one breach per clock; level 2 is an hour away.
    assert {tuple(sorted(v)) for v in per_clock.values()} == {(0, 1)}
    for escalation in Escalation.objects.filter(clock__in=clocks):
        rows_ = NotificationDelivery.objects.filter(source_key=f"esc:{escalation.pk}")
        keys = [(d.recipient, d.channel) for d in rows_]
        assert len(keys) == len(set(keys))
        assert len(keys) == 2 * len(escalation.recipients)  # email + in-app each


@pytest.fixture
def esc(alpha: World) -> EscalationSetup:
    setup = make_escalation_setup(alpha)
    # Wall-clock tests: a run at night must not hold the warnings' email till the morning.
    escalation_policy_update(tenant=alpha.tenant, quiet_hours_enabled=False)
    return setup


def test_a_breach_is_recorded_within_five_seconds_of_its_due_time(
    esc: EscalationSetup, workers: Workers
) -> None:
    workers.start("w1")
    ticket = due_in(esc, 3)
    ineligible = due_in(esc, 3, severity=esc.low)
    clock = clock_of(ticket)
    assert clock.due_at is not None
    fired = wait_for(
        lambda: Escalation.objects.filter(clock=clock, level__gte=1).exists(),
        timeout=(clock.due_at - timezone.now()).total_seconds() + 15,
    )
    assert fired, workers.tail("w1")
    breach = Escalation.objects.get(clock=clock, level=1)
    lateness = (breach.fired_at - clock.due_at).total_seconds()
    assert 0 <= lateness <= 5, lateness
    # The catch-up warning fired at once, once; the ticket resource shows both.
    shown = escalations_for_tickets([ticket.pk, ineligible.pk])
    assert [(e["metric"], e["level"]) for e in shown[ticket.pk]] == [
        ("first_response", 0),
        ("first_response", 1),
    ]
    assert shown[ineligible.pk] == []  # nothing for an ineligible severity
    clock.refresh_from_db()
    assert clock.status == SLAClock.Status.BREACHED
    # The notices went out through the email and notifications queues.
    assert wait_for(
        lambda: not NotificationDelivery.objects.filter(status="pending").exists(), timeout=30
    ), workers.tail("w1")
    assert set(NotificationDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_sigkill_of_the_worker_mid_run_loses_and_duplicates_nothing(
    esc: EscalationSetup, workers: Workers
) -> None:
    workers.start("w1")
    tickets = [due_in(esc, 3 + 0.25 * i) for i in range(20)]  # due over ~5 s
    clocks = first_response_clocks(tickets)
    # Mid-run: some breaches fired, the rest are ETA tasks held by the worker.
    assert wait_for(lambda: Escalation.objects.filter(level=1).count() >= 3, timeout=15)
    workers.kill("w1")  # SIGKILL, the whole process group
    killed_at = timezone.now()
    assert not all_breached(clocks), "the kill came too late to prove anything"
    workers.start("w1-restarted")
    assert wait_for(lambda: all_breached(clocks), timeout=45), workers.tail("w1-restarted")
    time.sleep(1.5)  # another sweep: still nothing twice
    assert_exactly_once(clocks)
    late = [
        (e.fired_at - e.due_at).total_seconds()
        for e in Escalation.objects.filter(clock__in=clocks, level=1, fired_at__lt=killed_at)
    ]
    assert late and max(late) <= 5


def test_a_redis_restart_loses_nothing(esc: EscalationSetup, workers: Workers) -> None:
    workers.start("w1")
    before = [due_in(esc, 4 + 0.2 * i) for i in range(6)]  # their ETA tasks are queued
    workers.redis.kill()
    during = [due_in(esc, 3 + 0.2 * i) for i in range(4)]  # the broker is down: not queued
    clocks = first_response_clocks(before + during)
    assert wait_for(lambda: timezone.now() > max(c.due_at for c in clocks if c.due_at), 15)
    time.sleep(1)
    workers.redis.start()  # an empty Redis: whatever it held is gone
    assert wait_for(lambda: all_breached(clocks), timeout=60), workers.tail("w1")
    time.sleep(1.5)
    assert_exactly_once(clocks)


def test_two_workers_never_double_fire(esc: EscalationSetup, workers: Workers) -> None:
    workers.start("a")
    workers.start("b")  # two workers, each with its own beat: duplicate sweeps too
    due = timezone.now() + dt.timedelta(seconds=5)
    tickets = [esc.ticket(opened_at=due - HOUR) for _ in range(30)]  # all due at once
    clocks = first_response_clocks(tickets)
    for clock in clocks:  # and a duplicated message for every breach
        fire_clock.apply_async((clock.pk, clock.version, 1), eta=clock.due_at)
    assert wait_for(lambda: all_breached(clocks), timeout=40), workers.tail("a") + workers.tail("b")
    time.sleep(2)
    assert_exactly_once(clocks)
    lateness = [
        (e.fired_at - e.due_at).total_seconds()
        for e in Escalation.objects.filter(clock__in=clocks, level=1)
    ]
    assert max(lateness) <= 5, sorted(lateness)[-5:]
    assert wait_for(
        lambda: not NotificationDelivery.objects.filter(status="pending").exists(), timeout=40
    )
    # Every notice claimed and sent exactly once.
    assert set(
        NotificationDelivery.objects.filter(channel="email").values_list("status", "attempts")
    ) <= {("sent", 1), ("skipped", 0)}
