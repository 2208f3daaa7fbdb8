"""Escalation latency and the sweep query's cost, on real PostgreSQL, Redis and Celery.

    python bench/escalation.py [--open 100000] [--breaching 1000] [--tenants 5]
                               [--also-1m | --no-also-1m] [--keep]

What it does (prints figures, never asserts):

1. Creates the database ``bench_escalation`` (dropped first if it exists) on the PostgreSQL of
   ``--pg`` (default ``postgres://postgres@127.0.0.1:5432``), migrates it, and starts its own
   ``redis-server`` on a free port (the shared Redis is not touched).
2. Seeds ``--tenants`` tenants through the services (calendar 24/7, a Critical severity, a
   package with a 60-minute first-response target, a contract, an assignee and a team lead)
   and one real ticket each, then bulk-inserts ``--open`` open tickets with running clocks by
   cloning those rows in SQL (``generate_series``): due times 1 hour to 10 days away, each
   clock's alarm set to its warning point.
3. Starts ``celery -A helpdesk worker --beat`` on that Redis and database.
4. Phase "eta": ``--breaching`` clocks get due times spread over one minute (starting 20 s
   out) and their ETA tasks are queued, as the clock engine does after commit. Phase "sweep":
   another ``--breaching`` clocks, due over the next minute, with *no* task queued (a lost
   message, a restarted broker): only the 2-second sweep can fire them. For each phase: p50,
   p99 and max of ``fired_at - due_at`` of the level-1 escalations, and duplicates (must be 0).
5. The sweep query's cost: ``EXPLAIN ANALYZE`` of the exact SQL the sweep runs, median of 21
   runs, with nothing due and with 500 rows due; then the same after growing to 1,000,000 open
   tickets (``--also-1m``, on by default: about two more minutes here).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as `python bench/escalation.py`, Python puts bench/ first on the path, where a sibling
# benchmark module could shadow a standard library module of the same name.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
DB_NAME = "bench_escalation"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def recreate_database(pg: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database(pg: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


# --- seeding ---------------------------------------------------------------------------------


def seed_tenants(n: int) -> list[tuple[int, int]]:
    """Per tenant: (template ticket id, template clock id)."""
    from helpdesk.models import Membership, Organization, Tenant, User
    from sla.models import SLAClock
    from sla.services import (
        calendar_create,
        contract_create,
        package_create,
        severity_create,
        sla_policy_update,
    )
    from tickets.models import Ticket
    from tickets.services import ticket_create

    templates = []
    for i in range(n):
        tenant = Tenant.objects.create(slug=f"bench{i}", name=f"Bench {i}", ticket_prefix="B")
        calendar = calendar_create(
            tenant=tenant,
            name="24/7",
            timezone="UTC",
            hours=[{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
        )
        critical = severity_create(tenant=tenant, key="critical", name="Critical", rank=1)
        package = package_create(
            tenant=tenant,
            name="Premium",
            channels=["web"],
            severities=[critical],
            targets=[
                {
                    "metric": "first_response",
                    "severity": critical,
                    "target_minutes": 60,
                    "calendar": calendar,
                }
            ],
        )
        organization = Organization.objects.create(tenant=tenant, name="Customer")
        contract_create(
            tenant=tenant,
            organization=organization,
            package=package,
            starts_on=dt.date(2020, 1, 1),
        )
        sla_policy_update(tenant=tenant, no_contract_rule="none")
        members = []
        for tier in ("agent", "team_lead"):
            user = User.objects.create_user(f"{tier}@bench{i}.test", None)
            members.append(
                Membership.objects.create(tenant=tenant, user=user, role="agent", tier=tier)
            )
        ticket = ticket_create(
            tenant=tenant,
            subject="Template",
            requester_email=f"customer@bench{i}.test",
            organization=organization,
            severity=critical,
        )
        Ticket.objects.filter(pk=ticket.pk).update(assignee=members[0])
        clock = SLAClock.objects.get(ticket=ticket)
        templates.append((ticket.pk, clock.pk))
    return templates


def _columns(model: Any) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if not f.primary_key]


def clone_open_tickets(templates: list[tuple[int, int]], total: int, number_base: int) -> None:
    """Bulk-insert ``total`` open tickets with running clocks, spread over the tenants, by
    cloning each tenant's template rows in SQL. Alarms at the warning point (due - 15 min),
    due times 1 hour to 10 days from now."""
    from django.db import connection

    from sla.models import SLAClock
    from tickets.models import Ticket

    per = total // len(templates)
    ticket_cols = _columns(Ticket)
    clock_cols = _columns(SLAClock)
    ticket_expr = {
        "number": "t.number + %(base)s + g",
        "subject": "'Bench ticket ' || g",
        "status": "'open'",
    }
    clock_expr = {
        "ticket_id": "t.id",
        "started_at": "d.due - interval '60 minutes'",
        "due_at": "d.due",
        "warn_at": "d.due - interval '15 minutes'",
        "next_alarm_at": "d.due - interval '15 minutes'",
        "next_alarm_level": "0",
        "status": "'running'",
        "version": "1",
    }
    with connection.cursor() as cur:
        # Bulk load: the rows are clones of valid rows, so the foreign-key triggers (and the
        # commit's wait for the disk) can be skipped for this session (postgres is superuser).
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
        for ticket_id, clock_id in templates:
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_ticket")
            low = cur.fetchone()[0]
            cols = ", ".join(ticket_cols)
            exprs = ", ".join(ticket_expr.get(c, f"t.{c}") for c in ticket_cols)
            cur.execute(
                f"INSERT INTO tickets_ticket ({cols}) SELECT {exprs} "
                "FROM tickets_ticket t CROSS JOIN generate_series(1, %(n)s) g "
                "WHERE t.id = %(template)s",
                {"n": per, "template": ticket_id, "base": number_base},
            )
            cols = ", ".join(clock_cols)
            exprs = ", ".join(clock_expr.get(c, f"c.{c}") for c in clock_cols)
            cur.execute(
                f"INSERT INTO sla_slaclock ({cols}) SELECT {exprs} "
                "FROM sla_slaclock c JOIN tickets_ticket t ON t.tenant_id = c.tenant_id "
                "AND t.id > %(low)s "
                "CROSS JOIN LATERAL (SELECT now() + interval '1 hour' "
                "+ random() * interval '10 days' + t.id * interval '0 seconds' AS due) d "
                "WHERE c.id = %(clock)s",
                {"low": low, "clock": clock_id},
            )
        cur.execute("SET session_replication_role = origin")
        cur.execute("ANALYZE tickets_ticket")
        cur.execute("ANALYZE sla_slaclock")


def arm_breaching(count: int, start: dt.datetime, spread: float, *, queue: bool) -> list[int]:
    """Pick ``count`` open clocks, make them due between ``start`` and ``start + spread``
    seconds (warning already behind them), and queue their ETA tasks if ``queue``."""
    from django.db import connection

    from sla.escalation.alarms import enqueue_fire
    from sla.models import SLAClock

    with connection.cursor() as cur:
        cur.execute(
            "WITH chosen AS (SELECT id FROM sla_slaclock "
            "WHERE next_alarm_level = 0 AND next_alarm_at > now() "
            "ORDER BY random() LIMIT %(count)s), "
            "picked AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM chosen) "
            "UPDATE sla_slaclock c SET "
            "due_at = %(start)s + p.n * (%(spread)s / %(count)s) * interval '1 second', "
            "warn_at = NULL, "
            "next_alarm_at = %(start)s + p.n * (%(spread)s / %(count)s) * interval '1 second', "
            "next_alarm_level = 1, version = c.version + 1 "
            "FROM picked p WHERE c.id = p.id RETURNING c.id",
            {"count": count, "start": start, "spread": float(spread)},
        )
        ids = [row[0] for row in cur.fetchall()]
    if queue:
        for pk, version, at in SLAClock.objects.filter(pk__in=ids).values_list(
            "pk", "version", "next_alarm_at"
        ):
            enqueue_fire(pk, version, 1, at)
    return ids


# --- measuring -----------------------------------------------------------------------------------


def latencies(clock_ids: list[int]) -> tuple[list[float], int, int]:
    """(fired_at - due_at of level 1 in seconds, how many clocks have it, duplicate rows)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT EXTRACT(EPOCH FROM fired_at - due_at) FROM sla_escalation "
            "WHERE level = 1 AND clock_id = ANY(%s)",
            [clock_ids],
        )
        values = sorted(float(r[0]) for r in cur.fetchall())
        cur.execute(
            "SELECT COUNT(*) FROM (SELECT clock_id, level, clock_version FROM sla_escalation "
            "WHERE clock_id = ANY(%s) GROUP BY 1, 2, 3 HAVING COUNT(*) > 1) dup",
            [clock_ids],
        )
        duplicates = cur.fetchone()[0]
    return values, len(values), duplicates


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def sweep_query_ms(now: dt.datetime, *, claim: bool, runs: int = 21) -> tuple[float, str]:
    """Median EXPLAIN ANALYZE execution time, and the plan's scan, of the sweep's SQL: with
    ``claim`` the query ``alarms_sweep`` runs (``FOR UPDATE SKIP LOCKED``, ``SWEEP_CLAIM``
    rows), else the plain read ``alarms_due`` (500 ids)."""
    from django.db import connection, transaction

    from sla.escalation.alarms import SWEEP_CLAIM
    from sla.models import SLAClock

    qs = (
        SLAClock.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(next_alarm_at__lte=now)
        .order_by("next_alarm_at")[:SWEEP_CLAIM]
        if claim
        else SLAClock.objects.filter(next_alarm_at__lte=now)
        .order_by("next_alarm_at")
        .values_list("pk", flat=True)[:500]
    )
    times, plan = [], ""
    with transaction.atomic(), connection.cursor() as cur:
        sql, params = qs.query.sql_with_params()
        for _ in range(runs):
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            rows = [r[0] for r in cur.fetchall()]
            plan = next((r.strip() for r in rows if "Scan" in r), rows[0])
            match = re.search(r"Execution Time: ([\d.]+) ms", "\n".join(rows))
            if match:
                times.append(float(match.group(1)))
    return statistics.median(times), plan


def nth_alarm(n: int) -> dt.datetime:
    from sla.models import SLAClock

    at: dt.datetime = (
        SLAClock.objects.filter(next_alarm_at__isnull=False)
        .order_by("next_alarm_at")
        .values_list("next_alarm_at", flat=True)[n - 1]
    )
    return at


def report_sweep(label: str) -> None:
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM sla_slaclock WHERE next_alarm_at IS NOT NULL")
        armed = cur.fetchone()[0]
    for claim, what in (
        (True, "claim (FOR UPDATE SKIP LOCKED LIMIT 10)"),
        (False, "read (LIMIT 500)"),
    ):
        idle, plan = sweep_query_ms(timezone.now(), claim=claim)
        busy, _ = sweep_query_ms(nth_alarm(500), claim=claim)  # 500 due
        print(
            f"sweep query @ {label} ({armed:,} armed clocks), {what}: median {idle:.3f} ms "
            f"with nothing due, {busy:.3f} ms with 500 due  [{plan}]"
        )


# --- the worker ---------------------------------------------------------------------------------


def start_worker(env: dict[str, str], log: Path, concurrency: int) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "helpdesk",
                "worker",
                "--beat",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--schedule",
                str(log.parent / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    if not wait_for(lambda: b" ready." in log.read_bytes() or process.poll() is not None, 90):
        raise SystemExit("worker did not start:\n" + log.read_text()[-3000:])
    return process


def stop(process: subprocess.Popen[Any] | None) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def run_phase(name: str, breaching: int, *, queue: bool) -> None:
    from django.utils import timezone

    start = timezone.now() + dt.timedelta(seconds=20)
    ids = arm_breaching(breaching, start, 60.0, queue=queue)
    deadline = (start + dt.timedelta(seconds=60) - timezone.now()).total_seconds() + 30
    wait_for(lambda: latencies(ids)[1] >= len(ids), deadline, interval=1)
    values, fired, duplicates = latencies(ids)
    print(
        f"phase {name:5s}: {fired}/{len(ids)} breaches fired; fired_at - due_at  "
        f"p50 {percentile(values, 50):.3f} s  p99 {percentile(values, 99):.3f} s  "
        f"max {max(values, default=float('nan')):.3f} s;  duplicates {duplicates}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=100_000, help="open tickets (100,000)")
    parser.add_argument("--breaching", type=int, default=1000, help="per phase (1,000)")
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--also-1m",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="grow to 1,000,000 open tickets and measure the sweep query again (default on)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-escalation-"))
    port = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    os.environ.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings.worker_test",
        DATABASE_URL=f"{args.pg}/{DB_NAME}",
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        HELPDESK_VAR_DIR=str(tmp),
    )
    try:
        t0 = time.monotonic()
        recreate_database(args.pg)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"database {DB_NAME} migrated in {time.monotonic() - t0:.1f} s")

        t0 = time.monotonic()
        templates = seed_tenants(args.tenants)
        clone_open_tickets(templates, args.open, number_base=10_000)
        print(
            f"{args.open:,} open tickets with running clocks across {args.tenants} tenants "
            f"inserted in {time.monotonic() - t0:.1f} s"
        )

        worker = start_worker(dict(os.environ), tmp / "worker.log", args.concurrency)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"worker + beat running (concurrency {args.concurrency}; {os.cpu_count()} CPUs, "
            f"load average {load}); {args.breaching} breaching within one minute per phase"
        )
        run_phase("eta", args.breaching, queue=True)
        run_phase("sweep", args.breaching, queue=False)
        stop(worker)
        worker = None
        report_sweep(f"{args.open:,} open")

        if args.also_1m and args.open < 1_000_000:
            t0 = time.monotonic()
            clone_open_tickets(templates, 1_000_000 - args.open, number_base=10_000_000)
            print(f"grown to 1,000,000 open tickets in {time.monotonic() - t0:.1f} s")
            report_sweep("1,000,000 open")
        elif not args.also_1m:
            print("1M: run `python bench/escalation.py --also-1m` (about two more minutes)")
    finally:
        stop(worker)
        redis.kill()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            with contextlib.suppress(Exception):
                drop_database(args.pg)
        if args.keep:
            print(f"kept the database {DB_NAME} and the worker's log in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
