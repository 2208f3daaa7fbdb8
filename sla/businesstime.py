"""Business-time arithmetic for SLA deadlines (pure Python, stdlib only, no Django).

Definitions (the contract)
--------------------------
A *calendar* is an IANA time zone name, weekly opening intervals (several per day allowed;
weekday 0=Monday..6=Sunday; start and end "HH:MM", end may be "24:00", meaning midnight at the
end of that day; end must be after start) and holidays (a set of local dates; ``expand_holidays``
turns one-off, yearly and range rules into such a set).

* *Business time* is the set of instants whose local wall time, in the calendar's zone, lies in
  an opening interval of that local date's weekday, on a date that is not a holiday.  An interval
  [s, e) on date d is the set of real instants whose local wall-clock date is d and whose local
  wall time t satisfies s <= t < e.  A DST change therefore shortens or lengthens an interval in
  real time: 01:00-03:00 on a spring-forward night is one real hour, on a fall-back night three
  (the repeated wall times occur twice and both occurrences count; skipped ones don't exist).
* ``deadline(cal, start, minutes=N)``: the earliest instant at which N*60 seconds of business time
  have passed since ``start``.  A deadline landing on a closing time is that closing time
  (Mon 08:00 + 9 h on 08:00-17:00 is Mon 17:00).  N=0 returns ``start`` itself.
* ``deadline(cal, start, business_days=N)``: move a closed ``start`` to the next opening; take
  the same local wall time on the Nth following *working day* (a local date that has some
  business time: its weekday has hours, it is not a holiday, and its hours are not wholly
  swallowed by a DST gap); use the first instant whose wall time is at or after it (so a wall
  time in a DST gap becomes the end of the gap, a repeated one its first occurrence); then move
  to that day's first open instant at or after it, or to the day's last closing if none is left.
  N=0 returns the moved start.
* ``elapsed(cal, start, end)``: whole seconds of business time in [start, end); 0 if end <= start.
* ``is_open``, ``next_opening`` (the instant itself if open), ``open_segments`` (maximal business
  intervals within [start, end)) and ``explain`` (the segments a deadline consumes, in local
  time, and the days it skips, in under 300 characters) complete the API.

How: per calendar, business segments are materialised lazily, a quarter of real time at a time,
as sorted integer arrays with running totals; a deadline is then two binary searches.  Each
segment lies within one constant-UTC-offset piece of real time, where wall time = real time +
offset, which makes the DST rules above exact.  Equal calendars share these caches.

All datetimes taken must be timezone-aware (ValueError otherwise); all returned datetimes are
aware and in UTC.  Arithmetic is integer microseconds (so sub-second inputs are kept exactly);
``elapsed`` floors to whole seconds.  Limits: instants between 1800 and 9990; a search for
business time gives up with ValueError after ~10 years without any.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "HolidayRule",
    "deadline",
    "deadline_seconds",
    "elapsed",
    "expand_holidays",
    "expand_holidays_named",
    "explain",
    "is_open",
    "next_opening",
    "open_segments",
]

_US = timedelta(microseconds=1)
_SEC = 1_000_000  # the internal unit is the microsecond: integers only, exact
_DAY = 86_400 * _SEC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORD = date(1970, 1, 1).toordinal()  # wall day number + this = date ordinal
_CHUNK = 91 * _DAY  # business segments are materialised per ~quarter of real time
_PROBE = 12 * 3600  # seconds between offset probes when looking for DST transitions
_LIMIT = 3653 * _DAY  # give up after ~10 years without business time
_MIN = (datetime(1800, 1, 1, tzinfo=UTC) - _EPOCH) // _US
_MAX = (datetime(9990, 1, 1, tzinfo=UTC) - _EPOCH) // _US
_DASH = "\u2013"  # en dash, as in "Fri 16:00\u201317:00"
_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

TimeLike = time | str
Week = tuple[tuple[tuple[int, int], ...], ...]
_Lists = tuple[list[int], list[int], list[int], list[int], list[int]]


class _Cover(NamedTuple):
    """Immutable snapshot of materialised business segments over real time [lo, hi).

    Segments are sorted, disjoint, non-empty and never span two offset pieces or two local
    dates; ``cum[i]`` is the business time in [lo, ends[i]).  Snapshots are replaced, never
    mutated, so concurrent readers (threads) always see a consistent one.
    """

    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    cum: list[int]
    days: list[int]  # local (wall) date of each segment, as days since 1970-01-01
    offs: list[int]  # UTC offset in force during each segment
    pieces: list[tuple[int, int, int]]  # (start, end, offset): constant-offset real time

    def f(self, u: int) -> int:
        """Business time in [lo, u); requires lo <= u <= hi."""
        i = bisect_right(self.starts, u) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum[i] if u >= end else self.cum[i] - (end - u)


class _Cache:
    __slots__ = ("snap",)

    def __init__(self) -> None:
        self.snap: _Cover | None = None


# Equal calendars built separately (e.g. once per request) share their materialised segments.
# Least recently built first: an installation with many tenants' calendars keeps the busy ones.
_CACHES: OrderedDict[Calendar, _Cache] = OrderedDict()
_CACHES_MAX = 1024


def _offset(zone: ZoneInfo, sec: int) -> int:
    """UTC offset (microseconds) of the zone at epoch second ``sec``."""
    off = datetime.fromtimestamp(sec, zone).utcoffset()
    if off is None:  # pragma: no cover - ZoneInfo always answers
        raise ValueError("time zone gives no UTC offset")
    return off // _US


def _pieces(zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """Split real time [lo, hi) (whole seconds) into (start, end, offset) constant-offset pieces.

    zoneinfo exposes no transition list, so probe every 12 h and bisect to the exact second.
    Two transitions within 12 h that restore the original offset would be missed; tzdata has
    no such pair after 1800 (checked for every zone).  Transitions are at whole seconds.
    """
    out: list[tuple[int, int, int]] = []
    p, end = lo // _SEC, hi // _SEC
    cur, piece_start = _offset(zone, p), lo
    while p < end:
        q = min(p + _PROBE, end)
        while _offset(zone, q) != cur:
            a, b = p, q  # offset(a) == cur != offset(b): bisect to the first changed second
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(zone, mid) == cur:
                    a = mid
                else:
                    b = mid
            out.append((piece_start, b * _SEC, cur))
            piece_start, cur, p = b * _SEC, _offset(zone, b), b
        p = q
    if piece_start < hi:
        out.append((piece_start, hi, cur))
    return out


@dataclass(frozen=True)
class Calendar:
    """Business calendar; build it with :meth:`Calendar.build`.  Hashable and comparable.

    ``week[wd]`` holds sorted, merged (start, end) seconds-from-midnight intervals of weekday
    ``wd`` (0=Monday), ``0 <= start < end <= 86400``.
    """

    timezone: str
    week: Week
    holidays: frozenset[date] = frozenset()
    holiday_names: tuple[tuple[date, str], ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _week_us: Week = field(init=False, repr=False, compare=False)
    _hol: frozenset[int] = field(init=False, repr=False, compare=False)
    _cache: _Cache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("week must have 7 entries (Monday..Sunday)")
        for day in self.week:
            prev = -1
            for s, e in day:
                if not 0 <= s < e <= 86_400 or s <= prev:
                    raise ValueError(f"bad or unmerged interval ({s}, {e}) in week")
                prev = e
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        week_us = tuple(tuple((s * _SEC, e * _SEC) for s, e in day) for day in self.week)
        setattr_ = object.__setattr__  # frozen dataclass: derived fields are set once, here
        setattr_(self, "_zone", zone)
        setattr_(self, "_week_us", week_us)
        setattr_(self, "_hol", frozenset(d.toordinal() - _EPOCH_ORD for d in self.holidays))
        cache = _CACHES.get(self)
        if cache is None:
            cache = _CACHES.setdefault(self, _Cache())
            while len(_CACHES) > _CACHES_MAX:  # dropping only costs recomputation
                _CACHES.popitem(last=False)
        else:
            # Evicted by another thread meanwhile? This instance keeps its cache all the same.
            with suppress(KeyError):
                _CACHES.move_to_end(self)
        setattr_(self, "_cache", cache)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle/copy the definition only; the zone and the segment cache are rebuilt.
        return (Calendar, (self.timezone, self.week, self.holidays, self.holiday_names))

    @classmethod
    def build(
        cls,
        timezone: str,
        hours: Iterable[tuple[int, TimeLike, TimeLike]],
        holidays: Iterable[date] = (),
        holiday_names: Mapping[date, str] | None = None,
    ) -> Calendar:
        """Validate and normalise a calendar.

        ``hours``: (weekday 0-6, start, end) with times as ``datetime.time`` or "HH:MM[:SS]";
        an end of "24:00" (or ``time(0, 0)``, which cannot say 24:00) means end of day.
        Overlapping or touching intervals of a weekday are merged.  Raises ValueError.
        """
        per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for wd, start, end in hours:
            if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6:
                raise ValueError(f"weekday must be an int 0-6, got {wd!r}")
            s, e = _parse_time(start), _parse_time(end)
            if e == 0 and isinstance(end, time):  # time cannot say 24:00
                e = 86_400
            if s >= 86_400 or e <= s:
                raise ValueError(f"interval end must be after start: {start!r}-{end!r}")
            per_day[wd].append((s, e))
        week: list[tuple[tuple[int, int], ...]] = []
        for ivs in per_day:
            merged: list[tuple[int, int]] = []
            for s, e in sorted(ivs):
                if merged and s <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                else:
                    merged.append((s, e))
            week.append(tuple(merged))
        hol = frozenset(d.date() if isinstance(d, datetime) else d for d in holidays)
        names = tuple(sorted((holiday_names or {}).items()))
        return cls(timezone, tuple(week), hol, names)

    # -- materialisation -------------------------------------------------------------------

    def _gen(self, pieces: list[tuple[int, int, int]], cum0: int) -> _Lists:
        """Business segments within offset pieces, cumulative totals starting at ``cum0``."""
        starts: list[int] = []
        ends: list[int] = []
        cum: list[int] = []
        days: list[int] = []
        offs: list[int] = []
        week, hol, total = self._week_us, self._hol, cum0
        for a, b, o in pieces:
            wa, wb = a + o, b + o  # wall time is real time + o throughout this piece
            for day in range(wa // _DAY, (wb - 1) // _DAY + 1):
                if day in hol:
                    continue
                base = day * _DAY
                for s, e in week[(day + 3) % 7]:  # 1970-01-01 was a Thursday
                    s, e = max(base + s, wa), min(base + e, wb)
                    if s < e:
                        total += e - s
                        starts.append(s - o)
                        ends.append(e - o)
                        cum.append(total)
                        days.append(day)
                        offs.append(o)
        return starts, ends, cum, days, offs

    def _cover(self, lo: int, hi: int) -> _Cover:
        """A snapshot whose range contains [lo, hi] (lo <= hi), extending the cache if needed."""
        snap = self._cache.snap
        if snap is not None and snap.lo <= lo and hi < snap.hi:
            return snap
        if lo < _MIN or hi >= _MAX:
            raise ValueError("instant outside the supported range (years 1800-9990)")
        new_lo, new_hi = lo // _CHUNK * _CHUNK, (hi // _CHUNK + 1) * _CHUNK
        if snap is None or new_lo < snap.lo:  # (re)build from scratch; rare
            if snap is not None:
                new_hi = max(new_hi, snap.hi)
            pieces = _pieces(self._zone, new_lo, new_hi)
            new = _Cover(new_lo, new_hi, *self._gen(pieces, 0), pieces)
        else:  # append after snap.hi; copies keep the old snapshot intact for other readers
            new_hi = max(new_hi, snap.hi)
            total = snap.cum[-1] if snap.cum else 0
            pieces = _pieces(self._zone, snap.hi, new_hi)
            st, en, cu, dy, of = self._gen(pieces, total)
            new = _Cover(
                snap.lo,
                new_hi,
                snap.starts + st,
                snap.ends + en,
                snap.cum + cu,
                snap.days + dy,
                snap.offs + of,
                snap.pieces + pieces,
            )
        self._cache.snap = new
        return new

    def _grow(self, snap: _Cover, since: int) -> _Cover:
        """Extend forward, or raise if there has been no business time for ~10 years."""
        last = max(snap.ends[-1] if snap.ends else snap.lo, since)
        if not any(self.week) or snap.hi - last > _LIMIT:
            raise ValueError("calendar has no business time within ~10 years")
        return self._cover(snap.lo, snap.hi + max(_CHUNK, min(snap.hi - snap.lo, 8 * _CHUNK)))

    # -- primitives on integer microseconds ------------------------------------------------

    def _add(self, u: int, n: int) -> int:
        if n == 0:
            return u
        snap = self._cover(u, u)
        while True:  # recompute: another thread may have rebuilt the cache from an earlier lo
            target = snap.f(u) + n
            if snap.cum and snap.cum[-1] >= target:
                break
            snap = self._grow(snap, u)
        j = bisect_left(snap.cum, target)  # first segment reaching the target: earliest instant
        return snap.ends[j] - (snap.cum[j] - target)

    def _next_open(self, u: int) -> int:
        snap = self._cover(u, u)
        while True:
            i = bisect_right(snap.starts, u) - 1
            if i >= 0 and u < snap.ends[i]:
                return u
            if i + 1 < len(snap.starts):
                return snap.starts[i + 1]
            snap = self._grow(snap, u)

    def _day_segments(self, day: int) -> list[tuple[int, int, int]]:
        """(start, end, offset) segments of local date ``day`` (wall day number), by start."""
        lo, hi = day * _DAY - 2 * _DAY, day * _DAY + 3 * _DAY  # offsets are within +-1 day
        snap = self._cover(lo, hi)
        i, out = bisect_left(snap.starts, lo), []
        while i < len(snap.starts) and snap.starts[i] < hi:
            if snap.days[i] == day:
                out.append((snap.starts[i], snap.ends[i], snap.offs[i]))
            i += 1
        return out

    def _first_at_or_after_wall(self, w: int) -> int:
        """Earliest real instant whose wall time (as wall-epoch microseconds) is >= ``w``."""
        snap = self._cover(w - 2 * _DAY, w + 2 * _DAY)
        i = max(0, bisect_right(snap.pieces, w - 2 * _DAY, key=lambda p: p[0]) - 1)
        best = w + 2 * _DAY
        for a, b, o in snap.pieces[i:]:
            if a > best:
                break
            cand = max(a, w - o)  # within a piece wall time is monotone: solve u + o >= w
            if cand < b:
                best = min(best, cand)
        return best

    def _add_days(self, u: int, n: int) -> int:
        m = self._next_open(u)
        if n == 0:
            return m
        snap = self._cover(m, m)
        i = bisect_right(snap.starts, m) - 1
        d, wall = snap.days[i], m + snap.offs[i]
        t, seen, idle = wall - d * _DAY, 0, 0
        while True:
            d += 1
            segs = self._day_segments(d)
            if not segs:
                idle += 1
                if idle > _LIMIT // _DAY or not any(self.week):
                    raise ValueError("calendar has no working day within ~10 years")
                continue
            seen, idle = seen + 1, 0
            if seen == n:
                break
        x = self._first_at_or_after_wall(d * _DAY + t)
        for s, e, _ in segs:
            if e > x:
                return max(s, x)
        return max(e for _, e, _ in segs)

    def _raw(self, lo: int, hi: int) -> list[tuple[int, int, int, int]]:
        """(start, end, day, offset) segments clipped to [lo, hi)."""
        if hi <= lo:
            return []
        snap = self._cover(lo, hi)
        i = max(0, bisect_right(snap.starts, lo) - 1)
        out = []
        while i < len(snap.starts) and snap.starts[i] < hi:
            s, e = max(snap.starts[i], lo), min(snap.ends[i], hi)
            if s < e:
                out.append((s, e, snap.days[i], snap.offs[i]))
            i += 1
        return out


# -- conversions and validation ------------------------------------------------------------


def _parse_time(v: TimeLike) -> int:
    """Seconds from midnight of a ``time`` or "HH:MM[:SS]" (00:00..24:00)."""
    if isinstance(v, time):
        if v.tzinfo is not None or v.microsecond:
            raise ValueError(f"opening times must be naive whole seconds, got {v!r}")
        return v.hour * 3600 + v.minute * 60 + v.second
    if isinstance(v, str):
        parts = v.strip().split(":")
        if 2 <= len(parts) <= 3 and all(p.isdigit() and len(p) == 2 for p in parts):
            h, m, s = (int(p) for p in [*parts, "00"][:3])
            if m < 60 and s < 60 and (h < 24 or (h == 24 and m == s == 0)):
                return h * 3600 + m * 60 + s
    raise ValueError(f"bad time {v!r}: expected 'HH:MM' between 00:00 and 24:00")


def _to_us(dt: datetime) -> int:
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: pass a timezone-aware datetime")
    return (dt - _EPOCH) // _US


def _from_us(u: int) -> datetime:
    return _EPOCH + timedelta(microseconds=u)


def _count(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{what} must be an int, got {v!r}")
    if v < 0:
        raise ValueError(f"{what} must not be negative, got {v}")
    return v


def _one(**durations: int | None) -> str:
    given = [k for k, v in durations.items() if v is not None]
    if len(given) != 1:
        raise ValueError("pass exactly one of minutes=, seconds=, business_days=")
    return given[0]


# -- public API ----------------------------------------------------------------------------


def deadline(
    cal: Calendar,
    start: datetime,
    *,
    minutes: int | None = None,
    seconds: int | None = None,
    business_days: int | None = None,
) -> datetime:
    """Due instant (UTC) after a business duration from aware ``start`` (see module doc).

    Exactly one of ``minutes``, ``seconds`` (business time) or ``business_days`` (>= 0).
    Raises ValueError for naive ``start``, negative or missing/duplicate durations, or a
    calendar with no business time in ~10 years; TypeError for non-int durations.
    """
    kind, u = _one(minutes=minutes, seconds=seconds, business_days=business_days), _to_us(start)
    if kind == "business_days":
        return _from_us(cal._add_days(u, _count(business_days, kind)))
    n = _count(minutes, kind) * 60 if kind == "minutes" else _count(seconds, kind)
    return _from_us(cal._add(u, n * _SEC))


def deadline_seconds(cal: Calendar, start: datetime, seconds: int) -> datetime:
    """``deadline(cal, start, seconds=seconds)``."""
    return deadline(cal, start, seconds=seconds)


def elapsed(cal: Calendar, start: datetime, end: datetime) -> int:
    """Whole seconds of business time in [start, end) (floored); 0 if end <= start."""
    lo, hi = _to_us(start), _to_us(end)
    if hi <= lo:
        return 0
    snap = cal._cover(lo, hi)
    return (snap.f(hi) - snap.f(lo)) // _SEC


def is_open(cal: Calendar, instant: datetime) -> bool:
    """Whether aware ``instant`` is business time."""
    u = _to_us(instant)
    snap = cal._cover(u, u)
    i = bisect_right(snap.starts, u) - 1
    return i >= 0 and u < snap.ends[i]


def next_opening(cal: Calendar, instant: datetime) -> datetime:
    """``instant`` (as UTC) if open, else the start of the next business segment."""
    return _from_us(cal._next_open(_to_us(instant)))


def open_segments(
    cal: Calendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Maximal business intervals intersected with [start, end), as UTC (start, end) pairs."""
    pending: list[int] = []
    for s, e, _, _ in cal._raw(_to_us(start), _to_us(end)):
        if pending and pending[1] == s:  # adjacent across midnight or a DST piece: coalesce
            pending[1] = e
            continue
        if pending:
            yield _from_us(pending[0]), _from_us(pending[1])
        pending = [s, e]
    if pending:
        yield _from_us(pending[0]), _from_us(pending[1])


def _hm(us: int) -> str:
    sec = us // _SEC
    txt = f"{sec // 3600:02d}:{sec // 60 % 60:02d}"
    return txt + (f":{sec % 60:02d}" if sec % 60 else "")


def _dur(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return " ".join(p for p in (f"{h} h" if h else "", f"{m} min" if m or not h else "") if p)


def explain(
    cal: Calendar, start: datetime, *, minutes: int | None = None, business_days: int | None = None
) -> str:
    """Plain-words account of ``deadline``: business segments used (local time), skipped days.

    E.g. "8 h: Fri 16:00\u201317:00, Mon 08:00\u201315:00; skipped Sat\u2013Sun; due Mon 2026-03-09
    15:00" (with en dashes).
    """
    kind = _one(minutes=minutes, business_days=business_days)
    due = deadline(cal, start, minutes=minutes, business_days=business_days)
    u, v = _to_us(start), _to_us(due)
    first = (u + _offset(cal._zone, u // _SEC)) // _DAY  # local date of start
    if kind == "minutes":
        head = _dur(_count(minutes, kind))
    else:
        n = _count(business_days, kind)
        head, u = f"{n} business day{'s' * (n != 1)}", cal._next_open(u)
    groups: dict[int, list[int]] = {}  # wall day -> [wall start, wall end], in real-time order
    for s, e, day, off in cal._raw(u, v):
        g = groups.setdefault(day, [s + off, e + off])
        g[1] = e + off
    last = max(groups, default=first)
    dated = last - first >= 7  # weekday names alone would be ambiguous over a week or more

    def label(d: int) -> str:
        day = date.fromordinal(d + _EPOCH_ORD)
        return f"{_WD[day.weekday()]} {day.day} {day:%b}" if dated else _WD[day.weekday()]

    parts = [
        f"{label(d)} {_hm(a - d * _DAY)}{_DASH}{_hm(b - d * _DAY)}" for d, (a, b) in groups.items()
    ]
    if len(parts) > 5:
        parts = [*parts[:2], f"… {len(parts) - 4} more days …", *parts[-2:]]
    text = f"{head}: " + (", ".join(parts) if parts else "no business time needed")
    names = dict(cal.holiday_names)
    closed: list[list[int]] = []  # runs of consecutive closed days
    hols: list[str] = []
    for d in range(first, last):
        if d in groups:
            continue
        if d in cal._hol and cal.week[(d + 3) % 7]:
            hd = date.fromordinal(d + _EPOCH_ORD)
            hols.append(f"{_WD[hd.weekday()]} {hd.day} {hd:%b} ({names.get(hd) or 'holiday'})")
        elif not cal._day_segments(d):
            if closed and closed[-1][1] == d - 1:
                closed[-1][1] = d
            else:
                closed.append([d, d])
    labels: dict[str, int] = {}
    for a, b in closed:
        lab = (
            _WD[(a + 3) % 7]
            if a == b
            else f"{_WD[(a + 3) % 7]}{_DASH}{_WD[(b + 3) % 7]}"
            if b - a < 6
            else f"{b - a + 1} days from {date.fromordinal(a + _EPOCH_ORD)}"
        )
        labels[lab] = labels.get(lab, 0) + 1
    skipped = [lab + (f" x{k}" if k > 1 else "") for lab, k in labels.items()]
    if len(hols) > 2:
        hols = [hols[0], f"{len(hols) - 1} more holidays"]
    if skipped or hols:
        text += "; skipped " + ", ".join(skipped + hols)
    local = due.astimezone(cal._zone)
    tail = f"; due {_WD[local.weekday()]} {local:%Y-%m-%d %H:%M %Z}"
    if len(text) + len(tail) >= 300:  # keep the answer; shorten the account
        text = text[: 298 - len(tail)] + "…"
    return text + tail


HolidayRule = Mapping[str, Any] | tuple[Any, ...]


def expand_holidays_named(rules: Iterable[HolidayRule], years: Iterable[int]) -> dict[date, str]:
    """Dates (with names, "" if none) produced by holiday rules within ``years``.

    A rule is a tuple ``(when, yearly[, name])`` or a mapping with keys ``date`` or
    ``start``/``end``, optional ``yearly`` (default False) and ``name``; ``when`` is a date
    or a (start, end) inclusive range.  Yearly rules repeat the month/day every year (a
    yearly range may wrap over New Year; Feb 29 is skipped in other years).  One-off dates
    outside ``years`` are dropped.
    """
    ys = set(years)
    out: dict[date, str] = {}
    for rule in rules:
        if isinstance(rule, Mapping):
            when = rule["date"] if "date" in rule else (rule["start"], rule["end"])
            yearly, name = bool(rule.get("yearly", False)), str(rule.get("name", ""))
        else:
            when, yearly = rule[0], bool(rule[1]) if len(rule) > 1 else False
            name = str(rule[2]) if len(rule) > 2 else ""
        first, last = when if isinstance(when, tuple) else (when, when)
        if not isinstance(first, date) or not isinstance(last, date):
            raise ValueError(f"holiday rule needs dates, got {rule!r}")
        spans: list[tuple[date, date]] = []
        if not yearly:
            if last < first:
                raise ValueError(f"holiday range ends before it starts: {rule!r}")
            spans.append((first, last))
        else:
            wraps = (last.month, last.day) < (first.month, first.day)
            for y in {y + k for y in ys for k in (-1, 0)}:
                try:
                    a = date(y, first.month, first.day)
                    b = date(y + wraps, last.month, last.day)
                except ValueError:  # Feb 29 in a common year
                    continue
                spans.append((a, b))
        for a, b in spans:
            for k in range((b - a).days + 1):
                d = a + timedelta(days=k)
                if d.year in ys:
                    out.setdefault(d, name)
    return out


def expand_holidays(rules: Iterable[HolidayRule], years: Iterable[int]) -> frozenset[date]:
    """The dates of ``expand_holidays_named`` (see there)."""
    return frozenset(expand_holidays_named(rules, years))
