"""Inbound email throughput: 10,000 varied messages through the inbound pipeline, one worker.

Workload (generated, seeded): a tenant with 40 organizations of 5 contacts each and one mailbox.
Of every 100 messages about 45 open a ticket (a known contact, 0-3 CCs), 22 reply to an earlier
message of the same sender (In-Reply-To, References, quoted history to trim), 8 are an earlier
message delivered again (duplicates), 8 are auto-replies (Auto-Submitted, Precedence, out-of-office
subjects), 10 carry a 40-120 KiB PDF attachment, 5 come from unknown senders (a pending contact
and a held ticket) and 2 are malformed (quarantined with their raw bytes). Messages are generated
one at a time and handed to ``inbound_ingest`` as the pipe would (each in its own transaction),
so memory holds one message at a time; the outbox subscribers (notifications, webhooks) are
detached so that only the pipeline and the ticket services are timed.

Prints messages/s for the one process, the outcome counts, and the resident set size every
1,000 messages (it must stay flat) and at its peak.

Runs in a dedicated PostgreSQL database ``bench_email`` (created, migrated, dropped; ``--keep``
keeps it). Run from the repository root: ``python bench/email_ingest.py [--messages N]``
(``DATABASE_URL`` names the server; the database name is replaced). Stored files go to a
temporary MEDIA_ROOT that is removed at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ is sys.path[0]: a sibling module must not shadow the standard library.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import os
import random
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "bench_email"
SLUG = "benchmail"
N_ORGS = 40
CONTACTS_PER_ORG = 5
SUPPORT = "support@benchmail.example"


def database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("bench/email_ingest.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    return urlunsplit(parts._replace(path="/" + DB_NAME))


def admin_connect(url: str):  # psycopg is imported late
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def database_create(url: str) -> None:
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def database_drop(url: str) -> None:
    from django.db import connections

    connections.close_all()
    with admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def build() -> list[str]:
    """The tenant, its organizations, contacts and mailbox; returns the contacts' addresses."""
    from django.db import transaction

    from channels.email.models import Mailbox
    from helpdesk.models import Tenant
    from helpdesk.services import contact_add, organization_create

    senders = []
    with transaction.atomic():
        tenant = Tenant.objects.create(slug=SLUG, name="Bench Mail", ticket_prefix="BM")
        Mailbox.objects.create(tenant=tenant, address=SUPPORT, is_default=True)
        for o in range(N_ORGS):
            org = organization_create(
                tenant=tenant, name=f"Customer {o}", domains=[f"c{o}.bench.example"]
            )
            for c in range(CONTACTS_PER_ORG):
                email = f"person{c}@c{o}.bench.example"
                contact_add(tenant=tenant, organization=org, email=email, name=f"Person {c}")
                senders.append(email)
    return senders


def _pdf(rng: random.Random) -> bytes:
    size = rng.randint(40, 120) * 1024
    return b"%PDF-1.4\n" + rng.randbytes(size) + b"\n%%EOF\n"


def messages(rng: random.Random, senders: list[str], count: int) -> Iterator[tuple[str, bytes]]:
    """(kind, raw) one at a time; only small per-sender threading state is kept."""
    last_by_sender: dict[str, str] = {}
    recent: list[bytes] = []  # a few earlier messages, to deliver again
    subjects = ["Checkout fails", "Invoice wrong", "Login loop", "Slow reports", "API 500"]
    for n in range(count):
        roll = rng.random()
        sender = rng.choice(senders)
        msg = EmailMessage()
        msg["To"] = SUPPORT
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = f"<bench-{n}@{sender.partition('@')[2]}>"
        kind = "new"
        body = f"Hello,\n\n{rng.choice(subjects)} since this morning (case {n}).\n\nRegards"
        if roll < 0.08 and recent:
            yield "duplicate", rng.choice(recent)
            continue
        if roll < 0.10:
            yield "malformed", b"\x00\x01\x02 not a message " + str(n).encode() + b"\n"
            continue
        if roll < 0.18:
            kind = "auto-reply"
            variant = rng.randrange(3)
            if variant == 0:
                msg["Auto-Submitted"] = "auto-replied"
            elif variant == 1:
                msg["Precedence"] = "bulk"
            msg["Subject"] = "Out of office: " + rng.choice(subjects)
            body = "I am away until Monday."
        elif roll < 0.40 and sender not in last_by_sender:
            msg["Subject"] = rng.choice(subjects)  # nothing to reply to yet: a new ticket
        elif roll < 0.40:
            kind = "reply"
            parent = last_by_sender[sender]
            msg["In-Reply-To"] = parent
            msg["References"] = parent
            msg["Subject"] = "Re: " + rng.choice(subjects)
            body = (
                f"Still broken ({n}).\n\nOn Monday, Support wrote:\n> Can you try again?\n> Thanks"
            )
        elif roll < 0.45:
            kind = "unknown sender"
            sender = f"stranger{n}@elsewhere.example"
            msg.replace_header("Message-ID", f"<bench-{n}@elsewhere.example>")
            msg["Subject"] = rng.choice(subjects)
        else:
            msg["Subject"] = rng.choice(subjects)
            ccs = [rng.choice(senders) for _ in range(rng.randrange(4))]
            if ccs:
                msg["Cc"] = ", ".join(ccs)
        msg["From"] = sender
        msg.set_content(body)
        if kind in ("new", "reply") and rng.random() < 0.18:
            kind += " + attachment"
            msg.add_attachment(
                _pdf(rng), maintype="application", subtype="pdf", filename=f"report-{n}-ü.pdf"
            )
        raw = bytes(msg)
        if kind.startswith(("new", "reply")):
            last_by_sender[sender] = msg["Message-ID"]
        if len(recent) < 50:
            recent.append(raw)
        elif rng.random() < 0.1:
            recent[rng.randrange(50)] = raw
        yield kind, raw


def run(count: int, senders: list[str]) -> None:
    from django.test.utils import override_settings

    from channels.email.inbound import inbound_ingest
    from helpdesk.models import Tenant
    from tickets import outbox

    outbox._SUBSCRIBERS.clear()  # time the pipeline and the ticket services only
    tenant = Tenant.objects.get(slug=SLUG)
    rng = random.Random(20261122)
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    checkpoints: list[tuple[int, float]] = []
    total_bytes = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    # The per-sender limit (20 in 10 minutes) would drop most of this synthetic burst.
    with override_settings(HELPDESK_INBOUND_RATE_LIMIT=10**9):
        for n, (kind, raw) in enumerate(messages(rng, senders, count), start=1):
            kinds[kind] += 1
            total_bytes += len(raw)
            row = inbound_ingest(tenant=tenant, raw=raw, source="pipe")
            outcomes[row.outcome] += 1
            del raw, row
            if n % 1000 == 0:
                checkpoints.append((n, rss_mib()))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"{count:,} messages ({total_bytes / 2**20:.0f} MiB) in {elapsed:.1f} s, one process")
    print(
        f"  {count / elapsed:.0f} messages/s per worker ({elapsed / count * 1000:.1f} ms each, "
        f"{cpu / count * 1000:.1f} ms CPU in this process; the rest is PostgreSQL and I/O)"
    )
    print("  generated: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("  outcomes:  " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print("  RSS every 1,000 messages (MiB): " + " ".join(f"{r:.0f}" for _, r in checkpoints))
    print(f"  peak RSS: {peak_rss_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the bench_email database")
    args = parser.parse_args()

    url = database_url()
    media = tempfile.mkdtemp(prefix="bench-email-media-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "DEBUG": "false",
        "MEDIA_ROOT": media,
    }
    os.environ.update(
        {k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "MEDIA_ROOT")}
    )
    database_create(url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import django

    django.setup()
    try:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        run(args.messages, build())
    finally:
        shutil.rmtree(media, ignore_errors=True)
        if not args.keep:
            database_drop(url)


if __name__ == "__main__":
    main()
