"""Tests for sla.businesstime: property tests against a brute-force oracle, plus worked cases.

The oracle shares no logic with the module: it walks real (UTC) time minute by minute, asks
zoneinfo for each minute's UTC offset, and tests the resulting local wall time against the
weekly pattern and the holidays.  All generated calendars use whole-minute opening times and
all generated starts are whole minutes, so business time is constant within each UTC minute
(every zone used has whole-minute offsets and transitions).  No Django needed.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.businesstime import (
    Calendar,
    HolidayRule,
    deadline,
    deadline_seconds,
    elapsed,
    expand_holidays,
    expand_holidays_named,
    explain,
    is_open,
    next_opening,
    open_segments,
)

ZONES = [
    "Europe/Berlin",
    "America/Chicago",
    "America/New_York",
    "Australia/Sydney",
    "America/Santiago",
    "Pacific/Auckland",
    "Europe/London",
    "Europe/Moscow",
    "UTC",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
]
EPOCH_ORD = date(1970, 1, 1).toordinal()
MINUTE = timedelta(minutes=1)
WINDOW = (  # generated starts fall in this UTC minute range: all of 2026's DST switches
    int(datetime(2025, 12, 20, tzinfo=UTC).timestamp()) // 60,
    int(datetime(2026, 12, 31, tzinfo=UTC).timestamp()) // 60,
)
SCAN_DAYS = 150  # the oracle gives up (and the example is discarded) after this many days
Interval = tuple[int, int, int]  # weekday, start minute, end minute (1440 = 24:00)


# -- the oracle ------------------------------------------------------------------------------

_OFFSETS: dict[tuple[str, int], list[int]] = {}


def utc_day_offsets(zone: str, day: int) -> list[int]:
    """zoneinfo's UTC offset, in minutes, at each minute of UTC day ``day`` (memoised)."""
    key = (zone, day)
    if key not in _OFFSETS:
        z, out = ZoneInfo(zone), []
        for i in range(1440):
            off = datetime.fromtimestamp((day * 1440 + i) * 60, z).utcoffset()
            assert off is not None
            out.append(off // MINUTE)
        _OFFSETS[key] = out
    return _OFFSETS[key]


@dataclass(frozen=True)
class Spec:
    zone: str
    intervals: tuple[Interval, ...]
    holidays: frozenset[date]

    def calendar(self) -> Calendar:
        def hhmm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        return Calendar.build(
            self.zone, [(wd, hhmm(s), hhmm(e)) for wd, s, e in self.intervals], self.holidays
        )


class Oracle:
    """Brute force over UTC minutes ("m" = minutes since the epoch, real time)."""

    def __init__(self, spec: Spec) -> None:
        self.zone = spec.zone
        self.week = bytearray(7 * 1440)  # wall minute-of-week -> open?
        for wd, s, e in spec.intervals:
            self.week[wd * 1440 + s : wd * 1440 + e] = b"\x01" * (e - s)
        self.hol = {d.toordinal() - EPOCH_ORD for d in spec.holidays}
        self._bits: dict[int, list[bool]] = {}

    def wall(self, m: int) -> int:
        """Local wall time of UTC minute m, as minutes since 1970-01-01 00:00 wall time."""
        return m + utc_day_offsets(self.zone, m // 1440)[m % 1440]

    def open_at_wall(self, w: int) -> bool:
        day, t = divmod(w, 1440)
        return day not in self.hol and bool(self.week[(day + 3) % 7 * 1440 + t])  # Thu epoch

    def bits(self, day: int) -> list[bool]:
        """Business flag of each minute of UTC day ``day``."""
        if day not in self._bits:
            offs = utc_day_offsets(self.zone, day)
            base = day * 1440
            self._bits[day] = [self.open_at_wall(base + i + offs[i]) for i in range(1440)]
        return self._bits[day]

    def is_open(self, m: int) -> bool:
        return self.bits(m // 1440)[m % 1440]

    def deadline(self, m0: int, n: int) -> int | None:
        """End of the n-th business minute at or after m0 (m0 itself for n=0)."""
        if n == 0:
            return m0
        day, r, left = m0 // 1440, m0 % 1440, n
        for _ in range(SCAN_DAYS):
            row = self.bits(day)[r:]
            if sum(row) >= left:
                for i, b in enumerate(row):
                    left -= b
                    if left == 0:
                        return day * 1440 + r + i + 1
            left -= sum(row)
            day, r = day + 1, 0
        return None

    def elapsed(self, m0: int, m1: int) -> int:
        return sum(self.is_open(m) for m in range(m0, m1))

    def next_open(self, m0: int) -> int | None:
        for m in range(m0, m0 + SCAN_DAYS * 1440):
            if self.is_open(m):
                return m
        return None

    def day_minutes(self, wday: int) -> list[int]:
        """UTC minutes that are business time with local wall date ``wday`` (a wall day)."""
        lo, hi = wday * 1440 - 16 * 60, (wday + 1) * 1440 + 16 * 60  # offsets are < 16 h
        return [m for m in range(lo, hi) if self.is_open(m) and self.wall(m) // 1440 == wday]

    def business_days(self, m0: int, n: int) -> int | None:
        """The business-days rule, literally, with a naive day loop."""
        moved = self.next_open(m0)
        if moved is None or n == 0:
            return moved
        d0, t = divmod(self.wall(moved), 1440)
        d, seen = d0, 0
        while seen < n:
            d += 1
            if d - d0 > SCAN_DAYS:
                return None
            if self.day_minutes(d):
                seen += 1
        target_wall = d * 1440 + t
        u = d * 1440 + t - 16 * 60
        while self.wall(u) < target_wall:  # first instant whose wall time is >= target
            u += 1
        mins = self.day_minutes(d)
        later = [m for m in mins if m >= u]
        return later[0] if later else mins[-1] + 1


# -- strategies ------------------------------------------------------------------------------


def _all(days: range, s: int, e: int) -> tuple[Interval, ...]:
    return tuple((d, s, e) for d in days)


PRESETS: dict[str, tuple[Interval, ...]] = {
    "24/7": _all(range(7), 0, 1440),
    "24/5": _all(range(5), 0, 1440),
    "sun22-fri22": ((6, 1320, 1440), *_all(range(4), 0, 1440), (4, 0, 1320)),
    "office": _all(range(5), 480, 1020),
    "lunch": _all(range(5), 540, 720) + _all(range(5), 780, 1080),
    "midnight": _all(range(7), 1320, 1440) + _all(range(7), 0, 120),
    "dst-night": _all(range(7), 60, 180),
    "gap-hour": (*_all(range(7), 120, 180), (6, 600, 660)),
    "two-days": ((1, 600, 960), (3, 600, 960)),
    "sat-morning": ((5, 540, 780),),
    "weekend-nights": ((5, 0, 240), (6, 0, 240), (5, 1380, 1440)),
}


@st.composite
def intervals(draw: st.DrawFn) -> tuple[Interval, ...]:
    if draw(st.booleans()):
        return PRESETS[draw(st.sampled_from(sorted(PRESETS)))]
    step = draw(st.sampled_from([1, 15, 30, 60]))
    out = []
    for _ in range(draw(st.integers(1, 8))):
        s = draw(st.integers(0, 1440 // step - 1)) * step
        e = draw(st.integers(s // step + 1, 1440 // step)) * step
        out.append((draw(st.integers(0, 6)), s, e))  # may overlap or touch: build merges
    return tuple(out)


_TRANSITIONS: dict[str, list[int]] = {}


def transitions(zone: str) -> list[int]:
    """UTC minutes (to the hour) just after each offset change of ``zone`` in the window."""
    if zone not in _TRANSITIONS:
        z, out, prev = ZoneInfo(zone), [], None
        for h in range(WINDOW[0] // 60, WINDOW[1] // 60 + 1):
            off = datetime.fromtimestamp(h * 3600, z).utcoffset()
            if prev is not None and off != prev:
                out.append(h * 60)
            prev = off
        _TRANSITIONS[zone] = out
    return _TRANSITIONS[zone]


@st.composite
def starts(draw: st.DrawFn, zone: str) -> int:
    """A UTC minute: often within a few days of a DST switch, else anywhere in the window."""
    near = transitions(zone)
    use_near = draw(st.booleans())
    if near and use_near:
        return draw(st.sampled_from(near)) + draw(st.integers(-4 * 1440, 3 * 1440))
    return draw(st.integers(*WINDOW))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Spec, int]:
    zone = draw(st.sampled_from(ZONES))
    m0 = draw(starts(zone))
    near = [m0 // 1440, *(t // 1440 for t in transitions(zone))]
    hols = draw(
        st.lists(  # on and around weekends, near the start and near DST switches
            st.builds(
                lambda base, k: date.fromordinal(base + EPOCH_ORD + k),
                st.sampled_from(near),
                st.integers(-3, 20),
            ),
            max_size=6,
        )
    )
    return Spec(zone, draw(intervals()), frozenset(hols)), m0


def weekly_minutes(spec: Spec) -> int:
    return len(Oracle(spec).week.replace(b"\x00", b""))


def aware(m: int, spec: Spec, local: bool) -> datetime:
    """UTC minute m as an aware datetime, either in UTC or (with fold) in the calendar zone."""
    dt = datetime.fromtimestamp(m * 60, UTC)
    return dt.astimezone(ZoneInfo(spec.zone)) if local else dt


def minute_of(dt: datetime) -> int:
    secs = (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert secs % 60 == 0 and dt.microsecond == 0, dt
    return secs // 60


PROPS = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# -- property tests (2,000+ examples per run) --------------------------------------------------


@PROPS
@given(cases(), st.data())
def test_deadline_minutes_matches_oracle(case: tuple[Spec, int], data: st.DataObject) -> None:
    spec, m0 = case
    weekly = weekly_minutes(spec)
    if weekly == 0:
        with pytest.raises(ValueError):
            deadline(spec.calendar(), aware(m0, spec, False), minutes=1)
        return
    n = data.draw(st.integers(0, min(3000, 2 * weekly)), label="minutes")
    expected = Oracle(spec).deadline(m0, n)
    if expected is None:  # beyond the oracle's scan (holidays piled up): nothing to compare
        return
    got = deadline(spec.calendar(), aware(m0, spec, data.draw(st.booleans())), minutes=n)
    assert got.tzinfo is UTC
    assert minute_of(got) == expected
    if n:
        assert elapsed(spec.calendar(), aware(m0, spec, False), got) == n * 60


@PROPS
@given(cases(), st.integers(0, 9 * 1440))
def test_elapsed_matches_oracle(case: tuple[Spec, int], span: int) -> None:
    spec, m0 = case
    cal = spec.calendar()
    got = elapsed(cal, aware(m0, spec, True), aware(m0 + span, spec, False))
    assert got == 60 * Oracle(spec).elapsed(m0, m0 + span)
    assert elapsed(cal, aware(m0 + span, spec, False), aware(m0, spec, False)) == 0


@settings(PROPS, max_examples=450)
@given(cases(), st.data())
def test_business_days_match_oracle(case: tuple[Spec, int], data: st.DataObject) -> None:
    spec, m0 = case
    if weekly_minutes(spec) == 0:
        return
    n = data.draw(st.integers(0, 6), label="business_days")
    near = transitions(spec.zone)
    if n and near and data.draw(st.booleans()):
        # Start n days before a DST switch, near its wall time: the target wall time then
        # often falls into the gap or the repeated hour (for calendars open at night).
        m0 = data.draw(st.sampled_from(near)) - n * 1440 + data.draw(st.integers(-120, 120))
    expected = Oracle(spec).business_days(m0, n)
    if expected is None:
        return
    got = deadline(spec.calendar(), aware(m0, spec, data.draw(st.booleans())), business_days=n)
    assert minute_of(got) == expected


@settings(PROPS, max_examples=450)
@given(cases(), st.integers(1, 4 * 1440))
def test_open_segments_is_open_next_opening(case: tuple[Spec, int], span: int) -> None:
    spec, m0 = case
    cal, oracle = spec.calendar(), Oracle(spec)
    runs: list[tuple[int, int]] = []
    for m in range(m0, m0 + span):
        if oracle.is_open(m):
            if runs and runs[-1][1] == m:
                runs[-1] = (runs[-1][0], m + 1)
            else:
                runs.append((m, m + 1))
    got = [
        (minute_of(a), minute_of(b))
        for a, b in open_segments(cal, aware(m0, spec, False), aware(m0 + span, spec, True))
    ]
    assert got == runs
    assert is_open(cal, aware(m0, spec, True)) == oracle.is_open(m0)
    if weekly_minutes(spec):
        expected = oracle.next_open(m0)
        if expected is not None:
            assert minute_of(next_opening(cal, aware(m0, spec, False))) == expected


@settings(PROPS, max_examples=120)
@given(cases(), st.integers(0, 20_000), st.integers(0, 40))
def test_explain_is_short_and_consistent(case: tuple[Spec, int], n: int, days: int) -> None:
    spec, m0 = case
    if weekly_minutes(spec) == 0 or Oracle(spec).deadline(m0, min(n, 3000)) is None:
        return
    cal = spec.calendar()
    for text in (
        explain(cal, aware(m0, spec, False), minutes=n),
        explain(cal, aware(m0, spec, False), business_days=days % 12),
    ):
        assert 0 < len(text) < 300
        assert "due " in text


# -- hand-written cases ----------------------------------------------------------------------

CHI, LON, BER, MOW = (
    ZoneInfo(z) for z in ("America/Chicago", "Europe/London", "Europe/Berlin", "Europe/Moscow")
)


def at(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    """A local wall time as UTC: an aware datetime with fold=1 never compares equal across
    zones (PEP 495), and the module returns UTC anyway."""
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold).astimezone(UTC)


def weekdays(start: str, end: str, tz: str, hol: tuple[date, ...] = ()) -> Calendar:
    return Calendar.build(tz, [(d, start, end) for d in range(5)], hol)


OFFICERND = Calendar.build("Europe/London", [(d, "00:00", "24:00") for d in range(5)])
APIPLATFORM = weekdays("08:00", "17:00", "America/Chicago")
OTCOMMERCE = weekdays("07:00", "17:00", "Europe/Moscow")
SPACEOS = weekdays("09:00", "17:00", "Europe/Berlin")
ALWAYS_CHI = Calendar.build("America/Chicago", [(d, "00:00", "24:00") for d in range(7)])


def test_officernd_24_5() -> None:
    # Fri 23:30 + 1 business hour: 30 min on Friday, 30 min from Monday 00:00.
    assert deadline(OFFICERND, at(LON, 2026, 3, 6, 23, 30), minutes=60) == at(
        LON, 2026, 3, 9, 0, 30
    )
    # SEV3 10 h from Fri 20:00: 4 h on Friday, 6 h on Monday.
    assert deadline(OFFICERND, at(LON, 2026, 3, 6, 20), minutes=600) == at(LON, 2026, 3, 9, 6)
    assert deadline(OFFICERND, at(LON, 2026, 3, 4, 9), minutes=600) == at(LON, 2026, 3, 4, 19)
    # 5 business days from Wednesday 10:00: Thu, Fri, Mon, Tue, Wed.
    got = deadline(OFFICERND, at(LON, 2026, 3, 4, 10), business_days=5)
    assert got == at(LON, 2026, 3, 11, 10)
    # A weekend start moves to Monday 00:00 first.
    assert deadline(OFFICERND, at(LON, 2026, 3, 7, 12), business_days=0) == at(LON, 2026, 3, 9)


def test_apiplatform() -> None:
    # Break-Fix 24 business hours from Mon 09:00: Mon 8 h, Tue 9 h, Wed 7 h -> Wed 15:00.
    start = at(CHI, 2026, 3, 2, 9)
    assert deadline(APIPLATFORM, start, minutes=24 * 60) == at(CHI, 2026, 3, 4, 15)
    # Premium Critical: 2 h on 24/7, also across the spring-forward night (real hours).
    assert deadline(ALWAYS_CHI, at(CHI, 2026, 3, 7, 23, 30), minutes=120) == at(
        CHI, 2026, 3, 8, 1, 30
    )
    assert deadline(ALWAYS_CHI, at(CHI, 2026, 3, 8, 1, 30), minutes=120) == at(
        CHI, 2026, 3, 8, 4, 30
    )
    assert deadline(ALWAYS_CHI, at(CHI, 2026, 11, 1, 0, 30), minutes=120) == at(
        CHI, 2026, 11, 1, 1, 30, fold=1
    )


def test_closing_time_rule() -> None:
    got = deadline(APIPLATFORM, at(CHI, 2026, 3, 2, 8), minutes=9 * 60)
    assert got == at(CHI, 2026, 3, 2, 17)
    assert got.tzinfo is UTC
    assert deadline(APIPLATFORM, at(CHI, 2026, 3, 2, 8), minutes=9 * 60 + 1) == at(
        CHI, 2026, 3, 3, 8, 1
    )
    # N = 0 never moves the start, even when closed.
    sat = at(CHI, 2026, 3, 7, 12)
    assert deadline(APIPLATFORM, sat, minutes=0) == sat
    assert deadline_seconds(APIPLATFORM, sat, 1) == at(CHI, 2026, 3, 9, 8) + timedelta(seconds=1)


def test_otcommerce_moscow() -> None:
    assert deadline(OTCOMMERCE, at(MOW, 2026, 3, 6, 16, 30), minutes=60) == at(
        MOW, 2026, 3, 9, 7, 30
    )
    assert deadline(OTCOMMERCE, at(MOW, 2026, 3, 2, 10), business_days=5) == at(MOW, 2026, 3, 9, 10)
    # With 9 March (observed Women's Day) as a holiday, both move to Tuesday.
    hol = weekdays("07:00", "17:00", "Europe/Moscow", (date(2026, 3, 9),))
    assert deadline(hol, at(MOW, 2026, 3, 6, 16, 30), minutes=60) == at(MOW, 2026, 3, 10, 7, 30)
    assert deadline(hol, at(MOW, 2026, 3, 2, 10), business_days=5) == at(MOW, 2026, 3, 10, 10)


def test_spaceos_across_dst_switches() -> None:
    for fri, mon in ((27, 30), (23, 26)):
        month = 3 if fri == 27 else 10
        start = at(BER, 2026, month, fri, 16)
        assert deadline(SPACEOS, start, minutes=120) == at(BER, 2026, month, mon, 10)
        assert elapsed(SPACEOS, start, at(BER, 2026, month, mon, 10)) == 7200
        assert deadline(SPACEOS, start, business_days=1) == at(BER, 2026, month, mon, 16)
    # The whole switch weekend contributes nothing.
    assert elapsed(SPACEOS, at(BER, 2026, 10, 24), at(BER, 2026, 10, 26)) == 0


def test_dst_nights_change_real_length() -> None:
    cal = Calendar.build("Europe/Berlin", [(d, "01:00", "03:00") for d in range(7)])
    assert elapsed(cal, at(BER, 2026, 3, 29), at(BER, 2026, 3, 29, 12)) == 3600
    assert elapsed(cal, at(BER, 2026, 10, 25), at(BER, 2026, 10, 25, 12)) == 3 * 3600
    assert elapsed(cal, at(BER, 2026, 10, 26), at(BER, 2026, 10, 26, 12)) == 2 * 3600
    # 2.5 h from Sunday 01:00 on the fall-back night: 01:00 CEST -> 02:30 CET (second 02:30).
    assert deadline(cal, at(BER, 2026, 10, 25, 1), minutes=150) == at(
        BER, 2026, 10, 25, 2, 30, fold=1
    )
    assert is_open(cal, at(BER, 2026, 10, 25, 2, 30, fold=1))


def test_business_days_wall_time_in_gap_and_fold() -> None:
    always = Calendar.build("Europe/Berlin", [(d, "00:00", "24:00") for d in range(7)])
    # 02:30 does not exist on 29 March: the first instant at or after it is 03:00 CEST.
    got = deadline(always, at(BER, 2026, 3, 28, 2, 30), business_days=1)
    assert got == at(BER, 2026, 3, 29, 3)
    # 02:30 happens twice on 25 October: the first occurrence (CEST) is used.
    got = deadline(always, at(BER, 2026, 10, 24, 2, 30), business_days=1)
    assert got == at(BER, 2026, 10, 25, 2, 30) and got == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_business_days_edges() -> None:
    # A closed start moves to the opening first; the opening's wall time carries over.
    assert deadline(APIPLATFORM, at(CHI, 2026, 3, 7, 10), business_days=1) == at(
        CHI, 2026, 3, 10, 8
    )
    assert deadline(APIPLATFORM, at(CHI, 2026, 3, 2, 18), business_days=1) == at(CHI, 2026, 3, 4, 8)
    # Nothing left on the target day at that wall time: its last closing.
    short_tue = Calendar.build("America/Chicago", [(0, "08:00", "17:00"), (1, "08:00", "12:00")])
    got = deadline(short_tue, at(CHI, 2026, 3, 2, 15), business_days=1)
    assert got == at(CHI, 2026, 3, 3, 12)
    # At a closing time of the target day with more hours later: the next opening.
    split_tue = Calendar.build(
        "America/Chicago", [(0, "08:00", "17:00"), (1, "08:00", "10:00"), (1, "13:00", "17:00")]
    )
    assert deadline(split_tue, at(CHI, 2026, 3, 2, 10), business_days=1) == at(CHI, 2026, 3, 3, 13)
    # Before the target day's opening: its first opening.
    late_tue = Calendar.build("America/Chicago", [(0, "08:00", "17:00"), (1, "13:00", "17:00")])
    assert deadline(late_tue, at(CHI, 2026, 3, 2, 9), business_days=1) == at(CHI, 2026, 3, 3, 13)
    # Holidays and closed days are not working days.
    hol = weekdays("08:00", "17:00", "America/Chicago", (date(2026, 5, 25),))
    got = deadline(hol, at(CHI, 2026, 5, 22, 11), business_days=1)
    assert got == at(CHI, 2026, 5, 26, 11)


def test_midnight_touching_intervals_and_sub_seconds() -> None:
    night = Calendar.build(
        "UTC", [(d, "22:00", "24:00") for d in range(7)] + [(d, "00:00", "02:00") for d in range(7)]
    )
    start = datetime(2026, 3, 2, 23, 0, 0, 500_000, tzinfo=UTC)
    assert deadline(night, start, minutes=120) == datetime(2026, 3, 3, 1, 0, 0, 500_000, tzinfo=UTC)
    segs = list(
        open_segments(night, datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, 12, tzinfo=UTC))
    )
    assert segs == [
        (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 2, 2, tzinfo=UTC)),
        (datetime(2026, 3, 2, 22, tzinfo=UTC), datetime(2026, 3, 3, 2, tzinfo=UTC)),
    ]
    assert elapsed(night, start, datetime(2026, 3, 2, 23, 0, 2, tzinfo=UTC)) == 1  # floored


def test_build_merges_and_hashes() -> None:
    a = Calendar.build(
        "UTC",
        [
            (0, "09:00", "12:00"),
            (0, "11:00", "14:00"),
            (0, "14:00", "15:00"),
            (1, time(8), time(0)),
        ],
    )
    assert a.week[0] == ((9 * 3600, 15 * 3600),)
    assert a.week[1] == ((8 * 3600, 86400),)
    b = Calendar.build("UTC", [(1, "08:00", "24:00"), (0, "09:00", "15:00")])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    copy = pickle.loads(pickle.dumps(APIPLATFORM))
    assert copy == APIPLATFORM
    assert deadline(copy, at(CHI, 2026, 3, 2, 9), minutes=60) == at(CHI, 2026, 3, 2, 10)


def test_explain() -> None:
    text = explain(APIPLATFORM, at(CHI, 2026, 3, 6, 16), minutes=8 * 60)
    assert text.startswith("8 h: ")
    assert "Fri 16:00\u201317:00" in text and "Mon 08:00\u201315:00" in text
    assert "skipped Sat\u2013Sun" in text
    named = Calendar.build(
        "America/Chicago",
        [(d, "08:00", "17:00") for d in range(5)],
        [date(2026, 5, 25)],
        {date(2026, 5, 25): "Memorial Day"},
    )
    text = explain(named, at(CHI, 2026, 5, 22, 16), minutes=8 * 60)
    assert "Memorial Day" in text and "Tue 08:00\u201315:00" in text
    long = explain(named, at(CHI, 2026, 1, 5, 9), minutes=400 * 60)
    assert "more days" in long and len(long) < 300
    assert explain(named, at(CHI, 2026, 3, 4, 10), business_days=5).startswith("5 business days")


@pytest.mark.parametrize(
    "hours",
    [
        [(0, "17:00", "08:00")],
        [(0, "09:00", "09:00")],
        [(7, "09:00", "10:00")],
        [(-1, "09:00", "10:00")],
        [(0, "25:00", "26:00")],
        [(0, "09:00", "24:30")],
        [(0, "9am", "5pm")],
        [(0, "24:00", "24:00")],
        [(0, "10:00", "00:00")],
    ],
)
def test_bad_intervals(hours: list[tuple[int, str, str]]) -> None:
    with pytest.raises(ValueError):
        Calendar.build("UTC", hours)


def test_errors() -> None:
    naive = datetime(2026, 3, 2, 9)
    with pytest.raises(ValueError, match="time zone"):
        Calendar.build("Mars/Olympus_Mons", [(0, "09:00", "17:00")])
    with pytest.raises(ValueError):
        deadline(APIPLATFORM, naive, minutes=5)
    with pytest.raises(ValueError):
        elapsed(APIPLATFORM, naive, at(CHI, 2026, 3, 3))
    with pytest.raises(ValueError):
        is_open(APIPLATFORM, naive)
    start = at(CHI, 2026, 3, 2, 9)
    with pytest.raises(ValueError):
        deadline(APIPLATFORM, start, minutes=-1)
    with pytest.raises(ValueError):
        deadline(APIPLATFORM, start, business_days=-1)
    with pytest.raises(ValueError):
        deadline(APIPLATFORM, start, minutes=5, business_days=1)
    with pytest.raises(ValueError):
        deadline(APIPLATFORM, start)
    float_minutes: Any = 1.5
    with pytest.raises(TypeError):
        deadline(APIPLATFORM, start, minutes=float_minutes)
    empty = Calendar.build("UTC", [])
    for kwargs in ({"minutes": 1}, {"business_days": 1}):
        with pytest.raises(ValueError):
            deadline(empty, start, **kwargs)
    with pytest.raises(ValueError):
        next_opening(empty, start)
    assert elapsed(empty, start, start + timedelta(days=30)) == 0
    # Eleven years of holidays: a bounded search, not an endless loop.
    first = date(2026, 1, 1)
    all_hol = Calendar.build(
        "UTC",
        [(d, "09:00", "17:00") for d in range(7)],
        [first + timedelta(days=k) for k in range(11 * 366)],
    )
    with pytest.raises(ValueError):
        deadline(all_hol, start, minutes=1)
    with pytest.raises(ValueError):
        deadline(all_hol, start, business_days=1)


def test_expand_holidays() -> None:
    rules: list[HolidayRule] = [
        (date(2020, 12, 25), True, "Christmas"),
        {"date": date(2027, 7, 5), "name": "Observed"},
        {"start": date(2020, 12, 31), "end": date(2021, 1, 1), "yearly": True},
        ((date(2026, 8, 3), date(2026, 8, 5)), False),
        (date(2024, 2, 29), True),
        (date(2025, 1, 2), False),
    ]
    got = expand_holidays(rules, [2026, 2027])
    assert got == {
        date(2026, 12, 25),
        date(2027, 12, 25),
        date(2027, 7, 5),
        date(2026, 1, 1),
        date(2026, 12, 31),
        date(2027, 1, 1),
        date(2027, 12, 31),
        date(2026, 8, 3),
        date(2026, 8, 4),
        date(2026, 8, 5),
    }
    assert expand_holidays_named(rules, [2026])[date(2026, 12, 25)] == "Christmas"
    assert date(2028, 2, 29) in expand_holidays(rules, [2028])
    with pytest.raises(ValueError):
        expand_holidays([((date(2026, 8, 5), date(2026, 8, 3)), False)], [2026])
