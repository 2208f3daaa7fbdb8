"""The clock engine: one service per ticket event, each keeping the ticket's SLA clocks exact.

Definitions (the contract the tests hold us to)
-----------------------------------------------
* Instants on clocks are whole seconds (floored), so business time adds up exactly.
* **Coverage.** A ticket's package is its organization's contract active on the local date
  (tenant time zone) of ``ticket.opened_at``; without one, the tenant's no-contract rule
  (``none``: no clock, the policy's note as reason; ``default_package``: that package). A
  severity the package does not cover gets no clock and says so. Per metric, the package's
  targets for the severity are tried by ``position`` and the first whose condition holds wins:
  ``opened_within X`` holds when ``opened_at`` is business time of calendar X (so a holiday of X
  is outside), ``opened_outside X`` when it is not, no condition always.
* **Budget.** A minutes target is Nx60 business seconds. A business-days target is the business
  time between the clock's start and ``deadline(cal, start, business_days=N)``.
* **Running time.** A clock runs from ``started_at`` except inside its pauses
  (``SLAClockPause`` rows: pending, on hold where the policy says so, and a solved spell that a
  reopen ended). *Consumed* business time at instant t is the calendar's business time in
  [started_at, t) minus the business time inside pauses. Business time that falls inside a pause
  is not counted (``paused_seconds`` totals it for closed pauses); closed wall time is free
  anyway.
* **Due.** ``due_at`` is the earliest instant at which consumed time reaches the budget, pauses
  to date taken into account and none assumed later. For a business-days target without pauses
  it is exactly ``deadline(business_days=N)`` (N working days later at the same local time);
  with pauses the same rule, except that when the unpaused deadline sat at an opening instant
  and the paused one lands on a closing instant, it moves to the next opening (same business
  time, the business-days reading). ``warn_at`` is the same for ``warn_at_percent`` of the
  budget (floored to the second).
* **Paused.** While paused no business time accrues, so a paused clock has no due instant:
  ``due_at`` is null (and ``warn_at`` unless already reached), ``status`` paused; on resume the
  due is recomputed from the start with the pause excluded.
* **Breach.** An unstopped clock whose ``due_at <= now`` is breached, ``breached_at = due_at``
  (imported tickets can be born breached). A stopped clock is met if ``met_at <= due_at``,
  breached otherwise. A recompute that moves ``due_at`` past now clears a breach.
* **Recompute** (severity, package, contract, target, calendar or policy change): coverage is
  resolved again at ``opened_at`` and every unstopped clock is recomputed from its original
  start, with its pauses, on the new target and calendar (so the time consumed so far is
  measured in the new calendar); stopped clocks keep their outcome. ``version`` goes up whenever
  ``due_at`` or ``warn_at`` moves.
* **Stopping.** The first public agent reply meets first response (and a pending next
  response); a later public agent reply meets next response; a customer reply after the first
  response starts next response unless one is already running (the earliest unanswered message
  counts). Solved or closed stops every clock; a reopen resumes resolution with the solved
  spell counted as a pause.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from helpdesk.tenancy import check_same_tenant
from tickets.models import Ticket

from . import businesstime as bt
from .clockmath import ClockResult, compute, dur, fmt
from .coverage import (
    EXEMPT_NOTE,
    HELD_NOTE,
    NO_CONTRACT_NOTE,
    NO_SEVERITY_NOTE,
    Coverage,
    sla_resolve,
)
from .escalation.alarms import clock_alarm_arm, clock_alarm_arm_new, clock_alarm_queue
from .models import (
    BusinessCalendar,
    Metric,
    SLAClock,
    SLAClockPause,
    SLAPolicy,
    SLATarget,
)
from .selectors import calendar_evaluate, sla_policy_for

METRICS = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.RESOLUTION)
STARTED_AT_OPEN = (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
STOPPED_STATUSES = frozenset({Ticket.Status.SOLVED, Ticket.Status.CLOSED})
__all__ = [
    "EXEMPT_NOTE",
    "HELD_NOTE",
    "NO_CONTRACT_NOTE",
    "NO_SEVERITY_NOTE",
    "Coverage",
    "sla_agent_public_reply",
    "sla_clocks_plan",
    "sla_clocks_start",
    "sla_customer_replied",
    "sla_first_public_agent_reply",
    "sla_recompute",
    "sla_recompute_tickets",
    "sla_resolve",
    "sla_status_changed",
    "sla_ticket_opened",
]


def _second(at: dt.datetime) -> dt.datetime:
    return at.replace(microsecond=0)


def _now(now: dt.datetime | None) -> dt.datetime:
    return _second(now or timezone.now())


def _explanation(
    clock: SLAClock, calendar: BusinessCalendar, cal: bt.Calendar, res: ClockResult, paused: bool
) -> str:
    target = clock.target
    head = f"{Metric(clock.metric).label}: "
    if clock.target_business_days is not None:
        n = clock.target_business_days
        head += f"{n} business day{'s' * (n != 1)}"
        base = bt.explain(cal, clock.started_at, business_days=n)
    else:
        head += f"{dur((clock.target_minutes or 0) * 60)} of business time"
        base = bt.explain(cal, clock.started_at, minutes=clock.target_minutes or 0)
    head += f" on {calendar.name}"
    if target is not None and target.condition and target.condition_calendar is not None:
        where = "within" if target.condition == SLATarget.Condition.OPENED_WITHIN else "outside"
        head += f" (opened {where} {target.condition_calendar.name})"
    zone = ZoneInfo(calendar.timezone)
    since = "Without pauses, from" if paused else "From"
    parts = [f"{head}. {since} {fmt(clock.started_at, zone)}: {base}"]
    if res.paused_business:
        parts.append(f"business time paused (not counted): {dur(res.paused_business)}")
    if res.paused_now and clock.met_at is None:
        parts.append(
            f"paused since {fmt(clock.paused_at or clock.started_at, zone)} with "
            f"{dur(res.budget - res.consumed)} left"
        )
    elif res.due is not None and paused:
        parts.append(f"so due {fmt(res.due, zone)}")
    if clock.met_at is not None:
        parts.append(f"stopped {fmt(clock.met_at, zone)}")
    if clock.breached_at is not None:
        parts.append(f"breached {fmt(clock.breached_at, zone)}")
    return "; ".join(parts)


def _refresh(
    clock: SLAClock,
    *,
    now: dt.datetime,
    save: bool = True,
    pauses: list[SLAClockPause] | None = None,
) -> SLAClock:
    """Recompute ``due_at``, ``warn_at``, status and explanation from the start, the pauses and
    the target snapshot on the clock (module doc). Bumps ``version`` when due or warn move.
    ``pauses``: the clock's pauses when the caller knows them (none for a clock not inserted
    yet), else read."""
    calendar = clock.calendar
    if calendar is None:  # its calendar was deleted; a recompute assigns the new target's
        return clock
    if pauses is None:
        pauses = list(SLAClockPause.objects.filter(clock_id=clock.pk).order_by("started_at", "id"))
    old = (clock.due_at, clock.warn_at)
    open_pause = next((p for p in pauses if p.ended_at is None), None)
    clock.paused_at = open_pause.started_at if open_pause is not None else None
    try:
        res, cal = calendar_evaluate(
            calendar,
            lambda cal: (compute(clock, pauses, now, cal), cal),
            start=clock.started_at,
            end=max(now, clock.started_at),
            reach=lambda rc: max(
                (x for x in (rc[0].due, rc[0].warn) if x is not None), default=None
            ),
        )
    except ValueError as exc:  # a calendar without business time for years: no due instant
        return _undue(clock, calendar, old, now, str(exc), save=save)
    clock.paused_seconds = res.paused_business
    clock.due_at, clock.warn_at = res.due, res.warn
    if clock.met_at is not None:
        late = res.due is not None and clock.met_at > res.due
        clock.status = SLAClock.Status.BREACHED if late else SLAClock.Status.MET
        clock.breached_at = res.due if late else None
    elif res.due is not None and res.due <= now:
        clock.status, clock.breached_at = SLAClock.Status.BREACHED, res.due
    else:
        clock.status = SLAClock.Status.PAUSED if res.paused_now else SLAClock.Status.RUNNING
        clock.breached_at = None
    if (clock.due_at, clock.warn_at) != old:
        clock.version += 1
    clock.explanation = _explanation(clock, calendar, cal, res, bool(pauses))
    clock.updated_at = now
    if save:
        # Escalation hook: the next warning/escalation instant for the (new) due and warn
        # times, and its ETA task queued after commit (sla.escalation.alarms).
        clock_alarm_arm(clock, now=now)
        clock.save()
    return clock


def _undue(
    clock: SLAClock,
    calendar: BusinessCalendar,
    old: tuple[dt.datetime | None, dt.datetime | None],
    now: dt.datetime,
    reason: str,
    *,
    save: bool,
) -> SLAClock:
    clock.due_at = clock.warn_at = clock.breached_at = None
    if clock.met_at is not None:
        clock.status = SLAClock.Status.MET
    else:
        paused = clock.paused_at is not None
        clock.status = SLAClock.Status.PAUSED if paused else SLAClock.Status.RUNNING
    if old != (None, None):
        clock.version += 1
    clock.explanation = f"{Metric(clock.metric).label}: no due time on {calendar.name} ({reason})."
    clock.updated_at = now
    if save:
        clock_alarm_arm(clock, now=now)  # escalation hook: no due time, no alarm
        clock.save()
    return clock


def _apply_target(clock: SLAClock, target: SLATarget) -> None:
    clock.target = target
    clock.calendar = target.calendar
    clock.target_minutes = target.target_minutes
    clock.target_business_days = target.target_business_days
    clock.warn_at_percent = target.warn_at_percent
    clock.escalation_eligible = target.escalation_eligible


def _clocks(ticket: Ticket) -> dict[str, SLAClock]:
    """The ticket's clocks, locked for the rest of the transaction."""
    rows = (
        SLAClock.objects.for_tenant(ticket.tenant_id)
        .select_for_update(of=("self",))
        .select_related("calendar", "target__condition_calendar")
        .filter(ticket=ticket)
    )
    return {c.metric: c for c in rows}


def _new_clock(ticket: Ticket, metric: str, target: SLATarget, started_at: dt.datetime) -> SLAClock:
    clock = SLAClock(
        tenant_id=ticket.tenant_id, ticket=ticket, metric=metric, started_at=_second(started_at)
    )
    _apply_target(clock, target)
    clock.save()
    return clock


def _pause(clock: SLAClock, at: dt.datetime, reason: str) -> None:
    if clock.paused_at is None and not clock.pauses.filter(ended_at__isnull=True).exists():
        SLAClockPause.objects.create(
            tenant_id=clock.tenant_id,
            clock=clock,
            started_at=max(at, clock.started_at),
            reason=reason,
        )


def _resume(clock: SLAClock, at: dt.datetime) -> None:
    for pause in clock.pauses.filter(ended_at__isnull=True):
        pause.ended_at = max(at, pause.started_at)
        pause.save(update_fields=["ended_at"])


def _stop(clock: SLAClock, at: dt.datetime, now: dt.datetime) -> None:
    _resume(clock, at)
    clock.met_at = max(at, clock.started_at)
    _refresh(clock, now=now)


def _set_note(ticket: Ticket, note: str) -> None:
    if ticket.sla_note != note:
        ticket.sla_note = note
        Ticket.objects.filter(pk=ticket.pk).update(sla_note=note)


# --- the events --------------------------------------------------------------------------------


@transaction.atomic
def sla_ticket_opened(
    *, ticket: Ticket, at: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[SLAClock]:
    """Start the first-response and resolution clocks of a new ticket at ``at`` (default
    ``ticket.opened_at``, which may be in the past: an imported ticket can be born breached),
    or record on the ticket why it has none. Idempotent: a ticket with clocks is left alone.

    Preconditions: the ticket is saved; ``severity``, ``organization``, ``sla_exempt`` and
    ``held_for_verification`` are set as they will stand.
    """
    now = _now(now)
    existing = _clocks(ticket)
    if existing:
        return list(existing.values())
    coverage, clocks = sla_clocks_plan(ticket=ticket, at=at, now=now)
    sla_clocks_start(ticket=ticket, clocks=clocks, now=now)
    _set_note(ticket, coverage.note)
    return clocks


def sla_clocks_plan(
    *, ticket: Ticket, at: dt.datetime | None = None, now: dt.datetime | None = None
) -> tuple[Coverage, list[SLAClock]]:
    """The coverage of a ticket without clocks and the clocks ``sla_ticket_opened`` starts for
    it, computed in full (due, warn, status, explanation, version, alarm) but not saved: the
    ticket itself need not be saved yet. ``sla_clocks_start`` inserts them.

    A new clock has no pause and no escalation yet, so neither is read, and it is inserted once
    with its final values instead of inserted, then refreshed and saved again."""
    now = _now(now)
    coverage = sla_resolve(ticket=ticket)
    started_at = _second(at or ticket.opened_at)
    severity = ticket.severity if coverage.targets else None  # loaded by sla_resolve
    clocks = []
    for metric in STARTED_AT_OPEN:
        target = coverage.targets.get(metric)
        if target is None:
            continue
        clock = SLAClock(
            tenant_id=ticket.tenant_id, ticket=ticket, metric=metric, started_at=started_at
        )
        _apply_target(clock, target)
        _refresh(clock, now=now, save=False, pauses=[])
        clock_alarm_arm_new(
            clock, severity_eligible=severity.escalation_eligible if severity else None
        )
        clocks.append(clock)
    return coverage, clocks


def sla_clocks_start(*, ticket: Ticket, clocks: list[SLAClock], now: dt.datetime) -> None:
    """Insert the clocks planned by ``sla_clocks_plan`` for ``ticket`` (now saved) in one
    statement, and queue their near alarms after commit. Runs in the caller's transaction."""
    if not clocks:
        return
    for clock in clocks:
        clock.ticket = ticket  # the ticket may have been saved after the plan
        check_same_tenant(clock)  # what SLAClock.save() checks; bulk_create does not call it
    SLAClock.objects.bulk_create(clocks)
    for clock in clocks:
        clock_alarm_queue(clock, now=now)


@transaction.atomic
def sla_agent_public_reply(
    *, ticket: Ticket, at: dt.datetime, now: dt.datetime | None = None
) -> list[SLAClock]:
    """A public reply by an agent at ``at``: meets first response if it is still owed, and a
    running next response. Returns the clocks it stopped."""
    now, at = _now(now), _second(at)
    stopped = []
    for metric in (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE):
        clock = _clocks(ticket).get(metric)
        if clock is not None and not clock.is_stopped:
            _stop(clock, at, now)
            stopped.append(clock)
    return stopped


def sla_first_public_agent_reply(
    *, ticket: Ticket, at: dt.datetime, now: dt.datetime | None = None
) -> list[SLAClock]:
    """The first public agent reply: meets first response (see ``sla_agent_public_reply``)."""
    return sla_agent_public_reply(ticket=ticket, at=at, now=now)


@transaction.atomic
def sla_customer_replied(
    *, ticket: Ticket, at: dt.datetime, now: dt.datetime | None = None
) -> SLAClock | None:
    """A customer message at ``at``: (re)starts next response, unless the first response is
    still owed or a next response is already running (the earliest unanswered message counts).
    Returns the running next-response clock, if any. A reopen is ``sla_status_changed``'s."""
    now, at = _now(now), _second(at)
    clocks = _clocks(ticket)
    first = clocks.get(Metric.FIRST_RESPONSE)
    if first is not None and not first.is_stopped:
        return None
    clock = clocks.get(Metric.NEXT_RESPONSE)
    if clock is not None and not clock.is_stopped:
        return clock
    target = sla_resolve(ticket=ticket).targets.get(Metric.NEXT_RESPONSE)
    if target is None:
        if clock is not None:
            clock.delete()
        return None
    if clock is None:
        clock = _new_clock(ticket, Metric.NEXT_RESPONSE, target, at)
    else:  # a new cycle on the same row: the previous one's outcome is history
        clock.pauses.all().delete()
        clock.started_at, clock.met_at, clock.breached_at = at, None, None
        _apply_target(clock, target)
    return _refresh(clock, now=now)


def _phase(status: str, policy: SLAPolicy | None) -> str:
    if status in STOPPED_STATUSES:
        return "stopped"
    if status == Ticket.Status.PENDING or (
        status == Ticket.Status.ON_HOLD and policy is not None and policy.pause_on_hold
    ):
        return "paused"
    return "running"


@transaction.atomic
def sla_status_changed(
    *, ticket: Ticket, old: str, new: str, at: dt.datetime, now: dt.datetime | None = None
) -> None:
    """The ticket's status went from ``old`` to ``new`` at ``at``: pending (and on hold where
    the policy says so) pauses resolution, open resumes it, solved/closed stops every clock, a
    reopen resumes resolution with the solved spell counted as a pause. The clock's own state
    is the truth about where it was, so a missed event does not derail it."""
    now, at = _now(now), _second(at)
    phase = _phase(new, sla_policy_for(tenant=ticket.tenant))
    clocks = _clocks(ticket)
    if phase == "stopped":
        for clock in clocks.values():
            if not clock.is_stopped:
                _stop(clock, at, now)
        return
    resolution = clocks.get(Metric.RESOLUTION)
    if resolution is None:
        return
    clock = resolution
    if clock.is_stopped:  # a reopen: the solved spell does not count
        solved_at = clock.met_at or at
        clock.met_at = None
        SLAClockPause.objects.create(
            tenant_id=clock.tenant_id,
            clock=clock,
            started_at=solved_at,
            ended_at=None if phase == "paused" else max(at, solved_at),
            reason="solved",
        )
    elif phase == "paused":
        _pause(clock, at, reason=new)
    else:
        _resume(clock, at)
    _refresh(clock, now=now)


@transaction.atomic
def sla_recompute(*, ticket: Ticket, now: dt.datetime | None = None) -> list[SLAClock]:
    """Recompute every unstopped clock of ``ticket`` after a change of severity, package,
    contract, target, calendar or policy (module doc): from the original start, keeping the
    pauses; stopped clocks keep their outcome; a metric that lost its target loses its clock, one
    that gained a target gets a clock from ``opened_at``. Updates ``ticket.sla_note``."""
    now = _now(now)
    coverage = sla_resolve(ticket=ticket)
    clocks = _clocks(ticket)
    policy = sla_policy_for(tenant=ticket.tenant)
    out = []
    for metric in METRICS:
        clock, target = clocks.get(metric), coverage.targets.get(metric)
        if clock is not None and clock.is_stopped:
            out.append(clock)
            continue
        if target is None:
            if clock is not None:
                clock.delete()
            continue
        if clock is None:
            if metric not in STARTED_AT_OPEN or ticket.status in STOPPED_STATUSES:
                continue
            clock = _new_clock(ticket, metric, target, ticket.opened_at)
            if metric == Metric.RESOLUTION and _phase(ticket.status, policy) == "paused":
                _pause(clock, now, reason=ticket.status)
        else:
            _apply_target(clock, target)
        out.append(_refresh(clock, now=now))
    _set_note(ticket, coverage.note)
    return out


def sla_recompute_tickets(*, tenant_id: int, ticket_ids: Iterable[int]) -> int:
    """``sla_recompute`` for each of the tenant's ``ticket_ids`` (one transaction each, so a
    long batch does not hold every lock at once). Returns how many it recomputed."""
    done = 0
    for ticket in (
        Ticket.objects.for_tenant(tenant_id)
        .select_related("tenant", "severity", "organization")
        .filter(pk__in=list(ticket_ids))
    ):
        sla_recompute(ticket=ticket)
        done += 1
    return done
