"""Benchmark sla.businesstime.deadline against the PyPI package businesstimedelta.

Workload: 100,000 deadlines on Mon-Fri 08:00-17:00 America/Chicago with the US federal holidays
of 2026 (and 2027), durations 1-48 business hours and starts on whole minutes spread over 2026
(seeded).
Run from the repository root: ``python bench/businesstime.py``.  The last line is
``ratio: N.Nx businesstimedelta`` (our rate / its rate).
"""

from __future__ import annotations

import importlib
import random
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sla.businesstime import Calendar, deadline

N = 100_000
SUBSET = 10_000  # businesstimedelta is timed on this many if the full run would be too slow
TZ = ZoneInfo("America/Chicago")


def _import_btd() -> ModuleType:
    try:
        return importlib.import_module("businesstimedelta")
    except ImportError:
        # Not a project dependency: installed on demand, into this interpreter only.
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "businesstimedelta"], check=True
        )
        importlib.invalidate_caches()
        return importlib.import_module("businesstimedelta")


def workload() -> list[tuple[datetime, int]]:
    rng = random.Random(20260101)
    year_start = datetime(2026, 1, 1, tzinfo=TZ)
    minutes_in_year = 365 * 24 * 60
    out = []
    for _ in range(N):
        start = (year_start + timedelta(minutes=rng.randrange(minutes_in_year))).astimezone(TZ)
        out.append((start, rng.randint(1, 48)))
    return out


def main() -> None:
    import holidays as holidays_pkg

    # 2026's holidays, plus 2027's so that deadlines running into January see New Year's Day
    # (and businesstimedelta's HolidayRule, which fails when it finds no holiday within five
    # years, always has a next one).
    us = holidays_pkg.country_holidays("US", years=(2026, 2027))
    hol_dates = sorted(us.keys())
    cal = Calendar.build(
        "America/Chicago",
        [(d, "08:00", "17:00") for d in range(5)],
        hol_dates,
        {d: str(n) for d, n in us.items()},
    )
    jobs = workload()

    # Cold start: a calendar not seen before materialises its segments on first use.
    fresh = Calendar.build("America/Chicago", [(d, "08:00", "17:00") for d in range(5)], hol_dates)
    t0 = time.perf_counter()
    deadline(fresh, jobs[0][0], minutes=60)
    t_cold = time.perf_counter() - t0

    # Ours: the calendar's segment cache is built by the first calls (inside the memory
    # measurement), as it would be in a long-lived worker.
    tracemalloc.start()
    for start, h in jobs:
        deadline(cal, start, minutes=h * 60)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Timed separately: tracemalloc slows allocation-heavy code severalfold.
    t0 = time.perf_counter()
    ours = [deadline(cal, start, minutes=h * 60) for start, h in jobs]
    t_ours = time.perf_counter() - t0

    btd = _import_btd()
    workday = btd.WorkDayRule(
        start_time=datetime.min.time().replace(hour=8),
        end_time=datetime.min.time().replace(hour=17),
        working_days=[0, 1, 2, 3, 4],
    )
    # A plain set, so it sees exactly our dates (a holidays object grows years on lookup).
    rules = btd.Rules([workday, btd.HolidayRule(frozenset(hol_dates))])

    def theirs(start: datetime, h: int) -> datetime:
        # businesstimedelta is fed naive local wall times (it treats them as UTC, so no DST
        # arithmetic happens; Chicago's switches are at 02:00, outside business hours).
        naive = start.replace(tzinfo=None)
        due: datetime = naive + btd.BusinessTimeDelta(rules, hours=h)
        return due.replace(tzinfo=None)

    # Probe speed on a small sample to decide between the full run and the subset.
    t0 = time.perf_counter()
    for start, h in jobs[:500]:
        theirs(start, h)
    probe_rate = 500 / (time.perf_counter() - t0)
    count = N if N / probe_rate < 60 else SUBSET
    t0 = time.perf_counter()
    their_results = [theirs(start, h) for start, h in jobs[:count]]
    t_theirs = time.perf_counter() - t0

    # Compared as local wall times; a disagreement would be a semantic difference (e.g. at
    # closing time), and the first few are printed.
    diffs = [
        i for i in range(count) if ours[i].astimezone(TZ).replace(tzinfo=None) != their_results[i]
    ]
    agree = count - len(diffs)
    rate_ours = N / t_ours
    rate_theirs = count / t_theirs
    print(
        f"workload: {N} deadlines, Mon-Fri 08:00-17:00 America/Chicago, "
        f"{len(hol_dates)} holidays (US 2026-2027), 1-48 business hours, starts in 2026"
    )
    print(f"ours: {rate_ours:,.0f} deadlines/s ({t_ours:.3f} s for {N}, warm cache)")
    print(f"ours, first call on a new calendar (builds its cache): {t_cold * 1000:.1f} ms")
    note = "" if count == N else f" (timed on a {count} subset, rate extrapolated)"
    print(f"businesstimedelta: {rate_theirs:,.0f} deadlines/s ({t_theirs:.3f} s for {count}){note}")
    print(f"agree: {agree}/{count}" + (" (subset)" if count != N else ""))
    for i in diffs[:3]:
        print(
            f"  differs: {jobs[i][0].isoformat()} + {jobs[i][1]} h: ours "
            f"{ours[i].astimezone(TZ):%Y-%m-%d %H:%M}, theirs {their_results[i]:%Y-%m-%d %H:%M}"
        )
    print(
        f"peak memory (ours, tracemalloc): {peak / 1024:.0f} KiB while computing 100k "
        f"(results not kept; calendar cache included)"
    )
    print(
        f"first result: {jobs[0][0].isoformat()} + {jobs[0][1]} h -> "
        f"{ours[0].astimezone(TZ).isoformat()} (UTC {ours[0].astimezone(UTC):%H:%M})"
    )
    print(f"ratio: {rate_ours / rate_theirs:.1f}x businesstimedelta")


if __name__ == "__main__":
    main()
