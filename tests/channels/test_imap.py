"""The IMAP poller against a real IMAP server: Debian's dovecot, started by the test on a free
port of 127.0.0.1 with a generated configuration in a temporary directory (a passwd-file user
and a maildir). Skipped, saying why, only when dovecot is not installed
(``scripts/ensure-services.sh`` installs it)."""

from __future__ import annotations

import contextlib
import grp
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone
from imap_tools import AND, MailBoxUnencrypted

from channels.email import imap as imap_module
from channels.email.imap import imap_test_connection, mailbox_poll
from channels.email.models import InboundEmail, Mailbox
from channels.email.tasks import poll_mailboxes
from tests.channels.test_inbound import SUPPORT, eml
from tests.conftest import World
from tickets.models import Ticket

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
)
pytestmark = pytest.mark.skipif(
    DOVECOT is None,
    reason="dovecot is not installed (apt-get install dovecot-imapd; scripts/ensure-services.sh)",
)
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "email"
ACCOUNTS = 20
_ACCOUNT_NUMBERS = itertools.count()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.users: dict[str, str] = {}

    def add_user(self, name: str, password: str) -> None:
        self.users[name] = password
        lines = "".join(f"{u}:{{PLAIN}}{p}\n" for u, p in self.users.items())
        (self.root / "passwd").write_text(lines)

    def box(self, user: str) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(user, self.users[user])

    def deliver(self, user: str, *messages: bytes) -> None:
        with self.box(user) as box:
            for raw in messages:
                box.append(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), "INBOX")

    def unseen(self, user: str) -> int:
        with self.box(user) as box:
            return len(box.uids(AND(seen=False)))


def _config(root: Path, port: int) -> str:
    if os.geteuid() == 0:
        # Dovecot refuses to run its login and mail processes as root: use the package's users.
        login_user, internal_user = "dovenull", "dovecot"
        mail = pwd.getpwnam("dovecot")
        os.chown(root / "home", mail.pw_uid, mail.pw_gid)
    else:  # unprivileged: every process runs as the current user
        login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
        mail = pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(mail.pw_gid).gr_name if os.geteuid() else "dovecot"
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group}
first_valid_uid = {mail.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    assert DOVECOT is not None
    # Not pytest's tmp_path: its parents are 0700 and dovecot's own users must reach the maildir.
    root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    root.chmod(0o755)
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    port = _free_port()
    (root / "dovecot.conf").write_text(_config(root, port))
    server = Dovecot(root, port)
    # Every account up front: dovecot notices a changed passwd-file by its mtime, which two
    # writes within the same second would not change.
    for n in range(ACCOUNTS):
        server.add_user(f"u{n}@alpha.example", f"imap-secret-{n}")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")])
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {log[-2000:]}")
            time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def account(dovecot: Dovecot) -> str:
    """A fresh, empty IMAP account per test."""
    return f"u{next(_ACCOUNT_NUMBERS)}@alpha.example"


def _mailbox(world: World, dovecot: Dovecot, user: str, **extra: object) -> Mailbox:
    return Mailbox.objects.create(
        tenant=world.tenant,
        address=SUPPORT,
        imap_enabled=True,
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_ssl=False,
        imap_username=user,
        imap_password=dovecot.users[user],
        **extra,
    )


def test_poll_processes_unseen_and_marks_them_seen_after_commit(
    alpha: World, dovecot: Dovecot, account: str
) -> None:
    new = eml(sender=alpha.contact1.user.email, message_id="<imap-1@customer.example>")
    garbage = (CORPUS / "malformed_garbage.eml").read_bytes()
    dovecot.deliver(account, new, new, garbage)  # the same message twice: overlapping delivery
    mailbox = _mailbox(alpha, dovecot, account)

    result = mailbox_poll(mailbox_id=mailbox.pk)

    assert (result.polled, result.processed, result.remaining, result.error) == (True, 3, 0, "")
    outcomes = sorted(InboundEmail.objects.values_list("outcome", flat=True))
    assert outcomes == ["created", "duplicate", "quarantined"]
    assert set(InboundEmail.objects.values_list("source", flat=True)) == {"imap"}
    assert Ticket.objects.count() == 1
    assert dovecot.unseen(account) == 0
    mailbox.refresh_from_db()
    assert mailbox.poll_lease_until is None and mailbox.last_polled_at is not None
    # Nothing unseen: a second poll does nothing.
    assert mailbox_poll(mailbox_id=mailbox.pk).processed == 0


def test_a_message_whose_processing_did_not_return_stays_unseen(
    alpha: World, dovecot: Dovecot, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = eml(sender=alpha.contact1.user.email, message_id="<a@c.example>", subject="A")
    second = eml(sender=alpha.contact1.user.email, message_id="<b@c.example>", subject="B")
    dovecot.deliver(account, first, second)
    mailbox = _mailbox(alpha, dovecot, account)
    real = imap_module.inbound_ingest
    calls = []

    def dies_on_second(**kwargs: object) -> InboundEmail:
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("database went away mid-poll")
        return real(**kwargs)

    monkeypatch.setattr(imap_module, "inbound_ingest", dies_on_second)
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert result.processed == 1
    assert "database went away" in result.error
    assert dovecot.unseen(account) == 1  # B is still there for the next poll
    monkeypatch.setattr(imap_module, "inbound_ingest", real)
    assert mailbox_poll(mailbox_id=mailbox.pk).processed == 1
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["A", "B"]


def test_a_held_lease_makes_a_second_poll_do_nothing(
    alpha: World, dovecot: Dovecot, account: str
) -> None:
    dovecot.deliver(account, eml(sender=alpha.contact1.user.email))
    mailbox = _mailbox(
        alpha, dovecot, account, poll_lease_until=timezone.now() + timezone.timedelta(minutes=1)
    )
    assert mailbox_poll(mailbox_id=mailbox.pk).polled is False
    assert dovecot.unseen(account) == 1 and not InboundEmail.objects.exists()
    # An expired lease (a worker that died) is taken over.
    Mailbox.objects.filter(pk=mailbox.pk).update(
        poll_lease_until=timezone.now() - timezone.timedelta(seconds=1)
    )
    assert mailbox_poll(mailbox_id=mailbox.pk).processed == 1


def test_batches_are_bounded_and_oversized_mail_is_quarantined_truncated(
    alpha: World, dovecot: Dovecot, account: str
) -> None:
    big = eml(sender=alpha.contact1.user.email, message_id="<big@c.example>", body="x" * 5000)
    small = [
        eml(sender=alpha.contact1.user.email, message_id=f"<s{i}@c.example>", subject=f"S{i}")
        for i in range(2)
    ]
    dovecot.deliver(account, big, *small)
    mailbox = _mailbox(alpha, dovecot, account)
    with override_settings(HELPDESK_IMAP_BATCH=2, HELPDESK_INBOUND_MAX_BYTES=4000):
        first = mailbox_poll(mailbox_id=mailbox.pk)
        assert (first.processed, first.remaining) == (2, 1)
        second = mailbox_poll(mailbox_id=mailbox.pk)
        assert (second.processed, second.remaining) == (1, 0)
    row = InboundEmail.objects.get(outcome="quarantined")
    assert "too large" in row.reason and row.raw_size > 4000
    with row.raw.open("rb") as stored:
        assert len(stored.read()) == 4000
    assert Ticket.objects.count() == 2


def test_wrong_password_is_recorded_on_the_mailbox(
    alpha: World, dovecot: Dovecot, account: str
) -> None:
    mailbox = _mailbox(alpha, dovecot, account)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_password="wrong")
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert result.polled and result.error
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "auth" in mailbox.last_error.lower()
    assert mailbox.poll_lease_until is None
    assert imap_test_connection(mailbox) != ""
    mailbox.imap_password = dovecot.users[account]
    assert imap_test_connection(mailbox) == ""


def test_beat_task_enqueues_enabled_mailboxes_with_a_free_lease(
    alpha: World, beta: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    enabled = Mailbox.objects.create(
        tenant=alpha.tenant, address="a@alpha.example", imap_enabled=True
    )
    Mailbox.objects.create(tenant=alpha.tenant, address="off@alpha.example")
    Mailbox.objects.create(
        tenant=beta.tenant,
        address="busy@beta.example",
        imap_enabled=True,
        poll_lease_until=timezone.now() + timezone.timedelta(minutes=1),
    )
    queued: list[int] = []
    from channels.email import tasks

    monkeypatch.setattr(tasks.poll_mailbox, "delay", queued.append)
    assert poll_mailboxes() == 1
    assert queued == [enabled.pk]
