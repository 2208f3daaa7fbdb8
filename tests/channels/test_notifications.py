"""Notices: each delivery is claimed once; email is threaded per ticket and marked
auto-generated; failures retry with backoff; held notices leave when due; pager backends
(console, and the generic HTTP provider against a real local server)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import override_settings

from channels.notifications import pager, services
from channels.notifications.emails import ticket_thread_id
from channels.notifications.models import NotificationDelivery
from channels.notifications.services import (
    Notice,
    Recipient,
    notice_send,
    notification_deliver,
    notifications_sweep,
)
from sla.escalation.alarms import alarms_sweep
from sla.models import Escalation
from tests.conftest import World
from tests.sla.escalation_support import make_escalation_setup

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    queued: list[Any] = []
    monkeypatch.setattr(
        services,
        "enqueue_deliveries",
        lambda items, countdown=None: queued.append((list(items), countdown)),
    )
    return queued


class FailingBackend:
    """An SMTP server that is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("SMTP down")


def test_escalation_email_is_threaded_per_ticket_and_auto_generated(alpha: World) -> None:
    esc = make_escalation_setup(alpha)
    with time_machine.travel(T0, tick=False):
        ticket = esc.ticket(opened_at=T0 - dt.timedelta(minutes=50))
        alarms_sweep()
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        alarms_sweep()
        emails = NotificationDelivery.objects.filter(
            channel="email", recipient=alpha.agent.user.email
        )
        assert emails.count() == 2
        for d in emails:
            assert notification_deliver(delivery_id=d.pk) == "sent"
            assert notification_deliver(delivery_id=d.pk) == "not-due"  # claimed once
    warning, breach = mail.outbox
    root = ticket_thread_id(tenant_slug="alpha", ticket_id=ticket.pk)
    for message in (warning, breach):
        assert f"[{ticket.reference}]" in message.subject
        assert message.extra_headers["In-Reply-To"] == root
        assert message.extra_headers["References"] == root
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
        assert message.alternatives[0][1] == "text/html"
    assert warning.extra_headers["Message-ID"] != breach.extra_headers["Message-ID"]
    assert "SLA warning" in warning.subject
    assert "escalation level 1" in breach.subject


def test_a_failed_send_is_retried_with_backoff_then_recorded(
    alpha: World, no_broker: list[Any]
) -> None:
    notice = Notice(
        tenant_id=alpha.tenant.pk,
        tenant_slug="alpha",
        source_key="test:1",
        kind="sla_warning",
        text="hello",
        email=services.EmailContent("Subject", "Body", "<p>Body</p>"),
    )
    with time_machine.travel(T0, tick=False):
        [delivery] = notice_send(
            notice=notice, recipients=[Recipient("x@example.test")], channels=["email"]
        )
        # Sending twice records once.
        assert (
            notice_send(notice=notice, recipients=[Recipient("x@example.test")], channels=["email"])
            == []
        )
    now = T0
    with override_settings(EMAIL_BACKEND=f"{__name__}.FailingBackend"):
        for attempt in range(1, services.MAX_ATTEMPTS + 1):
            with time_machine.travel(now, tick=False):
                outcome = notification_deliver(delivery_id=delivery.pk)
            delivery.refresh_from_db()
            assert delivery.attempts == attempt
            if attempt < services.MAX_ATTEMPTS:
                assert outcome == "retry"
                assert delivery.next_attempt_at == now + services.RETRY_BASE * 2 ** (attempt - 1)
                now = delivery.next_attempt_at
            else:
                assert outcome == "failed"
    assert delivery.status == "failed"
    assert "SMTP down" in delivery.error


def test_the_sweep_sends_held_and_lost_notices_when_due(alpha: World, no_broker: list[Any]) -> None:
    notice = Notice(
        tenant_id=alpha.tenant.pk,
        tenant_slug="alpha",
        source_key="test:2",
        kind="sla_warning",
        text="t",
        email=services.EmailContent("S", "B", "<p>B</p>"),
    )
    morning = T0 + dt.timedelta(hours=8)
    with time_machine.travel(T0, tick=False):
        [held] = notice_send(
            notice=notice,
            recipients=[Recipient("x@example.test")],
            channels=["email"],
            hold=lambda r: morning,
        )
    assert held.next_attempt_at == morning
    with time_machine.travel(morning, tick=False):
        assert notifications_sweep() == 0  # within the grace left to an on-time task
    with time_machine.travel(morning + services.SWEEP_GRACE, tick=False):
        assert notifications_sweep() == 1
        assert notifications_sweep() == 0  # queued: not again within the grace
    assert no_broker[-1] == ([(held.pk, "email")], None)


def test_console_pager_backend(alpha: World) -> None:
    notice = Notice(
        tenant_id=alpha.tenant.pk,
        tenant_slug="alpha",
        source_key="page:9:1",
        kind="emergency_page",
        text="EMERGENCY AL-1",
        reference="AL-1",
    )
    [d] = notice_send(
        notice=notice,
        recipients=[Recipient("a@x.test", membership_id=alpha.agent.pk, pager_address="+1555")],
        channels=["pager"],
    )
    assert notification_deliver(delivery_id=d.pk) == "sent"
    assert pager.sent[-1] == {
        "to": "+1555",
        "text": "EMERGENCY AL-1",
        "reference": "AL-1",
        "key": "page:9:1:+1555",
    }


@pytest.fixture
def provider() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    requests: list[dict[str, Any]] = []
    script: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append({"headers": dict(self.headers), "json": json.loads(body)})
            self.send_response(script.pop(0) if script else 202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", requests, script
    server.shutdown()
    server.server_close()


def test_http_pager_backend_posts_json_with_a_bearer_token(
    alpha: World, provider: tuple[str, list[dict[str, Any]], list[int]]
) -> None:
    url, requests, script = provider
    notice = Notice(
        tenant_id=alpha.tenant.pk,
        tenant_slug="alpha",
        source_key="page:3:1",
        kind="emergency_page",
        text="EMERGENCY AL-3",
        reference="AL-3",
    )
    [d] = notice_send(
        notice=notice,
        recipients=[Recipient("a@x.test", membership_id=alpha.agent.pk, pager_address="+1666")],
        channels=["pager"],
    )
    script.append(500)
    with override_settings(
        PAGER_BACKEND="channels.notifications.pager.HttpBackend",
        PAGER_HTTP_URL=url,
        PAGER_HTTP_TOKEN="tok",
    ):
        assert notification_deliver(delivery_id=d.pk) == "retry"
        NotificationDelivery.objects.filter(pk=d.pk).update(next_attempt_at=dt.datetime.now(dt.UTC))
        assert notification_deliver(delivery_id=d.pk) == "sent"
    assert len(requests) == 2
    assert requests[-1]["headers"]["Authorization"] == "Bearer tok"
    assert requests[-1]["headers"]["Idempotency-Key"] == "page:3:1:+1666"
    assert requests[-1]["json"] == {
        "to": "+1666",
        "text": "EMERGENCY AL-3",
        "reference": "AL-3",
        "key": "page:3:1:+1666",
    }


def test_escalation_deliveries_are_unique_per_source_recipient_and_channel(alpha: World) -> None:
    esc = make_escalation_setup(alpha)
    with time_machine.travel(T0, tick=False):
        esc.ticket(opened_at=T0 - dt.timedelta(minutes=61))
        alarms_sweep()
    for escalation in Escalation.objects.all():
        rows = NotificationDelivery.objects.filter(source_key=f"esc:{escalation.pk}")
        keys = [(d.recipient, d.channel) for d in rows]
        assert len(keys) == len(set(keys))
        assert {r for r, _ in keys} == set(escalation.recipients)
