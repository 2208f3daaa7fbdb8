"""Benchmark the SLA report (reports.selectors.sla_report) over a large desk on PostgreSQL.

Workload: a dedicated database ``bench_reports`` (dropped and created through psycopg on the
server's ``postgres`` database, then migrated with ``manage.py migrate``); one measured tenant
with ``--tickets`` tickets (default 1,000,000) opened over two years, and two smaller tenants
with ``--other-tickets`` between them (so that tenant scoping is part of the work). Each ticket
has a first-response clock and 70 % a resolution clock, on 3 packages x 4 severities x 3 teams,
5 channels; 1 % are SLA-exempt duplicates. Rows are generated inside PostgreSQL
(``INSERT … SELECT … FROM generate_series``), then ANALYZE.

Timed: the whole report (every section: achievement rows with their roll-ups per metric x
package and per metric, one page of breaches, first-response percentiles and histogram,
backlog, volume) over the whole range, median and p95 of ``--runs`` runs (default 5); then
each section alone, and the report over the last 30 days. Printed: rows, times, peak memory of
this process (ru_maxrss) and the Python allocations of one report (tracemalloc).

Run from the repository root: ``python bench/reports.py [--tickets 1000000] [--keep]``.
``--keep`` reuses the database as it is (no drop, no insert). Server: ``BENCH_PG_URL``
(default ``postgres://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself (Python puts the script's folder first): its other scripts would shadow
# standard modules of the same name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_reports"
ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
FIRST_DAY = dt.date(2024, 3, 1)
DAYS = 730
MAIN_SLUG = "bench"
NOISE_SLUGS = ("bench-noise-a", "bench-noise-b")
SEVERITIES = (("critical", 30), ("high", 120), ("medium", 480), ("low", 1440))  # FR minutes
PACKAGES = ("Premium", "Standard", "Basic")
TEAMS = ("Customer Support", "Technical Support", "Billing")
BATCH = 250_000


def db_url(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + name))


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        check=True,
        env=env,
        cwd=ROOT,
    )


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


# --- data -----------------------------------------------------------------------------------------


def _insert_parts(model: Any, given: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """The column list, the SELECT list and its parameters of an ``INSERT … SELECT`` into
    ``model``: ``given`` maps the columns the bench varies to SQL over the row source; every
    other column takes its model default (or NULL), so columns that other apps add later need no
    change here."""
    from django.db import connection

    columns, exprs, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in given:
            exprs.append(given[field.column])
        elif field.null and not field.has_default():
            exprs.append("NULL")
        else:
            value = field.get_default()  # "" for a text column without a default
            if value is None:
                raise SystemExit(f"bench: no value for column {model.__name__}.{field.column}")
            name = f"c{len(params)}"
            exprs.append(f"%({name})s")
            params[name] = field.get_db_prep_save(value, connection)
    unknown = set(given) - {f.column for f in model._meta.concrete_fields}
    if unknown:
        raise SystemExit(f"bench: {model.__name__} has no column {sorted(unknown)}")
    return ", ".join(columns), ", ".join(exprs), params


def _sql_array(values: list[int]) -> str:
    return "ARRAY[" + ",".join(str(int(v)) for v in values) + "]::bigint[]"


def seed_tenant(slug: str, tickets: int, start_number: int = 1000) -> Any:
    """A tenant with its catalog (ORM: a few dozen rows), then its tickets and clocks (SQL)."""
    from django.db import connection, transaction

    from helpdesk.models import Organization, Tenant
    from sla.models import (
        BusinessCalendar,
        OpeningInterval,
        Severity,
        SLAClock,
        SLATarget,
        SupportPackage,
    )
    from tickets.models import Team, Ticket

    tenant = Tenant.objects.create(
        slug=slug, name=slug.title(), ticket_prefix="BR", time_zone="Europe/Berlin"
    )
    t = tenant
    calendar = BusinessCalendar.objects.create(tenant=t, name="Office", timezone="Europe/Berlin")
    for weekday in range(5):
        OpeningInterval.objects.create(
            tenant=t, calendar=calendar, weekday=weekday, start_minute=480, end_minute=1020
        )
    severities = [
        Severity.objects.create(tenant=t, key=key, name=key.title(), rank=i + 1)
        for i, (key, _) in enumerate(SEVERITIES)
    ]
    packages = [SupportPackage.objects.create(tenant=t, name=name) for name in PACKAGES]
    teams = [Team.objects.create(tenant=t, name=name) for name in TEAMS]
    orgs = [Organization.objects.create(tenant=t, name=f"Customer {i:02d}") for i in range(20)]
    # (package index, severity id, metric) → target
    targets: list[tuple[int, int, str, int, int]] = []
    for p_index, package in enumerate(packages):
        for severity, (_, minutes) in zip(severities, SEVERITIES, strict=True):
            scaled = minutes * (p_index + 1)
            for metric, target_minutes in (("first_response", scaled), ("resolution", scaled * 8)):
                target = SLATarget.objects.create(
                    tenant=t,
                    package=package,
                    severity=severity,
                    metric=metric,
                    target_minutes=target_minutes,
                    calendar=calendar,
                )
                targets.append((p_index, severity.pk, metric, target.pk, target_minutes))
    if not tickets:
        return tenant

    start = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=dt.UTC)
    span = DAYS * 86400
    sev_ids, team_ids, org_ids = (
        _sql_array([s.pk for s in severities]),
        _sql_array([x.pk for x in teams]),
        _sql_array([o.pk for o in orgs]),
    )
    channel = (
        "CASE WHEN r2 < 0.45 THEN 'email' WHEN r2 < 0.75 THEN 'web' WHEN r2 < 0.88 "
        "THEN 'chat' WHEN r2 < 0.96 THEN 'phone' ELSE 'api' END"
    )
    status = (
        "CASE WHEN r4 < 0.80 THEN 'closed' WHEN r4 < 0.86 THEN 'solved' WHEN r4 < 0.91 "
        "THEN 'open' WHEN r4 < 0.95 THEN 'pending' WHEN r4 < 0.98 THEN 'new' ELSE 'on_hold' END"
    )
    opened = f"(%(start)s::timestamptz + (r1 * {span}) * interval '1 second')"
    given = {
        "tenant_id": str(t.pk),
        "number": f"{start_number} + g",
        "subject": "'Bench ticket ' || g",
        "status": status,
        "channel": channel,
        "organization_id": f"({org_ids})[1 + mod(g, 20)]",
        "requester_email": "'customer' || mod(g, 500) || '@bench.test'",
        "opened_at": opened,
        "created_at": opened,
        "updated_at": opened,
        "severity_id": f"({sev_ids})[1 + floor(r3 * 4)::int]",
        "team_id": f"({team_ids})[1 + mod(g, 3)]",
        "sla_exempt": "(mod(g, 100) = 0)",
    }
    fields = {f.column for f in Ticket._meta.concrete_fields}
    if "solved_at" in fields:
        given["solved_at"] = (
            f"CASE WHEN r4 < 0.86 THEN {opened} + (r3 * 5 * 86400) * interval '1 second' END"
        )
    if "closed_at" in fields:
        given["closed_at"] = (
            f"CASE WHEN r4 < 0.80 THEN {opened} + (r3 * 9 * 86400) * interval '1 second' END"
        )
    columns, select, named = _insert_parts(Ticket, given)
    ticket_sql = (
        f"INSERT INTO {Ticket._meta.db_table} ({columns}) SELECT {select} FROM ("
        "SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4 "
        "FROM generate_series(%(lo)s, %(hi)s) AS g) AS s"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.2026)")
        for lo in range(1, tickets + 1, BATCH):
            hi = min(tickets, lo + BATCH - 1)
            with transaction.atomic():
                cursor.execute(ticket_sql, {**named, "start": start, "lo": lo, "hi": hi})
            print(f"  {slug}: tickets {hi:,}/{tickets:,}", flush=True)

        cursor.execute("DROP TABLE IF EXISTS bench_target")
        cursor.execute(
            "CREATE TEMP TABLE bench_target (pkg int, severity_id bigint, metric text, "
            "target_id bigint, minutes int)"
        )
        cursor.executemany("INSERT INTO bench_target VALUES (%s, %s, %s, %s, %s)", targets)
        due = "(opened_at + (minutes * 2) * interval '1 minute')"
        outcome = {
            # 82 % met on time, 8 % met late, 3 % breached and unstopped, 5 % running, 2 % paused
            "status": "CASE WHEN r1 < 0.82 THEN 'met' WHEN r1 < 0.93 THEN 'breached' "
            "WHEN r1 < 0.98 THEN 'running' ELSE 'paused' END",
            "due_at": f"CASE WHEN r1 < 0.98 THEN {due} END",
            "met_at": f"CASE WHEN r1 < 0.82 THEN opened_at + (r2 * minutes * 2) * "
            f"interval '1 minute' WHEN r1 < 0.90 THEN {due} + (r2 * 2 * 86400) * "
            "interval '1 second' END",
            "breached_at": f"CASE WHEN r1 >= 0.82 AND r1 < 0.93 THEN {due} END",
            "paused_at": "CASE WHEN r1 >= 0.98 THEN opened_at + interval '5 minutes' END",
        }
        clock_given = {
            "tenant_id": str(t.pk),
            "ticket_id": "id",
            "metric": "metric",
            "target_id": "target_id",
            "calendar_id": str(calendar.pk),
            "target_minutes": "minutes",
            "started_at": "opened_at",
            "updated_at": "opened_at",
            **outcome,
        }
        columns, select, named = _insert_parts(SLAClock, clock_given)
        for metric, share in (("first_response", 10), ("resolution", 7)):
            for lo in range(0, tickets, BATCH):
                with transaction.atomic():
                    cursor.execute(
                        f"INSERT INTO {SLAClock._meta.db_table} ({columns}) "
                        f"SELECT {select} FROM (SELECT t.id, t.opened_at, bt.metric, "
                        "bt.target_id, bt.minutes, random() AS r1, random() AS r2 "
                        f"FROM {Ticket._meta.db_table} t JOIN bench_target bt "
                        "ON bt.severity_id = t.severity_id AND bt.pkg = mod(t.id, 3) "
                        "AND bt.metric = %(metric)s "
                        "WHERE t.tenant_id = %(tenant)s AND t.number > %(lo)s "
                        "AND t.number <= %(hi)s AND mod(t.id, 10) < %(share)s) AS s",
                        {
                            **named,
                            "metric": metric,
                            "tenant": t.pk,
                            "lo": start_number + lo,
                            "hi": start_number + lo + BATCH,
                            "share": share,
                        },
                    )
            print(f"  {slug}: {metric} clocks", flush=True)
    return tenant


def seed(tickets: int, other_tickets: int) -> None:
    from django.db import connection

    t0 = time.perf_counter()
    seed_tenant(MAIN_SLUG, tickets)
    for slug in NOISE_SLUGS:
        seed_tenant(slug, other_tickets // len(NOISE_SLUGS))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"inserted and analyzed in {time.perf_counter() - t0:.1f} s")


# --- timing ---------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank


def fmt(times: list[float]) -> str:
    return (
        f"median {statistics.median(times) * 1000:,.0f} ms, p95 {p95(times) * 1000:,.0f} ms "
        f"(runs: {', '.join(f'{t * 1000:,.0f}' for t in times)} ms)"
    )


def measure(runs: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from helpdesk.models import Tenant
    from helpdesk.selectors import tenant_zone
    from reports import sections
    from reports import selectors as s
    from reports.shapes import ReportFilters, SLAReport
    from sla.models import SLAClock
    from tickets.models import Ticket

    tenant = Tenant.objects.get(slug=MAIN_SLUG)
    n_tickets = Ticket.objects.for_tenant(tenant).count()
    n_clocks = SLAClock.objects.for_tenant(tenant).count()
    all_tickets, all_clocks = Ticket.objects.count(), SLAClock.objects.count()
    bounds = Ticket.objects.for_tenant(tenant).order_by("opened_at").values_list("opened_at")
    first, last = bounds.first(), bounds.last()
    assert first is not None and last is not None
    zone = tenant_zone(tenant)
    start, end = first[0].astimezone(zone).date(), last[0].astimezone(zone).date()
    print(f"database: {connection.settings_dict['NAME']} ({connection.vendor})")
    print(
        f"rows: {all_tickets:,} tickets and {all_clocks:,} clocks in all; the measured tenant "
        f"has {n_tickets:,} tickets and {n_clocks:,} clocks, opened {start} to {end}"
    )

    def whole() -> SLAReport:
        return s.sla_report(tenant=tenant, start=start, end=end)

    whole()  # warm the caches (and the connection) once
    times, report = timed(whole, runs)
    print(f"SLA report, whole range ({report.granularity}): {fmt(times)}")
    print(
        f"  output: {len(report.achievement):,} achievement rows, "
        f"{report.breaches_total:,} breaches ({len(report.breaches)} listed), "
        f"first response median {report.first_response.overall.median_label} / p90 "
        f"{report.first_response.overall.p90_label} over {report.first_response.overall.count:,}, "
        f"backlog {report.backlog.total:,}, volume {report.volume.total:,}"
    )

    # Each section alone (same arguments as inside sla_report), to see where the time goes.
    now = timezone.now()
    starts_at, ends_at = s.period_bounds(tenant, start, end)
    filters = ReportFilters()
    clocks = sections.report_clocks(
        tenant=tenant, starts_at=starts_at, ends_at=ends_at, filters=filters
    )
    granularity = s.granularity_for(start, end)
    names = sections.Names.of(tenant)
    timings: dict[str, Callable[[], Any]] = {
        "catalog names": lambda: sections.Names.of(tenant),
        "achievement + roll-ups": lambda: sections.achievement(
            clocks, now=now, zone=zone, granularity=granularity, names=names
        ),
        "breaches (one page)": lambda: sections.breaches(
            clocks, tenant=tenant, now=now, limit=50, offset=0, names=names
        ),
        "first response": lambda: sections.first_response(clocks, names=names),
        "backlog": lambda: sections.backlog(
            tenant=tenant, as_of=min(ends_at, now), filters=filters
        ),
        "volume": lambda: sections.volume(
            tenant=tenant,
            starts_at=starts_at,
            ends_at=ends_at,
            filters=filters,
            zone=zone,
            granularity=granularity,
        ),
    }
    for name, fn in timings.items():
        with s.analytic_queries():  # as inside sla_report
            section_times, _ = timed(fn, 3)
        print(f"  {name:<24} median {statistics.median(section_times) * 1000:,.0f} ms")

    day = s.granularity_for(start, end, "day")
    times, _ = timed(
        lambda: s.sla_report(tenant=tenant, start=start, end=end, granularity="day"), runs
    )
    print(f"SLA report, whole range, day requested (served per {day}): {fmt(times)}")
    month_start = end - dt.timedelta(days=29)
    times, _ = timed(lambda: s.sla_report(tenant=tenant, start=month_start, end=end), runs)
    print(f"SLA report, last 30 days ({month_start} to {end}): {fmt(times)}")

    tracemalloc.start()
    whole()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        f"memory: peak RSS of this process {rss / 1024:,.0f} MiB; Python allocations of one "
        f"report at peak {peak / 1024 / 1024:,.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="the measured tenant's")
    parser.add_argument("--other-tickets", type=int, default=100_000, help="two other tenants'")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse the database as it is")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": db_url(DB_NAME),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.base",
        "DEBUG": "false",  # no query log growing in memory
    }
    if not args.keep:
        t0 = time.perf_counter()
        recreate_database()
        migrate(env)
        print(f"database {DB_NAME} created and migrated in {time.perf_counter() - t0:.1f} s")
    setup_django(env)
    if not args.keep:
        seed(args.tickets, args.other_tickets)
    measure(args.runs)


if __name__ == "__main__":
    main()
