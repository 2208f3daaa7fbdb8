"""The arithmetic of one clock over its running spans (the definitions are in
:mod:`sla.clocks`): budget, due and warn instants, consumed and paused business time. No
queries: it reads a clock, its pauses and a pure calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import businesstime as bt
from .models import SLAClock, SLAClockPause

_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class ClockResult:
    due: dt.datetime | None
    warn: dt.datetime | None
    paused_business: int
    paused_now: bool
    consumed: int  # business seconds run so far (up to now, or to the open pause)
    budget: int


def running_spans(
    started_at: dt.datetime, pauses: list[SLAClockPause]
) -> tuple[list[tuple[dt.datetime, dt.datetime | None]], bool]:
    """Running spans from the start, in order; the last is open-ended unless paused now."""
    spans: list[tuple[dt.datetime, dt.datetime | None]] = []
    cursor = started_at
    for pause in pauses:
        if pause.started_at > cursor:
            spans.append((cursor, pause.started_at))
        if pause.ended_at is None:
            return spans, True
        cursor = max(cursor, pause.ended_at)
    spans.append((cursor, None))
    return spans, False


def reach(
    cal: bt.Calendar, spans: list[tuple[dt.datetime, dt.datetime | None]], need: int
) -> dt.datetime | None:
    """The earliest instant at which running business time reaches ``need`` seconds."""
    acc = 0
    for a, b in spans:
        if b is None:
            return bt.deadline(cal, a, seconds=need - acc)
        got = bt.elapsed(cal, a, b)
        if acc + got >= need:
            return bt.deadline(cal, a, seconds=need - acc)
        acc += got
    return None


def consumed(
    cal: bt.Calendar, spans: list[tuple[dt.datetime, dt.datetime | None]], now: dt.datetime
) -> int:
    return sum(bt.elapsed(cal, a, min(b, now) if b else now) for a, b in spans if a < now)


def compute(
    clock: SLAClock, pauses: list[SLAClockPause], now: dt.datetime, cal: bt.Calendar
) -> ClockResult:
    start = clock.started_at
    nominal = None
    if clock.target_business_days is not None:
        nominal = bt.deadline(cal, start, business_days=clock.target_business_days)
        budget = bt.elapsed(cal, start, nominal)
    else:
        budget = (clock.target_minutes or 0) * 60
    spans, paused_now = running_spans(start, pauses)
    if nominal is not None and not pauses:
        due: dt.datetime | None = nominal
    else:
        due = reach(cal, spans, budget)
        if (
            nominal is not None
            and due is not None
            and spans[-1][1] is None
            and due >= spans[-1][0]
            and not bt.is_open(cal, due)
            and bt.is_open(cal, nominal)
            and not bt.is_open(cal, nominal - dt.timedelta(seconds=1))
        ):
            due = bt.next_opening(cal, due)
    warn = reach(cal, spans, budget * clock.warn_at_percent // 100)
    paused_business = sum(
        bt.elapsed(cal, p.started_at, p.ended_at) for p in pauses if p.ended_at is not None
    )
    return ClockResult(due, warn, paused_business, paused_now, consumed(cal, spans, now), budget)


def fmt(at: dt.datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{_WD[local.weekday()]} {local:%Y-%m-%d %H:%M %Z}"


def dur(seconds: int) -> str:
    h, rest = divmod(max(seconds, 0), 3600)
    m = rest // 60
    return " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m or not h else "") if p)
