"""The same HTTP workload against this helpdesk's REST API and against django-helpdesk's.

    .venv/bin/python bench/api.py [--create 2000] [--rounds 2] [--total 10000] [--threads 8]
                                    [--workers 2] [--only ours|theirs]

Each side runs under gunicorn with the same number of sync workers, production-like (DEBUG
off), on the same PostgreSQL server in a fresh database of its own that the bench creates and
drops. All sides are up at once and take turns: each operation runs on every side before the
next one starts, and creation runs in ``--rounds`` rounds, so that a change in the machine's
load falls on both sides alike. django-helpdesk (PyPI) is installed by the bench into its own
virtualenv (``var/bench/djhelpdesk-venv``) and served from the minimal project in
``bench/_djhelpdesk``.
Ours: ``helpdesk.settings.prod``, a tenant made by ``create_tenant`` (with a policy template, so
its tickets get SLA clocks), a token by ``create_api_token``.

The workload, from the same client (``--threads`` threads, one connection per request):

1. ``--total`` minus ``--create`` older tickets, bulk-copied from one ticket made through the
   API with its SLA clocks or its opening follow-up (not timed);
2. create ``--create`` tickets through the API in ``--rounds`` rounds, the sides taking turns
   (timed): the newest tickets, those of the first page, are all real API-made ones;
3. list the first page (25 tickets on both sides) for at most ``--seconds`` (timed);
4. fetch one ticket for at most ``--seconds`` (timed).

It prints requests/s, p50 and p95 per operation and side, and the ratios (ours ÷ theirs).
For create it also times the framework floor (``bench/_floor``: Django and DRF with token
authentication inserting one row, nothing else) under the same gunicorn settings: the most any
create on this stack can reach, against which the 3x target on create can be read.
A benchmark, not a test: it never fails on timing. Only loopback addresses are contacted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: its modules must not shadow the
# standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUR_PYTHON = ROOT / ".venv" / "bin" / "python"
THEIR_PROJECT = ROOT / "bench" / "_djhelpdesk"
FLOOR_PROJECT = ROOT / "bench" / "_floor"
THEIR_VENV = ROOT / "var" / "bench" / "djhelpdesk-venv"
THEIR_REQUIREMENTS = ["django-helpdesk==2.6.1", "gunicorn==27.0.1", "psycopg[binary]==3.3.9"]
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
LOOPBACK = "127.0.0.1"
PAGE = 25  # django-helpdesk's page size; ours is asked for the same with ?page_size=


# --- processes -------------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def psql(sql: str) -> None:
    import psycopg  # the project's own dependency

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def fresh_database(name: str) -> str:
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def gunicorn(
    binary: Path, app: str, env: dict[str, str], cwd: Path, workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    cmd = [
        str(binary),
        app,
        "--workers",
        str(workers),
        "--bind",
        f"{LOOPBACK}:{port}",
        "--no-control-socket",
        "--timeout",
        "120",
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"gunicorn exited: {log.read_text()[-3000:]}")
            time.sleep(0.2)
    proc.terminate()
    sys.exit("gunicorn did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- the client ------------------------------------------------------------------------------


@dataclass
class Api:
    port: int
    host: str
    auth: str

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=120)
        headers = {"Host": self.host, "Authorization": self.auth, "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        data = json.loads(raw) if raw and raw[:1] in (b"{", b"[") else raw
        return response.status, data

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, body)
        if status >= 300:
            sys.exit(f"{method} {path}: {status} {str(data)[:500]}")
        return data


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000 if data else float("nan")


def load(
    api: Api,
    request: Callable[[int], tuple[str, str, Any]],
    count: int,
    threads: int,
    seconds: float | None = None,
    expect: int = 200,
) -> Result:
    """``count`` requests (or as many as fit in ``seconds``) from ``threads`` threads."""
    result = Result()
    lock = threading.Lock()
    issued = iter(range(count))
    deadline = time.monotonic() + seconds if seconds else None

    def worker() -> None:
        while True:
            with lock:
                i = next(issued, None)
            if i is None or (deadline and time.monotonic() > deadline):
                return
            method, path, body = request(i)
            start = time.perf_counter()
            try:
                status, data = api.call(method, path, body)
            except OSError:
                status, data = 0, None
            took = time.perf_counter() - start
            with lock:
                if status == expect:
                    result.latencies.append(took)
                else:
                    result.errors += 1
                    if result.errors <= 3:
                        print(f"  ! {method} {path}: {status} {str(data)[:300]}", flush=True)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result.elapsed = time.perf_counter() - started
    return result


OUR_FILLER = """
import copy
from django.db import transaction
from helpdesk.models import Tenant
from sla.models import SLAClock
from tickets.models import Ticket, TicketCounter
n = int(N)
tenant = Tenant.objects.get(slug="bench")
proto = Ticket.objects.for_tenant(tenant).order_by("-id").first()
clocks = list(SLAClock.objects.filter(ticket=proto))
with transaction.atomic():
    counter = TicketCounter.objects.select_for_update().get(tenant=tenant)
    rows = []
    for i in range(n):
        row = copy.copy(proto)
        row.pk = None
        row.number = counter.last_number + 1 + i
        row.subject = f"Filler {i}: the printer is on fire"
        rows.append(row)
    Ticket.objects.bulk_create(rows, batch_size=500)
    counter.last_number += n
    counter.save(update_fields=["last_number"])
    copies = []
    for row in rows:
        for clock in clocks:
            twin = copy.copy(clock)
            twin.pk = None
            twin.ticket_id = row.pk
            copies.append(twin)
    SLAClock.objects.bulk_create(copies, batch_size=1000)
print(Ticket.objects.for_tenant(tenant).count())
"""

THEIR_FILLER = """
import copy
from django.db import transaction
from helpdesk.models import FollowUp, Ticket
n = int(N)
proto = Ticket.objects.order_by("-id").first()
opened = FollowUp.objects.filter(ticket=proto).order_by("id").first()
with transaction.atomic():
    rows = []
    for i in range(n):
        row = copy.copy(proto)
        row.pk = None
        row.title = f"Filler {i}: the printer is on fire"
        rows.append(row)
    Ticket.objects.bulk_create(rows, batch_size=500)
    followups = []
    for row in rows:
        twin = copy.copy(opened)
        twin.pk = None
        twin.ticket_id = row.pk
        followups.append(twin)
    FollowUp.objects.bulk_create(followups, batch_size=1000)
print(Ticket.objects.count())
"""


# --- the two sides ---------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    api: Api
    create: Callable[[int], tuple[str, str, Any]]
    list_path: str
    detail_path: Callable[[int], str]
    proc: subprocess.Popen[bytes]
    cleanup: Callable[[], None]
    fill: Callable[[int], None]


def start_ours(workers: int, work: Path) -> Side:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": fresh_database("bench_api_ours"),
        "SECURE_SSL_REDIRECT": "false",
        "HELPDESK_VAR_DIR": str(work / "ours-var"),
        "MEDIA_ROOT": str(work / "ours-media"),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # django-helpdesk has no throttle: ours is lifted so that it measures the same work.
        "API_THROTTLE_RATE": "100000000/min",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
    }
    print("ours: migrate, create_tenant, create_api_token", flush=True)
    manage = [str(OUR_PYTHON), "manage.py"]
    run([*manage, "migrate", "--noinput", "-v0"], env)
    run(
        [
            *manage,
            "create_tenant",
            "bench",
            "--name",
            "Bench",
            "--template",
            "otcommerce",
            "--admin-email",
            "admin@bench.test",
            "--admin-password",
            secrets.token_urlsafe(16),
        ],
        env,
    )
    key = run(
        [*manage, "create_api_token", "--tenant", "bench", "--email", "admin@bench.test"], env
    )
    key = key.strip().splitlines()[-1]
    proc, port = gunicorn(
        OUR_PYTHON.parent / "gunicorn", "helpdesk.wsgi", env, ROOT, workers, work / "ours.log"
    )
    api = Api(port=port, host="bench.localhost", auth=f"Token {key}")
    organization = api.ok("POST", "/api/v1/organizations/", {"name": "Acme"})["id"]
    package = api.ok("GET", "/api/v1/packages/")["results"][0]["id"]
    api.ok(
        "POST",
        "/api/v1/contracts/",
        {"organization": organization, "package": package, "starts_on": "2020-01-01"},
    )
    severity = api.ok("GET", "/api/v1/severities/")["results"][0]["id"]

    def create(i: int) -> tuple[str, str, Any]:
        return (
            "POST",
            "/api/v1/tickets/",
            {
                "subject": f"Printer {i} is on fire",
                "description": "Smoke comes out of tray 2 since this morning.",
                "severity": severity,
                "organization": organization,
                "requester_email": f"customer{i % 50}@acme.test",
            },
        )

    def fill(n: int) -> None:
        run([*manage, "shell", "-c", OUR_FILLER.replace("int(N)", str(n))], env)

    return Side(
        name="this helpdesk",
        api=api,
        create=create,
        list_path=f"/api/v1/tickets/?page_size={PAGE}",
        detail_path=lambda pk: f"/api/v1/tickets/{pk}/",
        proc=proc,
        cleanup=lambda: psql('DROP DATABASE IF EXISTS "bench_api_ours" WITH (FORCE)'),
        fill=fill,
    )


def their_venv() -> Path:
    python = THEIR_VENV / "bin" / "python"
    if not python.exists():
        print(f"django-helpdesk: creating {THEIR_VENV}", flush=True)
        THEIR_VENV.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(THEIR_VENV)], dict(os.environ))
    have = run([str(python), "-m", "pip", "freeze"], dict(os.environ)).lower()
    if any(r.split("[")[0].split("==")[0].lower() + "==" not in have for r in THEIR_REQUIREMENTS):
        print("django-helpdesk: pip install " + " ".join(THEIR_REQUIREMENTS), flush=True)
        run([str(python), "-m", "pip", "install", "--quiet", *THEIR_REQUIREMENTS], dict(os.environ))
    return python


def start_theirs(workers: int, work: Path) -> Side:
    python = their_venv()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "djhelpdesk_bench.settings",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": fresh_database("bench_api_djhelpdesk"),
        "MEDIA_ROOT": str(work / "theirs-media"),
    }
    print("django-helpdesk: migrate, superuser, queue, token", flush=True)
    run([str(python), "manage.py", "migrate", "--noinput", "-v0"], env, cwd=THEIR_PROJECT)
    setup = (
        "from django.contrib.auth import get_user_model\n"
        "from helpdesk.models import Queue\n"
        "from rest_framework.authtoken.models import Token\n"
        "u = get_user_model().objects.create_superuser('bench', 'admin@bench.test', None)\n"
        "q = Queue.objects.create(title='Support', slug='support')\n"
        "print(q.pk, Token.objects.create(user=u).key)\n"
    )
    out = run([str(python), "manage.py", "shell", "-c", setup], env, cwd=THEIR_PROJECT)
    queue, key = out.strip().splitlines()[-1].split()
    proc, port = gunicorn(
        python.parent / "gunicorn",
        "djhelpdesk_bench.wsgi",
        env,
        THEIR_PROJECT,
        workers,
        work / "theirs.log",
    )
    api = Api(port=port, host=f"{LOOPBACK}", auth=f"Token {key}")

    def create(i: int) -> tuple[str, str, Any]:
        return (
            "POST",
            "/api/tickets/",
            {
                "queue": int(queue),
                "title": f"Printer {i} is on fire",
                "description": "Smoke comes out of tray 2 since this morning.",
                "submitter_email": f"customer{i % 50}@acme.test",
                "priority": 3,
            },
        )

    def fill(n: int) -> None:
        code = THEIR_FILLER.replace("int(N)", str(n))
        run([str(python), "manage.py", "shell", "-c", code], env, cwd=THEIR_PROJECT)

    return Side(
        name="django-helpdesk",
        api=api,
        create=create,
        list_path=f"/api/tickets/?page_size={PAGE}",
        detail_path=lambda pk: f"/api/tickets/{pk}/",
        proc=proc,
        cleanup=lambda: psql('DROP DATABASE IF EXISTS "bench_api_djhelpdesk" WITH (FORCE)'),
        fill=fill,
    )


def start_floor(workers: int, work: Path) -> Side:
    """The framework floor (one INSERT behind DRF token auth): only its create is timed."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "floorbench.settings",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": fresh_database("bench_api_floor"),
    }
    print("framework floor: migrate, token", flush=True)
    manage = [str(OUR_PYTHON), "manage.py"]
    run([*manage, "migrate", "--noinput", "-v0"], env, cwd=FLOOR_PROJECT)
    setup = (
        "from django.contrib.auth.models import User\n"
        "from rest_framework.authtoken.models import Token\n"
        "print(Token.objects.create(user=User.objects.create_user('bench')).key)\n"
    )
    key = run([*manage, "shell", "-c", setup], env, cwd=FLOOR_PROJECT).strip().splitlines()[-1]
    proc, port = gunicorn(
        OUR_PYTHON.parent / "gunicorn",
        "floorbench.wsgi",
        env,
        FLOOR_PROJECT,
        workers,
        work / "floor.log",
    )

    def create(i: int) -> tuple[str, str, Any]:
        body = {
            "subject": f"Printer {i} is on fire",
            "description": "Smoke comes out of tray 2 since this morning.",
            "severity": 1,
            "organization": 1,
            "requester_email": f"customer{i % 50}@acme.test",
        }
        return "POST", "/api/tickets/", body

    return Side(
        name="framework floor",
        api=Api(port=port, host=LOOPBACK, auth=f"Token {key}"),
        create=create,
        list_path="",
        detail_path=lambda pk: "",
        proc=proc,
        cleanup=lambda: psql('DROP DATABASE IF EXISTS "bench_api_floor" WITH (FORCE)'),
        fill=lambda n: None,
    )


# --- the workload ----------------------------------------------------------------------------


def pooled(results: list[Result]) -> Result:
    """Rounds taken together: every latency, every error, the time they took in all."""
    out = Result()
    for res in results:
        out.latencies += res.latencies
        out.errors += res.errors
        out.elapsed += res.elapsed
    return out


def prepare(side: Side, args: argparse.Namespace) -> None:
    """``--total`` minus the created tickets, copied in bulk from one ticket made through the
    API (with its SLA clocks / its opening follow-up), so that the newest tickets, those of the
    first page, are all real API-made ones."""
    rest = args.total - args.create
    print(f"{side.name}: {rest} older tickets, copied in bulk (not timed)", flush=True)
    side.api.ok(*side.create(-1))
    side.fill(rest - 1)


def create_round(side: Side, args: argparse.Namespace, round_no: int) -> Result:
    count = args.create // args.rounds
    print(
        f"{side.name}: create {count} tickets ({args.threads} threads, "
        f"round {round_no + 1} of {args.rounds})",
        flush=True,
    )
    offset = round_no * count

    def request(i: int) -> tuple[str, str, Any]:
        return side.create(offset + i)

    return load(side.api, request, count, args.threads, expect=201)


def reads(side: Side, args: argparse.Namespace) -> dict[str, Result]:
    first = side.api.ok("GET", side.list_path)
    rows = first["results"]
    assert len(rows) == PAGE, len(rows)
    ticket = rows[0]["id"]
    print(f"{side.name}: list the first page (at most {args.seconds}s)", flush=True)
    listed = load(
        side.api, lambda i: ("GET", side.list_path, None), args.reads, args.threads, args.seconds
    )
    print(f"{side.name}: fetch one ticket (at most {args.seconds}s)", flush=True)
    fetched = load(
        side.api,
        lambda i: ("GET", side.detail_path(ticket), None),
        args.reads,
        args.threads,
        args.seconds,
    )
    return {"list": listed, "fetch": fetched}


def workload(sides: dict[str, Side], args: argparse.Namespace) -> dict[str, dict[str, Result]]:
    """Each operation runs on every side before the next operation starts, and creation in
    ``--rounds`` rounds taking turns, so that a change in the machine's load falls on all
    sides alike rather than on whichever ran last."""
    for name, side in sides.items():
        if name != "floor":
            prepare(side, args)
    rounds: dict[str, list[Result]] = {name: [] for name in sides}
    for round_no in range(args.rounds):
        for name, side in sides.items():
            rounds[name].append(create_round(side, args, round_no))
    results = {name: {"create": pooled(done)} for name, done in rounds.items()}
    for name, side in sides.items():
        if name != "floor":
            results[name].update(reads(side, args))
    return results


def table(rows: list[tuple[str, str, Result]]) -> None:
    print()
    print(
        f"{'operation':<10} {'side':<16} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8}"
    )
    for op, name, res in rows:
        print(
            f"{op:<10} {name:<16} {len(res.latencies):>8} {res.errors:>6} {res.rps:>8.1f} "
            f"{res.pct(0.50):>8.1f} {res.pct(0.95):>8.1f}"
        )


def report(ours: dict[str, Result], theirs: dict[str, Result], floor: Result | None = None) -> None:
    rows = [
        (op, name, res)
        for op in ("create", "list", "fetch")
        for name, res in (("this helpdesk", ours[op]), ("django-helpdesk", theirs[op]))
    ]
    if floor is not None:
        rows.insert(2, ("create", "framework floor", floor))
    table(rows)
    print()
    print(f"{'operation':<10} {'throughput x':>13} {'p50 ÷':>8} {'p95 ÷':>8}   (ours vs theirs)")
    for op in ("create", "list", "fetch"):
        a, b = ours[op], theirs[op]
        ratio = a.rps / b.rps if b.rps else float("inf")
        p50 = b.pct(0.5) / a.pct(0.5)
        p95 = b.pct(0.95) / a.pct(0.95)
        verdict = "meets" if ratio >= 3 else "misses"
        print(f"{op:<10} {ratio:>12.1f}x {p50:>7.1f}x {p95:>7.1f}x   {verdict} the 3x target")
    if floor is not None and theirs["create"].rps:
        print(
            f"create: the framework floor (one INSERT behind DRF token auth) reaches "
            f"{floor.rps / theirs['create'].rps:.1f}x django-helpdesk; this helpdesk's create is "
            f"{ours['create'].rps / floor.rps:.0%} of the floor"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--create", type=int, default=2000, help="tickets created, timed")
    parser.add_argument(
        "--rounds", type=int, default=2, help="creation in rounds, the sides taking turns"
    )
    parser.add_argument("--total", type=int, default=10000, help="tickets present for reads")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per side")
    parser.add_argument("--reads", type=int, default=2000, help="max requests per read phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="max time per read phase")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--only",
        choices=("ours", "theirs"),
        help="run one side (while tuning it); no ratios are printed",
    )
    args = parser.parse_args()
    if args.total <= args.create:
        parser.error("--total must be more than --create")
    if not 0 < args.rounds <= args.create:
        parser.error("--rounds must be between 1 and --create")

    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    starts = {"ours": start_ours, "theirs": start_theirs, "floor": start_floor}
    wanted = [args.only] if args.only else ["ours", "theirs", "floor"]
    sides: dict[str, Side] = {}
    try:
        for name in wanted:
            sides[name] = starts[name](args.workers, work)
        results = workload(sides, args)
    finally:
        for side in sides.values():
            stop(side.proc)
            if not args.keep:
                side.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    if args.only:
        name = "this helpdesk" if args.only == "ours" else "django-helpdesk"
        table([(op, name, res) for op, res in results[args.only].items()])
    else:
        report(results["ours"], results["theirs"], results["floor"]["create"])


if __name__ == "__main__":
    main()
