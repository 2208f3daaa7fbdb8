"""Server time of the agent queue and the customer ticket list at 100,000 tickets per tenant.

Workload: a tenant (the officernd policy template: SEV 1-3, Ultimate and Standard on "24/5")
with 200 organizations (150 with a contract), 20 agents in 4 teams and 100,000 tickets opened
over the last 180 days (bulk-inserted; about 45 % still active: new, open, pending or on hold),
85 % of them with a severity and therefore SLA clocks (first response and resolution; met,
running, paused or breached as their age and status say). A second tenant of 100,000 tickets
has no contracts and so no clocks at all (the webagency template: first come, first served):
its queue is the second group of the queue's order alone.

Timed: the full Django request (middleware, view, queries, template) in-process with the test
client, logged in — the agent queue (default view, page 20 reached by following the pager's
"Next" cursors, the "breaching within 1 h" view, "my teams", a search, the clock-less tenant's
queue and its page 20, page 19 reached back from page 20 by "Previous", the "solved" status
filter) and the customer list of an organization owner and of a single contact. Median and
p95 over 50 requests each, after warm-up. Target: under 150 ms.

Runs in a dedicated PostgreSQL database ``bench_queue`` (``--database`` names another;
created, migrated, dropped at the end; ``--keep`` keeps it and a later run with ``--reuse`` skips
building it, applying any new migration first). ``--tickets`` builds smaller tenants for a
quick look. Run from the repository root: ``python bench/queue_page.py`` (``DATABASE_URL`` names
the server; the database name is replaced).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself: its email.py (the email bench) would shadow the standard library's email.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_queue"
N_TICKETS = 100_000
N_ORGS = 200
N_AGENTS = 20
REQUESTS = 50
TARGET_MS = 150.0
SLUG = "benchq"
FCFS_SLUG = "benchfcfs"  # a first-come-first-served tenant: no contracts, so no clocks


def database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/queue_page.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    return urlunsplit(parts._replace(path="/" + DB_NAME))


def admin_connect(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def database_exists(url: str) -> bool:
    with admin_connect(url) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        return row is not None


def database_create(url: str) -> None:
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def database_drop(url: str) -> None:
    from django.db import connections

    connections.close_all()
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


# --- the data ----------------------------------------------------------------------------------


def build(rng: random.Random) -> None:
    """The tenant, its people and 100,000 tickets with clocks, bulk-inserted."""
    from django.db import connection, transaction
    from django.utils import timezone

    from helpdesk.models import Membership, Organization, Tenant
    from helpdesk.services import contact_add, membership_add, user_get_or_create
    from sla.models import Metric, Severity, SLAClock, SupportPackage
    from sla.policies import load_policy_template
    from sla.services import contract_create
    from tickets.models import Team, TeamMember, Ticket, TicketCounter

    started = time.perf_counter()
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=SLUG, name="Bench Queue", ticket_prefix="BQ")
        other = Tenant.objects.create(slug="benchother", name="Other", ticket_prefix="OT")
        load_policy_template(tenant=tenant, template="officernd")
        packages = list(SupportPackage.objects.for_tenant(tenant).order_by("name"))
        severities = list(Severity.objects.for_tenant(tenant).order_by("rank"))
        agents = []
        for i in range(N_AGENTS):
            user = user_get_or_create(email=f"agent{i}@bench.test", name=f"Agent {i}")
            agents.append(
                membership_add(tenant=tenant, user=user, role="agent", tier=Membership.Tier.AGENT)
            )
        teams = [Team.objects.create(tenant=tenant, name=f"Team {i}") for i in range(4)]
        for i, agent in enumerate(agents):
            TeamMember.objects.create(tenant=tenant, team=teams[i % 4], membership=agent)
        orgs, owners = [], []
        for i in range(N_ORGS):
            org = Organization.objects.create(tenant=tenant, name=f"Customer {i:03d}")
            orgs.append(org)
            owners.append(
                contact_add(
                    tenant=tenant,
                    organization=org,
                    email=f"owner{i}@customer{i}.bench.test",
                    name=f"Owner {i}",
                    role=Membership.ContactRole.OWNER,
                    password="bench",
                )
            )
            if i < 150:
                contract_create(
                    tenant=tenant,
                    organization=org,
                    package=packages[i % len(packages)],
                    starts_on=dt.date(2020, 1, 1),
                )
        contact_add(
            tenant=tenant,
            organization=orgs[0],
            email="contact0@customer0.bench.test",
            name="Contact 0",
            role=Membership.ContactRole.AUTHORIZED,
            password="bench",
        )
        Organization.objects.create(tenant=other, name="Other's customer")

    now = timezone.now().replace(microsecond=0)
    statuses = (
        ["new"] * 10
        + ["open"] * 20
        + ["pending"] * 10
        + ["on_hold"] * 5
        + ["solved"] * 25
        + ["closed"] * 30
    )
    first_hours = {1: 1, 2: 8, 3: 10}
    resolution_days = {1: 5, 2: 7, 3: 14}
    tickets: list[Ticket] = []
    for n in range(N_TICKETS):
        org_index = rng.randrange(N_ORGS)
        owner = owners[org_index]
        status = rng.choice(statuses)
        severity = rng.choice(severities) if rng.random() < 0.85 else None
        opened = now - dt.timedelta(seconds=rng.randrange(180 * 24 * 3600))
        tickets.append(
            Ticket(
                tenant=tenant,
                number=1001 + n,
                subject=f"Ticket {n}: {rng.choice(['login', 'invoice', 'booking', 'api', 'sync'])}"
                f" {rng.choice(['fails', 'is slow', 'shows an error', 'question', 'request'])}",
                description="Bench ticket.",
                description_html="<p>Bench ticket.</p>",
                status=status,
                organization=orgs[org_index],
                requester_id=owner.user_id,
                requester_email=f"owner{org_index}@customer{org_index}.bench.test",
                opened_at=opened,
                created_at=opened,
                updated_at=opened,
                severity=severity,
                assignee=rng.choice(agents) if rng.random() < 0.6 else None,
                team=rng.choice(teams) if rng.random() < 0.8 else None,
                held_for_verification=rng.random() < 0.002,
            )
        )
    with transaction.atomic():
        Ticket.objects.bulk_create(tickets, batch_size=5000)
        TicketCounter.objects.update_or_create(
            tenant=tenant, defaults={"last_number": 1000 + N_TICKETS}
        )
    clocks: list[SLAClock] = []
    for ticket in Ticket.objects.for_tenant(tenant).only(
        "id", "status", "opened_at", "severity_id"
    ):
        if ticket.severity_id is None:
            continue
        rank = next(s.rank for s in severities if s.pk == ticket.severity_id)
        active = ticket.status in ("new", "open", "pending", "on_hold")
        for metric, span in (
            (Metric.FIRST_RESPONSE, dt.timedelta(hours=first_hours[rank])),
            (Metric.RESOLUTION, dt.timedelta(days=resolution_days[rank] * 7 / 5)),
        ):
            due = ticket.opened_at + span
            answered = ticket.status != "new" and metric == Metric.FIRST_RESPONSE
            met = None
            if not active or answered:
                met = ticket.opened_at + span * rng.uniform(0.2, 1.2)
            paused = active and metric == Metric.RESOLUTION and ticket.status == "pending"
            if met is not None:
                status = SLAClock.Status.MET if met <= due else SLAClock.Status.BREACHED
            elif paused:
                status = SLAClock.Status.PAUSED
            else:
                status = SLAClock.Status.BREACHED if due <= now else SLAClock.Status.RUNNING
            clocks.append(
                SLAClock(
                    tenant=tenant,
                    ticket_id=ticket.pk,
                    metric=metric,
                    target_minutes=int(span.total_seconds() // 60),
                    status=status,
                    started_at=ticket.opened_at,
                    due_at=None if paused else due,
                    warn_at=None if paused else ticket.opened_at + span * 0.75,
                    paused_at=now if paused else None,
                    met_at=met,
                    breached_at=due if status == SLAClock.Status.BREACHED else None,
                    explanation="Bench clock.",
                )
            )
    with transaction.atomic():
        SLAClock.objects.bulk_create(clocks, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built: {N_TICKETS:,} tickets, {len(clocks):,} clocks, {N_ORGS} organizations "
        f"in {time.perf_counter() - started:.0f} s"
    )


def build_fcfs(rng: random.Random) -> None:
    """A second tenant of 100,000 tickets without any SLA clock (the webagency template, no
    contracts): its queue is first come, first served — the queue's second group only."""
    from django.db import connection, transaction
    from django.utils import timezone

    from helpdesk.models import Membership, Organization, Tenant
    from helpdesk.services import membership_add, user_get_or_create
    from sla.policies import load_policy_template
    from tickets.models import Ticket, TicketCounter

    started = time.perf_counter()
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=FCFS_SLUG, name="Bench FCFS", ticket_prefix="FC")
        load_policy_template(tenant=tenant, template="webagency")
        user = user_get_or_create(email="agent@fcfs.bench.test", name="FCFS Agent")
        membership_add(tenant=tenant, user=user, role="agent", tier=Membership.Tier.AGENT)
        orgs = [
            Organization.objects.create(tenant=tenant, name=f"Client {i:03d}") for i in range(50)
        ]
    now = timezone.now().replace(microsecond=0)
    statuses = ["new"] * 10 + ["open"] * 20 + ["pending"] * 10 + ["solved"] * 25 + ["closed"] * 35
    tickets = []
    for n in range(N_TICKETS):
        opened = now - dt.timedelta(seconds=rng.randrange(365 * 24 * 3600))
        org = rng.randrange(len(orgs))
        tickets.append(
            Ticket(
                tenant=tenant,
                number=1001 + n,
                subject=f"Request {n}",
                status=rng.choice(statuses),
                organization=orgs[org],
                requester_email=f"someone{org}@client.test",
                opened_at=opened,
                created_at=opened,
                updated_at=opened,
                sla_note="No support and maintenance contract: first come, first served.",
            )
        )
    with transaction.atomic():
        Ticket.objects.bulk_create(tickets, batch_size=5000)
        TicketCounter.objects.update_or_create(
            tenant=tenant, defaults={"last_number": 1000 + N_TICKETS}
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built: {N_TICKETS:,} tickets without clocks in {time.perf_counter() - started:.0f} s")


# --- the timing ------------------------------------------------------------------------------


def client_for(email: str, slug: str = SLUG):
    from django.test import Client

    from helpdesk.middleware import SESSION_TENANT_KEY
    from helpdesk.models import Tenant, User

    tenant = Tenant.objects.get(slug=slug)
    client = Client(HTTP_HOST=f"{slug}.localhost")
    client.force_login(User.objects.get(email=email))
    session = client.session
    session[SESSION_TENANT_KEY] = tenant.pk
    session.save()
    return client


def measure(client, path: str) -> tuple[list[float], list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm-up: connection, template and calendar caches
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    count = len(queries)  # now: the next request resets the connection's query log
    times, cpu = [], []
    for _ in range(REQUESTS):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200
    return times, cpu, count


def follow_link(client, path: str, rel: str) -> str:
    """The URL of the pager's ``rel`` link ("next", "prev") on the page at ``path``."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    match = re.search(rf'<a href="([^"]*)" rel="{rel}"', response.content.decode())
    assert match is not None, f"no {rel} link on {path}"
    return html.unescape(match.group(1))


def follow_next(client, path: str, page: int) -> str:
    """The URL of queue page ``page``, reached as an agent does: "Next" from page 1, each
    link carrying the cursor of the previous page's last row."""
    for _ in range(page - 1):
        path = follow_link(client, path, "next")
    return path


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, round(0.95 * len(values)) - 1)]


def report(label: str, times: list[float], cpu: list[float], queries: int) -> bool:
    ok = p95(times) < TARGET_MS
    print(
        f"{label:<46} median {statistics.median(times):6.1f} ms  p95 {p95(times):6.1f} ms  "
        f"(python cpu median {statistics.median(cpu):5.1f} ms)  queries {queries:2d}  "
        f"{'ok' if ok else 'OVER'}"
    )
    return ok


def main() -> None:
    global DB_NAME, N_TICKETS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the bench_queue database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench_queue database")
    parser.add_argument(
        "--database", default=DB_NAME, help=f"the database's name (default {DB_NAME})"
    )
    parser.add_argument(
        "--tickets",
        type=int,
        default=N_TICKETS,
        help=f"tickets per tenant when building (default {N_TICKETS:,})",
    )
    args = parser.parse_args()
    DB_NAME, N_TICKETS = args.database, args.tickets

    url = database_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "DEBUG": "false",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG")})
    reuse = args.reuse and database_exists(url)
    if not reuse:
        database_create(url)
    migrate(env)  # on a kept database: what was added since (an index), else nothing

    import django

    django.setup()
    if not reuse:
        build(random.Random(20261121))
        build_fcfs(random.Random(20261122))

    from tickets.models import Ticket

    # The tenant's size as built (a kept database may have been built with another --tickets).
    N_TICKETS = Ticket.objects.filter(tenant__slug=SLUG).count()
    results = []
    agent = client_for("agent0@bench.test")
    owner = client_for("owner0@customer0.bench.test")
    contact = client_for("contact0@customer0.bench.test")
    fcfs = client_for("agent@fcfs.bench.test", FCFS_SLUG)
    load = os.getloadavg()[0]
    print(
        f"{N_TICKETS:,} tickets in the tenant; {REQUESTS} requests each, after warm-up; target: "
        f"p95 under {TARGET_MS:.0f} ms (load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    deep = follow_next(agent, "/agent/queue/", 20)
    fcfs_deep = follow_next(fcfs, "/agent/queue/", 20)
    back = follow_link(agent, deep, "prev")
    fcfs_back = follow_link(fcfs, fcfs_deep, "prev")
    for label, client, path in (
        ("agent queue /agent/queue/", agent, "/agent/queue/"),
        ("agent queue, page 20 (Next cursors)", agent, deep),
        ("agent queue, page 19 (Previous from page 20)", agent, back),
        ("agent queue, page 10 by offset (?page=10)", agent, "/agent/queue/?page=10"),
        ("agent queue, breaching within 1 h", agent, "/agent/queue/?view=breaching"),
        ("agent queue, my teams", agent, "/agent/queue/?view=team"),
        ("agent queue, search 'invoice'", agent, "/agent/queue/?q=invoice"),
        ("agent queue, status filter 'solved'", agent, "/agent/queue/?status=solved"),
        ("agent queue, no clocks (first come, first served)", fcfs, "/agent/queue/"),
        ("agent queue, no clocks, page 20 (Next cursors)", fcfs, fcfs_deep),
        ("agent queue, no clocks, page 19 (Previous)", fcfs, fcfs_back),
        ("customer list /tickets/ (owner: organization)", owner, "/tickets/"),
        ("customer list /tickets/?state=all (owner)", owner, "/tickets/?state=all"),
        ("customer list /tickets/ (contact: own)", contact, "/tickets/"),
    ):
        times, cpu, queries = measure(client, path)
        results.append(report(label, times, cpu, queries))
    print(f"{sum(results)}/{len(results)} within the target of {TARGET_MS:.0f} ms (p95)")
    if not args.keep:
        database_drop(url)


if __name__ == "__main__":
    main()
