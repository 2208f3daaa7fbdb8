"""Escalation rules with time under control: levels in order and once each, eligibility (an
ineligible clock fires nothing at all), catch-up for imported tickets, cancel and re-arm when the
due time moves, quiet hours, the ETA task and the planner, per-tenant levels, webhook events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from channels.notifications import services as notification_services
from channels.notifications.models import Notification, NotificationDelivery
from channels.webhooks import services as webhook_services
from channels.webhooks.models import WebhookDelivery, WebhookSubscription
from sla.clocks import sla_agent_public_reply, sla_recompute, sla_status_changed
from sla.escalation import alarms
from sla.escalation.alarms import alarms_due, alarms_plan, alarms_sweep, clock_alarm_fire
from sla.escalation.rules import quiet_until
from sla.escalation.selectors import escalations_for_tickets
from sla.escalation.services import escalation_policy_update
from sla.models import Escalation, EscalationPolicy, SLAClock
from tests.conftest import World
from tickets.models import Ticket

from .escalation_support import EscalationSetup, clock_of, make_escalation_setup, utc

T0 = utc(2026, 3, 2, 10)  # a Monday, 10:00 UTC


@pytest.fixture
def esc(alpha: World) -> EscalationSetup:
    return make_escalation_setup(alpha)


def levels(ticket: Ticket, metric: str = "first_response") -> list[tuple[int | None, int | None]]:
    return list(
        Escalation.objects.filter(ticket=ticket, metric=metric)
        .order_by("fired_at", "level")
        .values_list("level", "clock_version")
    )


def sweep_at(at: dt.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return alarms_sweep()


def test_levels_fire_in_order_each_once_with_their_recipients(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    clock = clock_of(ticket)
    assert clock.warn_at == T0 + dt.timedelta(minutes=45)
    assert (clock.next_alarm_at, clock.next_alarm_level) == (clock.warn_at, 0)

    assert sweep_at(T0 + dt.timedelta(minutes=44, seconds=59)) == 0
    assert sweep_at(T0 + dt.timedelta(minutes=45)) == 1
    warning = Escalation.objects.get(ticket=ticket, level=0)
    assert warning.recipients == [w.agent.user.email]
    assert warning.due_at == T0 + dt.timedelta(minutes=45)

    assert sweep_at(T0 + dt.timedelta(minutes=60)) == 1
    breach = Escalation.objects.get(ticket=ticket, level=1)
    assert breach.recipients == [w.agent.user.email, w.lead.user.email]
    clock.refresh_from_db()
    assert clock.status == SLAClock.Status.BREACHED
    assert clock.breached_at == T0 + dt.timedelta(minutes=60)

    assert sweep_at(T0 + dt.timedelta(hours=2)) == 1
    level2 = Escalation.objects.get(ticket=ticket, level=2)
    assert level2.recipients == [esc.manager.user.email, "escalations@alpha.test"]

    assert sweep_at(T0 + dt.timedelta(hours=5)) == 1
    assert Escalation.objects.get(ticket=ticket, level=3).recipients == ["ae@alpha.test"]

    # Nothing left: the alarm is cleared, sweeps and stale tasks change nothing.
    clock.refresh_from_db()
    assert clock.next_alarm_at is None
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        assert clock_alarm_fire(clock_id=clock.pk, version=clock.version) == []
        assert clock_alarm_fire(clock_id=clock.pk, version=clock.version - 1) == []
    assert [lv for lv, _ in levels(ticket)] == [0, 1, 2, 3]
    # The resolution clock (8 h) has its own chain; then nothing is left at all.
    assert sweep_at(T0 + dt.timedelta(days=2)) == 4
    assert [lv for lv, _ in levels(ticket, "resolution")] == [0, 1, 2, 3]
    assert sweep_at(T0 + dt.timedelta(days=3)) == 0


def test_the_unique_key_refuses_a_second_row_for_the_same_level_and_version(
    esc: EscalationSetup,
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    clock = clock_of(ticket)
    # Another worker recorded level 0 already (and died before advancing the alarm).
    Escalation.objects.create(
        tenant=ticket.tenant,
        ticket=ticket,
        clock=clock,
        metric="first_response",
        level=0,
        clock_version=clock.version,
        due_at=clock.warn_at,
        fired_at=clock.warn_at,
    )
    with time_machine.travel(T0 + dt.timedelta(minutes=46), tick=False):
        assert clock_alarm_fire(clock_id=clock.pk) == []
    assert Escalation.objects.filter(ticket=ticket).count() == 1
    clock.refresh_from_db()
    assert clock.next_alarm_level == 1


@pytest.mark.parametrize("which", ["severity", "target"])
def test_an_ineligible_clock_fires_nothing_at_all(esc: EscalationSetup, which: str) -> None:
    if which == "severity":
        severity = esc.low  # not eligible (seed 001's Low and Cosmetic)
    else:
        severity = esc.high
        esc.package.targets.filter(severity=esc.high).update(escalation_eligible=False)
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(severity=severity)
    clock = clock_of(ticket)
    assert clock.due_at is not None
    assert clock.next_alarm_at is None
    assert sweep_at(T0 + dt.timedelta(days=3)) == 0
    assert not Escalation.objects.filter(ticket=ticket).exists()
    assert not NotificationDelivery.objects.exists()
    assert not Notification.objects.exists()


def test_a_severity_made_ineligible_after_arming_fires_nothing(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    esc.critical.escalation_eligible = False
    esc.critical.save(update_fields=["escalation_eligible"])
    assert sweep_at(T0 + dt.timedelta(hours=6)) == 0
    assert not Escalation.objects.filter(ticket=ticket).exists()
    assert clock_of(ticket).next_alarm_at is None


def test_an_imported_ticket_past_its_warning_gets_the_warning_at_once_once(
    esc: EscalationSetup,
) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(opened_at=T0 - dt.timedelta(minutes=50))
        clock = clock_of(ticket)
        assert clock.next_alarm_at == T0 - dt.timedelta(minutes=5)
        assert alarms_sweep() == 1
        assert alarms_sweep() == 0
    assert levels(ticket) == [(0, clock.version)]
    warning = Escalation.objects.get(ticket=ticket)
    assert warning.fired_at == T0
    sent = NotificationDelivery.objects.filter(source_key=f"esc:{warning.pk}")
    assert {d.channel for d in sent} == {"email", "inapp"}
    assert all(d.status != "skipped" for d in sent)
    clock.refresh_from_db()
    assert (clock.next_alarm_at, clock.next_alarm_level) == (T0 + dt.timedelta(minutes=10), 1)


def test_an_imported_ticket_past_breach_fires_each_due_level_once(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(opened_at=T0 - dt.timedelta(hours=3))
        assert clock_of(ticket).status == SLAClock.Status.BREACHED  # born breached
        assert alarms_sweep() == 3
        assert alarms_sweep() == 0
    assert [lv for lv, _ in levels(ticket)] == [0, 1, 2]  # level 3 is at breach + 4 h
    warning = Escalation.objects.get(ticket=ticket, level=0)
    # A warning caught up on a breached clock is recorded, not sent.
    assert set(
        NotificationDelivery.objects.filter(source_key=f"esc:{warning.pk}").values_list(
            "status", flat=True
        )
    ) == {"skipped"}
    assert not Notification.objects.filter(source_key=f"esc:{warning.pk}").exists()
    assert Notification.objects.filter(kind="sla_escalation").count() >= 2


def test_a_later_due_time_cancels_held_notices_and_rearms(esc: EscalationSetup) -> None:
    w = esc.world
    w.agent.user.time_zone = "Asia/Tokyo"  # 19:45 UTC is 04:45 in Tokyo: quiet hours
    w.agent.user.save(update_fields=["time_zone"])
    opened = utc(2026, 3, 2, 19)
    with time_machine.travel(opened, tick=False):
        ticket = esc.ticket()
    first_version = clock_of(ticket).version
    assert sweep_at(opened + dt.timedelta(minutes=45)) == 1
    warning = Escalation.objects.get(ticket=ticket, level=0)
    email = NotificationDelivery.objects.get(source_key=f"esc:{warning.pk}", channel="email")
    assert email.status == "pending"
    assert email.next_attempt_at == utc(2026, 3, 2, 22)  # 07:00 in Tokyo
    assert Notification.objects.filter(source_key=f"esc:{warning.pk}").exists()  # in-app now

    # The agent re-classifies Critical → High (2 h): the warning moves to 20:30.
    with time_machine.travel(opened + dt.timedelta(minutes=50), tick=False):
        Ticket.objects.filter(pk=ticket.pk).update(severity=esc.high)
        ticket.refresh_from_db()
        sla_recompute(ticket=ticket)
    clock = clock_of(ticket)
    assert clock.version > first_version
    assert (clock.next_alarm_at, clock.next_alarm_level) == (
        opened + dt.timedelta(minutes=90),
        0,
    )
    email.refresh_from_db()
    warning.refresh_from_db()
    assert email.status == "cancelled"
    assert warning.cancelled_at is not None
    assert sweep_at(opened + dt.timedelta(minutes=90)) == 1
    assert levels(ticket) == [(0, first_version), (0, clock.version)]


def test_an_earlier_due_time_does_not_repeat_a_level_already_fired(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(severity=esc.high)  # 120 min: warning at 90
    assert sweep_at(T0 + dt.timedelta(minutes=95)) == 1
    # Up to Critical (60 min): the new warning instant (45) is before the one that fired.
    with time_machine.travel(T0 + dt.timedelta(minutes=96), tick=False):
        Ticket.objects.filter(pk=ticket.pk).update(severity=esc.critical)
        ticket.refresh_from_db()
        sla_recompute(ticket=ticket)
        clock = clock_of(ticket)
        assert clock.status == SLAClock.Status.BREACHED
        assert clock.next_alarm_level == 1
        assert alarms_sweep() == 1
    assert [lv for lv, _ in levels(ticket)] == [0, 1]


def test_pause_disarms_and_resume_rearms(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    res = clock_of(ticket, "resolution")
    assert res.next_alarm_level == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        sla_status_changed(
            ticket=ticket, old="open", new="pending", at=T0 + dt.timedelta(minutes=30)
        )
    res.refresh_from_db()
    assert res.status == SLAClock.Status.PAUSED
    assert res.next_alarm_at is None
    resume = T0 + dt.timedelta(hours=2)
    with time_machine.travel(resume, tick=False):
        sla_status_changed(ticket=ticket, old="pending", new="open", at=resume)
    res.refresh_from_db()
    # 8 h budget, 30 min used: warning at 75 % (6 h) → 5.5 h after resuming.
    assert res.next_alarm_at == resume + dt.timedelta(hours=5, minutes=30)


def test_a_met_clock_disarms_and_cancels_held_notices(esc: EscalationSetup) -> None:
    w = esc.world
    w.agent.user.time_zone = "Asia/Tokyo"
    w.agent.user.save(update_fields=["time_zone"])
    opened = utc(2026, 3, 2, 19)
    with time_machine.travel(opened, tick=False):
        ticket = esc.ticket()
    sweep_at(opened + dt.timedelta(minutes=45))
    with time_machine.travel(opened + dt.timedelta(minutes=50), tick=False):
        sla_agent_public_reply(ticket=ticket, at=opened + dt.timedelta(minutes=50))
    clock = clock_of(ticket)
    assert clock.status == SLAClock.Status.MET
    assert clock.next_alarm_at is None
    held = NotificationDelivery.objects.get(channel="email", source_key__startswith="esc:")
    assert held.status == "cancelled"
    assert sweep_at(opened + dt.timedelta(hours=3)) == 0


def test_quiet_hours_hold_non_urgent_email_but_never_a_critical_breach(
    esc: EscalationSetup,
) -> None:
    w = esc.world
    w.agent.user.time_zone = "America/New_York"
    w.agent.user.save(update_fields=["time_zone"])
    opened = utc(2026, 3, 3, 3)  # 22:00 in New York (EST)
    with time_machine.travel(opened, tick=False):
        critical = esc.ticket()
        high = esc.ticket(severity=esc.high)
    sweep_at(opened + dt.timedelta(hours=2))  # critical: warning + breach; high: warning

    def email_of(ticket: Ticket, level: int) -> NotificationDelivery:
        escalation = Escalation.objects.get(ticket=ticket, level=level, metric="first_response")
        return NotificationDelivery.objects.get(
            source_key=f"esc:{escalation.pk}", channel="email", recipient=w.agent.user.email
        )

    morning = utc(2026, 3, 3, 12)  # 07:00 EST
    assert email_of(critical, 1).next_attempt_at <= opened + dt.timedelta(hours=2)  # urgent
    assert email_of(high, 0).next_attempt_at == morning  # a warning waits
    sweep_at(opened + dt.timedelta(hours=3))
    assert email_of(high, 1).next_attempt_at == morning  # a rank-2 breach waits too
    # The team lead has no time zone of their own: the tenant's (UTC) — 05:00 is quiet too.
    lead_email = NotificationDelivery.objects.get(
        source_key=f"esc:{Escalation.objects.get(ticket=high, level=1).pk}",
        recipient=w.lead.user.email,
        channel="email",
    )
    assert lead_email.next_attempt_at == utc(2026, 3, 3, 7)


def test_quiet_until_wraps_midnight_and_follows_dst() -> None:
    policy = EscalationPolicy(quiet_hours_start=22 * 60, quiet_hours_end=7 * 60)
    assert quiet_until(utc(2026, 3, 2, 21, 59), "UTC", policy) is None
    assert quiet_until(utc(2026, 3, 2, 22), "UTC", policy) == utc(2026, 3, 3, 7)
    assert quiet_until(utc(2026, 3, 3, 6, 59), "UTC", policy) == utc(2026, 3, 3, 7)
    assert quiet_until(utc(2026, 3, 3, 7), "UTC", policy) is None
    # Berlin springs forward on 29 Mar 2026: 07:00 CEST is 05:00 UTC.
    assert quiet_until(utc(2026, 3, 29, 1), "Europe/Berlin", policy) == utc(2026, 3, 29, 5)
    assert quiet_until(utc(2026, 3, 2, 23), "Nowhere/Bogus", policy) == utc(2026, 3, 3, 7)
    policy.quiet_hours_enabled = False
    assert quiet_until(utc(2026, 3, 2, 23), "UTC", policy) is None


def test_the_eta_task_is_queued_after_commit_only_within_the_horizon(
    esc: EscalationSetup, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(alarms, "enqueue_fire", lambda *args: queued.append(args))
    # The notices' tasks are not this test's business (and must not reach a real broker).
    monkeypatch.setattr(notification_services, "enqueue_deliveries", lambda *a, **k: None)
    monkeypatch.setattr(webhook_services, "enqueue_deliveries", lambda *a, **k: None)
    with time_machine.travel(T0, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            soon = esc.ticket(opened_at=T0 - dt.timedelta(minutes=40))  # warning in 5 min
        clock = clock_of(soon)
        assert queued == [(clock.pk, clock.version, 0, T0 + dt.timedelta(minutes=5))]
        queued.clear()
        with django_capture_on_commit_callbacks(execute=True):
            later = esc.ticket(severity=esc.high)  # warning in 90 min: the planner's
        assert queued == []
    later_clock = clock_of(later)
    assert later_clock.next_alarm_at is not None
    with time_machine.travel(later_clock.next_alarm_at - dt.timedelta(minutes=10), tick=False):
        assert alarms_plan() >= 1
    assert (later_clock.pk, later_clock.version, 0, later_clock.next_alarm_at) in queued
    # Firing the warning leaves the breach (15 min later) to the planner...
    queued.clear()
    with (
        time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert len(clock_alarm_fire(clock_id=clock.pk, version=clock.version)) == 1
    assert queued == []
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        alarms_plan()
    assert (clock.pk, clock.version, 1, T0 + dt.timedelta(minutes=20)) in queued
    # ... as is level 2, an hour after the breach (the worker tests show a fire queueing a near
    # next level itself).
    queued.clear()
    with (
        time_machine.travel(T0 + dt.timedelta(minutes=20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert len(clock_alarm_fire(clock_id=clock.pk, version=clock.version)) == 1
    assert queued == []


def test_the_sweep_query_reads_the_partial_index_in_alarm_order(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        a = esc.ticket(opened_at=T0 - dt.timedelta(minutes=50))
        b = esc.ticket(opened_at=T0 - dt.timedelta(minutes=55))
        assert alarms_due(now=T0) == [clock_of(b).pk, clock_of(a).pk]


def test_tenant_levels_replace_the_defaults(esc: EscalationSetup) -> None:
    w = esc.world
    escalation_policy_update(
        tenant=w.tenant,
        distribution_emails=["duty@alpha.test"],
        levels=[
            {"level": 1, "recipients": ["distribution_list", "account_executive"]},
            {
                "level": 2,
                "offset_minutes": 30,
                "recipients": ["manager"],
                "metrics": ["resolution"],
            },
        ],
    )
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    assert clock_of(ticket).next_alarm_level == 1  # no warning level
    sweep_at(T0 + dt.timedelta(hours=2))
    assert [lv for lv, _ in levels(ticket)] == [1]  # level 2 is for resolution only
    assert Escalation.objects.get(ticket=ticket).recipients == [
        "escalations@alpha.test",
        "duty@alpha.test",
        "ae@alpha.test",
    ]


def test_rearm_after_a_rule_change(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    escalation_policy_update(
        tenant=esc.world.tenant, levels=[{"level": 1, "recipients": ["assignee"]}]
    )
    alarms.alarms_rearm(tenant_id=esc.world.tenant.pk)
    assert clock_of(ticket).next_alarm_level == 1


def test_team_lead_falls_back_to_the_tenants_leads_without_a_team(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(team=False, assignee=esc.manager)
    sweep_at(T0 + dt.timedelta(minutes=61))
    assert Escalation.objects.get(ticket=ticket, level=1).recipients == [
        esc.manager.user.email,
        w.lead.user.email,
    ]


def test_escalations_for_tickets_is_the_ticket_resource_shape(esc: EscalationSetup) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(opened_at=T0 - dt.timedelta(minutes=61))
        other = esc.ticket()
        alarms_sweep()
    out = escalations_for_tickets([ticket.pk, other.pk])
    assert out[other.pk] == []
    assert [(e["metric"], e["level"]) for e in out[ticket.pk]] == [
        ("first_response", 0),
        ("first_response", 1),
    ]
    first = out[ticket.pk][1]
    assert first["fired_at"] == T0.isoformat()
    assert first["recipients"] == [esc.world.agent.user.email, esc.world.lead.user.email]
    assert first["kind"] == "sla"


def test_webhook_events_follow_the_chain(esc: EscalationSetup) -> None:
    WebhookSubscription.objects.create(
        tenant=esc.world.tenant,
        url="http://127.0.0.1:9/hook",
        events=["sla.warning", "sla.breached", "escalation.fired"],
        secret="s",
    )
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    sweep_at(T0 + dt.timedelta(minutes=45))
    sweep_at(T0 + dt.timedelta(minutes=60))
    sweep_at(T0 + dt.timedelta(minutes=120))
    events = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    assert events == ["sla.warning", "sla.breached", "escalation.fired", "escalation.fired"]
    payload = WebhookDelivery.objects.filter(event_type="sla.breached").get().payload
    assert payload["data"]["ticket"]["reference"] == ticket.reference
    assert payload["data"]["escalation"]["level"] == 1


def test_a_level_that_reaches_nobody_goes_to_the_admins(esc: EscalationSetup) -> None:
    w = esc.world
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket()
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None)
    sweep_at(T0 + dt.timedelta(minutes=45))
    assert Escalation.objects.get(ticket=ticket, level=0).recipients == [w.admin.user.email]
