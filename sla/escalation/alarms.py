"""Alarms: firing every warning and escalation level on time, exactly once, through faults.

The design
----------
* **The alarm.** Each clock carries ``next_alarm_at``/``next_alarm_level``: the earliest level
  still to fire (rules in :mod:`sla.escalation.rules`). The clock engine sets it on every
  refresh (:func:`clock_alarm_arm`, called from ``sla.clocks`` just before it saves the clock);
  a fire advances it. ``null`` means nothing is left, so the partial index
  ``sla_clock_next_alarm`` holds only clocks with something to fire.
* **On time.** When an alarm is set within :data:`ETA_HORIZON` (10 min) an ETA task
  ``sla.fire_clock(clock_id, version, level)`` is queued for its instant after commit. Alarms
  further out are queued by the planner (``sla.plan_alarms``, every 30 s) when they enter the
  horizon, so the broker and the workers never hold more than ~10 minutes of future tasks
  (far below Redis' visibility timeout, after which it would redeliver them).
* **Nothing lost.** The sweep (``sla.sweep_alarms``, every 2 s) fires every clock with
  ``next_alarm_at <= now`` — one range scan of the partial index, ``ORDER BY next_alarm_at
  LIMIT 10 FOR UPDATE SKIP LOCKED`` per batch, so overlapping sweeps split a backlog. A task
  lost with a killed worker, a restarted Redis, or a broker that was down when the clock was
  saved is therefore about one sweep late; a (re)started worker also re-queues the ETA tasks
  of the next 10 minutes at once.
* **Exactly once.** A fire locks the clock row (``SELECT … FOR UPDATE``; the sweep uses ``SKIP
  LOCKED`` and leaves a row being fired to whoever holds it), re-reads its version and alarm,
  and records each due level as an :class:`~sla.models.Escalation` row under the unique key
  (clock, level, clock version): the insert *is* the claim, and a second worker, a retry, a
  duplicated message or a restarted beat finds the row (or the advanced alarm) and does
  nothing. A task for an older version does nothing at all. The notices are written as outbox
  rows in the same transaction and leave after commit, each claimed once
  (:mod:`channels.notifications.services`, :mod:`channels.webhooks.services`).
* **Moves.** A refresh that moves due or warn bumps the clock's version; the alarm is
  recomputed for the new instants, levels already fired for an instant at or after the new one
  stay fired, and notices still held by quiet hours for a level that will fire again (or for a
  clock that was met) are cancelled.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from channels.notifications.services import Recipient, deliveries_cancel, on_commit_robust
from tickets.models import Ticket

from ..models import Escalation, EscalationPolicy, SLAClock
from .notify import escalation_notify, escalation_source_key
from .rules import (
    Level,
    clock_is_eligible,
    fired_instants,
    level_instants,
    next_alarm,
    recipients_for,
    rules_for,
)

logger = logging.getLogger(__name__)

ETA_HORIZON = dt.timedelta(minutes=10)
PLAN_PERIOD = dt.timedelta(seconds=30)  # the beat period of sla.plan_alarms
PLAN_OVERLAP = dt.timedelta(seconds=5)
SWEEP_BATCH = 500
SWEEP_CLAIM = 10  # clocks claimed (locked) per sweep transaction: short lock hold times
SWEEP_BUDGET_SECONDS = 20.0

Kind = Escalation.Kind
# What a fire reads of the ticket (a ticket's description can be long; this runs per alarm).
TICKET_FIELDS = (
    "id",
    "tenant_id",
    "number",
    "subject",
    "severity_id",
    "organization_id",
    "team_id",
    "assignee_id",
    "tenant__slug",
    "tenant__name",
    "tenant__ticket_prefix",
    "tenant__time_zone",
    "severity__name",
    "severity__rank",
    "severity__escalation_eligible",
    "organization__account_executive_email",
    "team__escalation_emails",
    "assignee__tenant_id",
    "assignee__role",
    "assignee__is_active",
    "assignee__user__email",
    "assignee__user__time_zone",
)


def enqueue_fire(clock_id: int, version: int, level: int | None, at: dt.datetime) -> None:
    """Queue ``sla.fire_clock`` for ``at`` (at once if it has passed)."""
    from ..tasks import fire_clock  # tasks import services, not back

    if at > timezone.now():
        fire_clock.apply_async((clock_id, version, level), eta=at)
    else:
        fire_clock.apply_async((clock_id, version, level))


def _severity_flags(clock: SLAClock) -> tuple[bool | None, int | None]:
    row = (
        Ticket.objects.filter(pk=clock.ticket_id)
        .values_list("severity__escalation_eligible", "severity__rank")
        .first()
    )
    return row if row is not None else (None, None)


def clock_alarm_arm(clock: SLAClock, *, now: dt.datetime) -> None:
    """Set ``clock.next_alarm_at``/``next_alarm_level`` in memory for the clock's current
    instants, cancel held notices that no longer apply, and queue the ETA task after commit
    when the alarm is near. Called by the clock engine right before it saves ``clock``.

    Precondition: ``clock`` is saved (has a pk) and locked by the caller's transaction.
    """
    levels, _ = rules_for(clock.tenant_id)
    eligible = clock_is_eligible(clock, _severity_flags(clock)[0])
    escalations = list(Escalation.objects.filter(clock_id=clock.pk, kind=Kind.SLA))
    plan = level_instants(clock, levels, eligible=eligible)
    clock.next_alarm_at, clock.next_alarm_level = next_alarm(plan, fired_instants(escalations))
    _cancel_superseded(clock, escalations, dict((lv, t) for t, lv in plan), now)
    clock_alarm_queue(clock, now=now)


def clock_alarm_arm_new(clock: SLAClock, *, severity_eligible: bool | None) -> None:
    """:func:`clock_alarm_arm` for a clock not inserted yet (a new ticket's): no escalation can
    refer to it, so nothing has fired and no held notice needs cancelling, and the caller passes
    its ticket's ``severity.escalation_eligible``: no query. Sets the alarm in memory; once the
    clock has its id, :func:`clock_alarm_queue` queues the ETA task."""
    levels, _ = rules_for(clock.tenant_id)
    plan = level_instants(clock, levels, eligible=clock_is_eligible(clock, severity_eligible))
    clock.next_alarm_at, clock.next_alarm_level = next_alarm(plan, {})


def clock_alarm_queue(clock: SLAClock, *, now: dt.datetime) -> None:
    """Queue the ETA task of the clock's alarm after commit when it is within the horizon."""
    at = clock.next_alarm_at
    if at is not None and at <= now + ETA_HORIZON:
        on_commit_robust(enqueue_fire, clock.pk, clock.version, clock.next_alarm_level, at)


def _cancel_superseded(
    clock: SLAClock,
    escalations: list[Escalation],
    planned: dict[int, dt.datetime],
    now: dt.datetime,
) -> None:
    for esc in escalations:
        if not esc.notices_pending or esc.level is None or esc.due_at is None:
            continue
        again_later = esc.level in planned and planned[esc.level] > esc.due_at
        if clock.met_at is None and not again_later:
            continue
        cancelled = deliveries_cancel(
            tenant_id=clock.tenant_id,
            source_keys=[escalation_source_key(esc)],
            reason="The clock was met or moved before this notice left.",
        )
        Escalation.objects.filter(pk=esc.pk).update(
            notices_pending=False, cancelled_at=now if cancelled else None
        )


def _record(
    clock: SLAClock,
    ticket: Ticket,
    level: Level,
    at: dt.datetime,
    now: dt.datetime,
    policy: EscalationPolicy,
) -> tuple[Escalation, list[Recipient]] | None:
    """The claim: insert the (clock, level, version) row, or find it taken."""
    recipients = recipients_for(ticket, level.recipients, policy, fallback=True)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                tenant_id=clock.tenant_id,
                kind=Kind.SLA,
                ticket=ticket,
                clock=clock,
                metric=clock.metric,
                level=level.level,
                clock_version=clock.version,
                due_at=at,
                fired_at=now,
                recipients=[r.email for r in recipients],
            )
    except IntegrityError:
        return None
    return escalation, recipients


def clock_alarm_fire(
    *,
    clock_id: int,
    version: int | None = None,
    now: dt.datetime | None = None,
    wait: bool = True,
) -> list[Escalation]:
    """Fire every level of the clock that is due now, in order, each once; mark the clock
    breached when its due time has passed; advance its alarm; queue the notices. A task for an
    older ``version`` does nothing. With ``wait=False`` a clock locked by someone else is left
    to them. Returns the escalations recorded by this call."""
    with transaction.atomic():
        clock = (
            SLAClock.objects.select_for_update(of=("self",), skip_locked=not wait)
            .filter(pk=clock_id)
            .first()
        )
        if clock is None or (version is not None and clock.version != version):
            return []
        return _fire_locked(clock, now or timezone.now())


def _fire_locked(clock: SLAClock, now: dt.datetime) -> list[Escalation]:
    """:func:`clock_alarm_fire` on a clock the caller's transaction has locked."""
    if clock.next_alarm_at is None or clock.next_alarm_at > now:
        return []
    fired: list[tuple[Escalation, list[Recipient], Level]] = []
    ticket = (
        Ticket.objects.select_related(
            "tenant", "severity", "organization", "team", "assignee__user"
        )
        .only(*TICKET_FIELDS)
        .get(pk=clock.ticket_id)
    )
    levels, policy = rules_for(clock.tenant_id)
    by_level = {lv.level: lv for lv in levels}
    severity = ticket.severity
    eligible = clock_is_eligible(clock, severity.escalation_eligible if severity else None)
    plan = level_instants(clock, levels, eligible=eligible)
    done = fired_instants(Escalation.objects.filter(clock_id=clock.pk, kind=Kind.SLA))
    while True:
        at, level = next_alarm(plan, done)
        if at is None or level is None or at > now:
            break
        done[level] = at
        recorded = _record(clock, ticket, by_level[level], at, now, policy)
        if recorded is not None:
            fired.append((*recorded, by_level[level]))
    update: dict[str, object] = {"next_alarm_at": at, "next_alarm_level": level}
    if (
        clock.met_at is None
        and clock.due_at is not None
        and clock.due_at <= now
        and clock.status != SLAClock.Status.BREACHED
    ):
        # The engine's own rule (sla.clocks): an unstopped clock past due is breached.
        update.update(status=SLAClock.Status.BREACHED, breached_at=clock.due_at)
    for name, value in update.items():
        setattr(clock, name, value)
    # A queryset update: the row is locked, and save() would re-check every foreign key.
    SLAClock.objects.filter(pk=clock.pk).update(**update)
    breach_level = min((lv.level for lv in levels if lv.level >= 1), default=None)
    for escalation, recipients, lv in fired:
        escalation_notify(
            escalation=escalation,
            recipients=recipients,
            level=lv,
            ticket=ticket,
            clock=clock,
            policy=policy,
            now=now,
            breach_level=breach_level,
        )
    if at is not None and at <= now + ETA_HORIZON:
        on_commit_robust(enqueue_fire, clock.pk, clock.version, level, at)
    return [f[0] for f in fired]


def alarms_due(*, now: dt.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    """The sweep query: clocks whose next alarm has come, oldest first (partial index)."""
    return list(
        SLAClock.objects.filter(next_alarm_at__lte=now)
        .order_by("next_alarm_at")
        .values_list("pk", flat=True)[:limit]
    )


def alarms_sweep(
    *,
    now: dt.datetime | None = None,
    batch: int = SWEEP_CLAIM,
    budget_seconds: float = SWEEP_BUDGET_SECONDS,
) -> int:
    """Fire every clock whose alarm has come and that no ETA task fired (lost, late, or never
    queued), oldest first. Claims ``batch`` clocks at a time with ``FOR UPDATE SKIP LOCKED``
    (the sweep query, locking), so sweeps running side by side share the backlog instead of
    queueing behind each other, and a clock being fired elsewhere is left to whoever holds it.
    One transaction per batch (a savepoint per clock: one clock's failure is logged and left
    to the next sweep). Returns how many escalations it recorded."""
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < budget_seconds:
        with transaction.atomic():
            at = now or timezone.now()
            clocks = list(
                SLAClock.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(next_alarm_at__lte=at)
                .order_by("next_alarm_at")[:batch]
            )
            for clock in clocks:
                try:
                    with transaction.atomic():
                        count += len(_fire_locked(clock, now or timezone.now()))
                except Exception:  # one broken clock must not stop the others
                    logger.exception("escalation sweep: clock %s failed", clock.pk)
        if len(clocks) < batch:
            break
    return count


def alarms_plan(*, now: dt.datetime | None = None, full: bool = False, limit: int = 20_000) -> int:
    """Queue ETA tasks for the alarms entering the horizon since the last run (a slice a little
    wider than the planner's period: an alarm queued twice fires once). ``full``: every alarm
    within the horizon — when a worker starts, since the tasks a previous worker held in
    memory may be gone."""
    now = now or timezone.now()
    low = now if full else now + ETA_HORIZON - PLAN_PERIOD - PLAN_OVERLAP
    rows = (
        SLAClock.objects.filter(next_alarm_at__gt=low, next_alarm_at__lte=now + ETA_HORIZON)
        .order_by("next_alarm_at")
        .values_list("pk", "version", "next_alarm_level", "next_alarm_at")[:limit]
    )
    n = 0
    for pk, version, level, at in rows:
        enqueue_fire(pk, version, level, at)
        n += 1
    return n


def alarms_rearm(*, tenant_id: int, batch: int = 500) -> int:
    """Recompute the alarm of every unstopped clock of the tenant (its escalation rules
    changed). One short transaction per batch of clocks."""
    ids = list(
        SLAClock.objects.for_tenant(tenant_id)
        .filter(met_at__isnull=True)
        .values_list("pk", flat=True)
    )
    for i in range(0, len(ids), batch):
        with transaction.atomic():
            now = timezone.now()
            for clock in SLAClock.objects.select_for_update(of=("self",)).filter(
                pk__in=ids[i : i + batch]
            ):
                clock_alarm_arm(clock, now=now)
                SLAClock.objects.filter(pk=clock.pk).update(
                    next_alarm_at=clock.next_alarm_at, next_alarm_level=clock.next_alarm_level
                )
    return len(ids)
