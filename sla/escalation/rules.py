"""The escalation rules, as data: the tenant's levels, when each level of a clock is due, who it
notifies, and whether a notice may wait out the recipient's quiet hours.

Decisions (stated once, here)
-----------------------------
* **Levels.** Level 0 is the warning, due at the clock's ``warn_at`` (the target's
  ``warn_at_percent``, 75 % by default). Level n >= 1 is due ``offset_minutes`` after
  ``due_at``. A tenant without rule rows uses :data:`DEFAULT_LEVELS`: warning → assignee;
  1 at breach → assignee and team lead; 2 at breach + 1 h → managers and the escalation
  distribution list; 3 at breach + 4 h → the organization's account executive.
* **Nobody to tell.** A level whose roles resolve to nobody (an unassigned ticket, a tenant
  without team leads) goes to the tenant's admins.
* **Eligibility.** A clock escalates only when its target *and* the ticket's severity are
  escalation-eligible. An ineligible clock fires nothing at all: no warning either (seed 001's
  Low and Cosmetic "never escalate"; a warning is the first step of the same chain).
* **When levels apply.** Only while the clock is unstopped and not paused: a met clock has
  nothing left to escalate, a paused one (waiting on the customer) waits; on resume the levels
  not yet fired are re-armed for the new instants.
* **Moves.** A level counts as fired for a clock when it already fired for an instant at or
  after the one now planned (whatever version that was); when the due time moves later than
  the instant a level fired for (the breach was undone by a pause or a severity change, then
  happened again), the level fires again for the new version.
* **Catch-up.** Levels whose instant has passed when they are armed (an imported ticket) fire
  at once, each once, in order. A warning caught up on a clock that is already breached is
  recorded but sends nothing (the breach notices say more).
* **Quiet hours** (the policy's window, in the recipient's time zone: ``User.time_zone``, else
  the tenant's) hold back email and pager notices that are not urgent until the window ends;
  in-app notifications are silent and never wait. Urgent: a breach (level >= 1) of a severity
  ranked at or above the policy's ``urgent_max_rank`` (rank 1, the top severity, by default),
  every emergency page, and a customer's escalation of such a severity.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q

from channels.notifications.services import Recipient
from helpdesk.models import Membership
from tickets.models import Team, TeamMember, Ticket

from ..models import (
    Escalation,
    EscalationPolicy,
    EscalationRole,
    EscalationRule,
    NoticeChannel,
    SLAClock,
)

Role = EscalationRole
EMAIL, IN_APP, PAGER = NoticeChannel.EMAIL, NoticeChannel.IN_APP, NoticeChannel.PAGER


@dataclass(frozen=True)
class Level:
    level: int
    offset_minutes: int
    recipients: tuple[str, ...]
    channels: tuple[str, ...] = (EMAIL, IN_APP)
    metrics: tuple[str, ...] = ()  # empty: every metric

    def applies_to(self, metric: str) -> bool:
        return not self.metrics or metric in self.metrics


DEFAULT_LEVELS: tuple[Level, ...] = (
    Level(0, 0, (Role.ASSIGNEE,)),
    Level(1, 0, (Role.ASSIGNEE, Role.TEAM_LEAD)),
    Level(2, 60, (Role.MANAGER, Role.DISTRIBUTION_LIST)),
    Level(3, 240, (Role.ACCOUNT_EXECUTIVE,)),
)


# Per process, per tenant: (read at, levels, policy). Firing reads them for every clock; they
# change rarely, and a change re-arms the open clocks anyway (sla.rearm_alarms), so a few
# seconds of staleness in another process is harmless. The writing process clears its entry.
_RULES: dict[int, tuple[float, tuple[Level, ...], EscalationPolicy]] = {}
RULES_TTL_SECONDS = 3.0


def rules_for(tenant_id: int) -> tuple[tuple[Level, ...], EscalationPolicy]:
    """The tenant's levels and policy (cached for ``RULES_TTL_SECONDS``)."""
    cached = _RULES.get(tenant_id)
    if cached is not None and time.monotonic() - cached[0] < RULES_TTL_SECONDS:
        return cached[1], cached[2]
    levels, policy = levels_for(tenant_id), policy_for(tenant_id)
    if len(_RULES) > 1000:
        _RULES.clear()
    _RULES[tenant_id] = (time.monotonic(), levels, policy)
    return levels, policy


def rules_forget(tenant_id: int | None = None) -> None:
    if tenant_id is None:
        _RULES.clear()
    else:
        _RULES.pop(tenant_id, None)


def levels_for(tenant_id: int) -> tuple[Level, ...]:
    """The tenant's active levels, lowest first (:data:`DEFAULT_LEVELS` when it has none)."""
    rows = list(EscalationRule.objects.for_tenant(tenant_id).order_by("level"))
    if not rows:
        return DEFAULT_LEVELS
    return tuple(
        Level(
            r.level,
            r.offset_minutes,
            tuple(r.recipients),
            tuple(r.channels) or (EMAIL, IN_APP),
            tuple(r.metrics),
        )
        for r in rows
        if r.active
    )


def policy_for(tenant_id: int) -> EscalationPolicy:
    """The tenant's escalation policy (an unsaved row of defaults when it has none)."""
    policy = EscalationPolicy.objects.for_tenant(tenant_id).first()
    return policy if policy is not None else EscalationPolicy(tenant_id=tenant_id)


# --- when ------------------------------------------------------------------------------------


def clock_is_eligible(clock: SLAClock, severity_eligible: bool | None) -> bool:
    return bool(clock.escalation_eligible and severity_eligible)


def level_instants(
    clock: SLAClock, levels: Iterable[Level], *, eligible: bool
) -> list[tuple[dt.datetime, int]]:
    """(instant, level) for every level of ``clock`` that applies now, earliest first."""
    if not eligible or clock.met_at is not None or clock.paused_at is not None:
        return []
    plan = []
    for level in levels:
        if not level.applies_to(clock.metric):
            continue
        if level.level == 0:
            at = clock.warn_at
        else:
            at = (
                clock.due_at + dt.timedelta(minutes=level.offset_minutes)
                if clock.due_at is not None
                else None
            )
        if at is not None:
            plan.append((at, level.level))
    return sorted(plan)


def fired_instants(escalations: Iterable[Escalation]) -> dict[int, dt.datetime]:
    """Per level, the latest instant it already fired for (any version)."""
    done: dict[int, dt.datetime] = {}
    for esc in escalations:
        if esc.level is not None and esc.due_at is not None:
            done[esc.level] = max(done.get(esc.level, esc.due_at), esc.due_at)
    return done


def next_alarm(
    plan: Sequence[tuple[dt.datetime, int]], done: dict[int, dt.datetime]
) -> tuple[dt.datetime | None, int | None]:
    """The earliest planned level that has not fired for its instant (module doc: moves)."""
    for at, level in plan:
        fired_for = done.get(level)
        if fired_for is None or fired_for < at:
            return at, level
    return None, None


# --- who -------------------------------------------------------------------------------------


def _member(m: Membership, tenant_zone: str) -> Recipient:
    return Recipient(
        email=m.user.email.lower(),
        membership_id=m.pk,
        time_zone=m.user.time_zone or tenant_zone,
    )


def _tier_members(ticket: Ticket, tier: str) -> list[Membership]:
    """Active agents of ``tier`` in the ticket's team; the tenant's if there are none (or no
    team)."""
    staff = Membership.objects.for_tenant(ticket.tenant_id).filter(
        role=Membership.Role.AGENT, tier=tier, is_active=True
    )
    if ticket.team_id is not None:
        in_team = TeamMember.objects.for_tenant(ticket.tenant_id).filter(team_id=ticket.team_id)
        members = list(staff.filter(pk__in=in_team.values("membership_id")).select_related("user"))
        if members:
            return members
    return list(staff.select_related("user").order_by("id"))


def recipients_for(
    ticket: Ticket, roles: Iterable[str], policy: EscalationPolicy, *, fallback: bool = False
) -> list[Recipient]:
    """Resolve ``roles`` against ``ticket`` now; one recipient per address, in role order.
    With ``fallback``, a level that reaches nobody (an unassigned ticket, no team lead, no
    list) goes to the tenant's admins instead: an escalation that tells no one is none."""
    zone = ticket.tenant.time_zone or "UTC"
    found: list[Recipient] = []
    for role in roles:
        if role == Role.ASSIGNEE:
            assignee = ticket.assignee
            if assignee is not None and assignee.is_active and assignee.is_staff_member:
                found.append(_member(assignee, zone))
        elif role in (Role.TEAM_LEAD, Role.MANAGER, Role.PRINCIPAL):
            found.extend(_member(m, zone) for m in _tier_members(ticket, role))
        elif role == Role.DISTRIBUTION_LIST:
            team: Team | None = ticket.team
            emails = [*(team.escalation_emails if team else []), *policy.distribution_emails]
            found.extend(Recipient(email=str(e).lower(), time_zone=zone) for e in emails if e)
        elif role == Role.ACCOUNT_EXECUTIVE:
            organization = ticket.organization
            if organization is not None and organization.account_executive_email:
                found.append(
                    Recipient(email=organization.account_executive_email.lower(), time_zone=zone)
                )
    if not found and fallback:
        admins = Membership.objects.for_tenant(ticket.tenant_id).filter(
            role=Membership.Role.ADMIN, is_active=True
        )
        found = [_member(m, zone) for m in admins.select_related("user").order_by("id")]
    seen: set[str] = set()
    unique = []
    for r in found:
        if r.email not in seen:
            seen.add(r.email)
            unique.append(r)
    return unique


def staff_by_email(tenant_id: int, emails: Iterable[str]) -> dict[str, Membership]:
    """Active staff memberships of the tenant for ``emails`` (a distribution list address that
    is also an agent gets the in-app notification too)."""
    wanted = {e.lower() for e in emails}
    if not wanted:
        return {}
    rows = (
        Membership.objects.for_tenant(tenant_id)
        .filter(Q(role=Membership.Role.AGENT) | Q(role=Membership.Role.ADMIN), is_active=True)
        .filter(user__email__in=wanted)
        .select_related("user")
    )
    return {m.user.email.lower(): m for m in rows}


# --- quiet hours -----------------------------------------------------------------------------


def is_urgent(*, level: int | None, severity_rank: int | None, policy: EscalationPolicy) -> bool:
    """A breach (level >= 1) of a severity ranked ``urgent_max_rank`` or higher (module doc)."""
    return (
        level is not None
        and level >= 1
        and severity_rank is not None
        and severity_rank <= policy.urgent_max_rank
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def quiet_until(at: dt.datetime, time_zone: str, policy: EscalationPolicy) -> dt.datetime | None:
    """If ``at`` falls in the policy's quiet hours in ``time_zone``, the instant they end;
    else None. The window may wrap midnight (22:00-07:00); local wall time, so DST is the tz
    database's business."""
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if not policy.quiet_hours_enabled or start == end:
        return None
    zone = _zone(time_zone)
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + dt.timedelta(days=1)
    hours, minutes = divmod(end, 60)
    if hours == 24:
        day, hours = day + dt.timedelta(days=1), 0
    wall = dt.datetime(day.year, day.month, day.day, hours, minutes, tzinfo=zone)
    # A wall time skipped by a DST jump normalises forwards through UTC.
    return wall.astimezone(dt.UTC)
