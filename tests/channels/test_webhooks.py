"""Outbound webhooks against a real local HTTP server: the signature, retries with backoff on
500, disabling after repeated failures (with a notice to the admins), the SSRF guard in
production mode, and the admin API (secret shown once, delivery log)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import override_settings

from channels.notifications.models import Notification, NotificationDelivery
from channels.notifications.services import notification_deliver
from channels.webhooks import services, ssrf
from channels.webhooks.models import WebhookDelivery, WebhookSubscription
from channels.webhooks.services import (
    verify,
    webhook_deliver,
    webhook_emit,
    webhook_subscription_create,
    webhooks_sweep,
)
from tests.conftest import World
from tests.sla.conftest import api

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


@dataclass
class Receiver:
    """A local endpoint: answers the next status codes in ``script`` (then 200)."""

    script: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/helpdesk?x=1"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            code = state.script.pop(0) if state.script else 200
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if code == 200 else b"boom")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Tasks are run by hand here: record what would be queued instead of publishing it."""
    queued: list[Any] = []
    monkeypatch.setattr(
        services,
        "enqueue_deliveries",
        lambda ids, countdown=None: queued.append((list(ids), countdown)),
    )
    return queued


def subscribe(
    world: World, receiver: Receiver, events: list[str] | None = None
) -> tuple[WebhookSubscription, str]:
    return webhook_subscription_create(
        tenant=world.tenant, url=receiver.url, events=events or ["ticket.created", "sla.breached"]
    )


def test_a_delivery_is_signed_and_carries_its_headers(alpha: World, receiver: Receiver) -> None:
    _, secret = subscribe(alpha, receiver)
    with transaction.atomic():
        [delivery] = webhook_emit(
            tenant=alpha.tenant,
            event="ticket.created",
            payload={"ticket": {"id": 7}},
            event_id="evt-1",
        )
    assert webhook_deliver(delivery_id=delivery.pk) == "delivered"
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/helpdesk?x=1"
    assert headers["X-Helpdesk-Event"] == "ticket.created"
    assert headers["X-Helpdesk-Delivery"] == str(delivery.uuid)
    assert headers["X-Helpdesk-Event-Id"] == "evt-1"
    assert verify(secret, body, headers["X-Helpdesk-Signature"])
    assert not verify("whsec_wrong", body, headers["X-Helpdesk-Signature"])
    assert not verify(secret, body + b" ", headers["X-Helpdesk-Signature"])
    t = headers["X-Helpdesk-Signature"].split(",")[0].removeprefix("t=")
    import hashlib
    import hmac

    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-Helpdesk-Signature"] == f"t={t},v1={expected}"
    envelope = json.loads(body)
    assert envelope["type"] == "ticket.created"
    assert envelope["tenant"] == "alpha"
    assert envelope["data"] == {"ticket": {"id": 7}}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.status_code, delivery.attempts) == ("delivered", 200, 1)
    # Delivered is final: a duplicate task does nothing.
    assert webhook_deliver(delivery_id=delivery.pk) == "not-due"
    assert len(receiver.requests) == 1


def test_emit_fans_out_to_subscribers_of_the_event_once_per_event_id(
    alpha: World,
    beta: World,
    receiver: Receiver,
    no_broker: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    subscribe(alpha, receiver, ["ticket.created"])
    subscribe(alpha, receiver, ["sla.breached"])
    subscribe(beta, receiver, ["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rows = webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={}, event_id="e")
        again = webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={}, event_id="e")
    assert len(rows) == 1 and again == []
    assert no_broker == [([rows[0].pk], None)]
    with pytest.raises(ValueError):
        webhook_emit(tenant=alpha.tenant, event="ticket.exploded", payload={})
    # Rolled back with its transaction: nothing is sent for a change that did not happen.
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={}, event_id="x")
        raise RuntimeError
    assert not WebhookDelivery.objects.filter(event_id="x").exists()


@override_settings(WEBHOOKS_RETRY_BASE_SECONDS=30)
def test_a_500_is_retried_with_backoff_then_delivered(
    alpha: World, receiver: Receiver, no_broker: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    receiver.script = [500, 503]
    subscription, _ = subscribe(alpha, receiver)
    with time_machine.travel(T0, tick=False):
        [delivery] = webhook_emit(tenant=alpha.tenant, event="sla.breached", payload={})
        with django_capture_on_commit_callbacks(execute=True):
            assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.status_code, delivery.attempts) == ("pending", 500, 1)
    assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=30)
    assert delivery.error == "HTTP 500"
    assert no_broker[-1] == ([delivery.pk], 30.0)  # the retry's countdown task
    with time_machine.travel(T0 + dt.timedelta(seconds=29), tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "not-due"
    with time_machine.travel(T0 + dt.timedelta(seconds=30), tick=False):
        assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=30 + 120)  # x4
    # The countdown task was lost: the sweep finds the delivery once it is due (and a grace).
    with time_machine.travel(T0 + dt.timedelta(seconds=151), tick=False):
        assert webhooks_sweep() == 0
    with time_machine.travel(T0 + dt.timedelta(seconds=160), tick=False):
        assert webhooks_sweep() == 1
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert len({r["headers"]["X-Helpdesk-Delivery"] for r in receiver.requests}) == 1
    subscription.refresh_from_db()
    assert subscription.failure_count == 0


@override_settings(WEBHOOKS_RETRY_BASE_SECONDS=1, WEBHOOKS_MAX_ATTEMPTS=3, WEBHOOKS_DISABLE_AFTER=4)
def test_repeated_failures_disable_the_subscription_and_tell_the_admins(
    alpha: World, receiver: Receiver
) -> None:
    receiver.script = [500] * 10
    subscription, _ = subscribe(alpha, receiver)
    now = T0
    first = webhook_emit(tenant=alpha.tenant, event="sla.breached", payload={}, now=now)[0]
    second = webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={}, now=now)[0]
    for _ in range(3):
        with time_machine.travel(now, tick=False):
            webhook_deliver(delivery_id=first.pk)
        now += dt.timedelta(seconds=60)
    first.refresh_from_db()
    assert (first.status, first.attempts) == ("failed", 3)
    third = webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={}, now=now)[0]
    with time_machine.travel(now, tick=False):
        assert webhook_deliver(delivery_id=second.pk) == "retry"  # the 4th failure in a row
    subscription.refresh_from_db()
    assert subscription.active is False
    assert subscription.disabled_at == now
    for d in (second, third):
        d.refresh_from_db()
        assert d.status == "cancelled"
    # Disabled: nothing more is emitted to it.
    assert webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={}) == []
    notice = Notification.objects.get(kind="webhook_disabled")
    assert notice.recipient == alpha.admin
    email = NotificationDelivery.objects.get(channel="email", recipient=alpha.admin.user.email)
    assert notification_deliver(delivery_id=email.pk) == "sent"
    assert mail.outbox[-1].subject == f"Webhook disabled: {receiver.url}"
    # Re-enabling clears the count.
    response = api(alpha, alpha.admin).patch(
        f"/api/v1/webhooks/{subscription.pk}/", {"active": True}
    )
    assert response.json()["active"] is True
    assert response.json()["failure_count"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "ftp://example.com/hook",
        "http://user:pw@8.8.8.8/hook",
    ],
)
def test_ssrf_guard_refuses_private_targets_in_production(url: str) -> None:
    with (
        override_settings(DEBUG=False, WEBHOOKS_ALLOW_PRIVATE=False),
        pytest.raises(ssrf.UnsafeURL),
    ):
        ssrf.resolve(url)


def test_ssrf_guard_allows_public_addresses_and_loopback_in_dev() -> None:
    with override_settings(DEBUG=False, WEBHOOKS_ALLOW_PRIVATE=False):
        target = ssrf.resolve("https://8.8.8.8:8443/h?a=b")
        assert (target.scheme, target.address, target.port, target.path) == (
            "https",
            "8.8.8.8",
            8443,
            "/h?a=b",
        )
    with override_settings(DEBUG=True, WEBHOOKS_ALLOW_PRIVATE=False):
        assert ssrf.resolve("http://127.0.0.1:9/h").address == "127.0.0.1"


def test_production_refuses_to_subscribe_or_deliver_to_loopback(
    alpha: World, receiver: Receiver
) -> None:
    subscribe(alpha, receiver)  # made in development
    delivery = webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={})[0]
    with override_settings(DEBUG=False, WEBHOOKS_ALLOW_PRIVATE=False):
        response = api(alpha, alpha.admin).post(
            "/api/v1/webhooks/", {"url": receiver.url, "events": ["ticket.created"]}
        )
        assert response.status_code == 400
        assert "private address" in response.json()["errors"]["url"][0]
        assert webhook_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.error.startswith("Refused:")
    assert receiver.requests == []


def test_webhook_api_for_admins(alpha: World, beta: World, receiver: Receiver) -> None:
    admin = api(alpha, alpha.admin)
    body = {
        "url": receiver.url,
        "events": ["ticket.created", "escalation.fired"],
        "description": "CRM",
    }
    assert api(alpha, alpha.agent).post("/api/v1/webhooks/", body).status_code == 403
    assert api(alpha, alpha.agent).get("/api/v1/webhooks/").status_code == 403
    created = admin.post("/api/v1/webhooks/", body)
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    hook = created.json()["id"]
    shown = admin.get(f"/api/v1/webhooks/{hook}/").json()
    assert "secret" not in shown and secret not in json.dumps(shown)
    assert admin.get("/api/v1/webhooks/").json()["results"][0]["events"] == [
        "escalation.fired",
        "ticket.created",
    ]
    bad = admin.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["ticket.exploded"]})
    assert bad.status_code == 400
    delivery = webhook_emit(tenant=alpha.tenant, event="ticket.created", payload={"n": 1})[0]
    webhook_deliver(delivery_id=delivery.pk)
    log = admin.get(f"/api/v1/webhooks/{hook}/deliveries/").json()["results"]
    assert [(d["event_type"], d["status"], d["status_code"]) for d in log] == [
        ("ticket.created", "delivered", 200)
    ]
    assert log[0]["payload"]["data"] == {"n": 1}
    assert api(beta, beta.admin).get(f"/api/v1/webhooks/{hook}/deliveries/").status_code == 404
    assert admin.patch(f"/api/v1/webhooks/{hook}/", {"events": ["sla.warning"]}).json()[
        "events"
    ] == ["sla.warning"]
    assert admin.delete(f"/api/v1/webhooks/{hook}/").status_code == 204
    assert not WebhookSubscription.objects.filter(pk=hook).exists()


def test_ticket_events_from_the_ticket_services_become_webhooks(
    alpha: World, receiver: Receiver
) -> None:
    from channels.webhooks.subscribers import ticket_event_to_webhooks

    subscribe(alpha, receiver, ["ticket.created", "message.created"])
    created = {"tenant_id": alpha.tenant.pk, "ticket_id": 5, "page_on_call": False}
    ticket_event_to_webhooks("ticket.created", created)
    ticket_event_to_webhooks("ticket.created", created)  # published twice: delivered once
    ticket_event_to_webhooks("ticket.assigned", {"tenant_id": alpha.tenant.pk, "ticket_id": 5})
    message = {"tenant_id": alpha.tenant.pk, "ticket_id": 5, "message_id": 9, "public": True}
    ticket_event_to_webhooks("message.created", message)
    rows = WebhookDelivery.objects.order_by("id")
    assert [(d.event_type, d.event_id) for d in rows] == [
        ("ticket.created", "ticket-5-created"),
        ("message.created", "message-9-created"),
    ]
    assert rows[1].payload["data"] == {"ticket_id": 5, "message_id": 9, "public": True}
