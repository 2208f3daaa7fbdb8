"""Outbound webhooks: subscriptions, emitting events (outbox rows on commit), signed delivery
with retries, and disabling an endpoint that keeps failing.

Every delivery is a POST of a JSON envelope ``{"id", "type", "created_at", "tenant", "data"}``
with the headers

* ``X-Helpdesk-Event``: the event type; ``X-Helpdesk-Delivery``: the delivery's UUID (the same
  on every retry of it); ``X-Helpdesk-Event-Id``: the event's id (dedupe on this);
* ``X-Helpdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

A 2xx answer is delivered. Anything else (or no answer) is retried with exponential backoff
(``WEBHOOKS_RETRY_BASE_SECONDS`` x 4^n: 30 s, 2 min, 8 min, 32 min, ~2 h) up to
``WEBHOOKS_MAX_ATTEMPTS`` (6); after ``WEBHOOKS_DISABLE_AFTER`` consecutive failed attempts
the subscription is disabled and the tenant's admins are told (in-app and email).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from helpdesk import configcache
from helpdesk.configcache import config_changed
from helpdesk.models import Membership, Tenant

from ..notifications.emails import render_email, tenant_base_url
from ..notifications.models import Notification
from ..notifications.services import Notice, Recipient, notice_send, on_commit_robust
from . import ssrf
from .models import WebhookDelivery, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
EVENTS = frozenset(WebhookEvent.values)
LEASE = dt.timedelta(minutes=2)
SWEEP_GRACE = dt.timedelta(seconds=5)
COUNTDOWN_HORIZON = dt.timedelta(minutes=10)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def max_attempts() -> int:
    return int(_setting("WEBHOOKS_MAX_ATTEMPTS", 6))


def disable_after() -> int:
    return int(_setting("WEBHOOKS_DISABLE_AFTER", 20))


def retry_delay(attempts: int) -> dt.timedelta:
    """Backoff after the ``attempts``-th failed attempt."""
    base = float(_setting("WEBHOOKS_RETRY_BASE_SECONDS", 30))
    return dt.timedelta(seconds=base * 4 ** max(attempts - 1, 0))


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Helpdesk-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300) -> bool:
    """What a receiver does (used by the tests): recompute and compare in constant time."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


# --- subscriptions ---------------------------------------------------------------------------


def _validate(url: str | None, events: Sequence[str] | None) -> None:
    errors: dict[str, str] = {}
    if events is not None:
        unknown = sorted(set(events) - EVENTS)
        if unknown:
            errors["events"] = f"Unknown events: {', '.join(unknown)}."
        elif not events:
            errors["events"] = "Subscribe to at least one event."
    if url is not None:
        try:
            ssrf.resolve(url)
        except ssrf.UnsafeURL as exc:
            errors["url"] = str(exc)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def webhook_subscription_create(
    *, tenant: Tenant, url: str, events: Sequence[str], description: str = ""
) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to ``events``. Returns the subscription and its signing secret, which
    is shown to the admin this once. Validates the events and the URL (SSRF guard)."""
    _validate(url, events)
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription.objects.create(
        tenant=tenant,
        url=url,
        events=sorted(set(events)),
        description=description,
        secret=secret,
    )
    return subscription, secret


@transaction.atomic
def webhook_subscription_update(
    *,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change a subscription. Re-activating a disabled one clears its failure count."""
    _validate(url, events)
    fields = ["updated_at"]
    if url is not None:
        subscription.url = url
        fields.append("url")
    if events is not None:
        subscription.events = sorted(set(events))
        fields.append("events")
    if description is not None:
        subscription.description = description
        fields.append("description")
    if active is not None and active != subscription.active:
        subscription.active = active
        fields.append("active")
        if active:
            subscription.failure_count, subscription.disabled_at = 0, None
            fields += ["failure_count", "disabled_at"]
    subscription.updated_at = timezone.now()
    subscription.save(update_fields=fields)
    return subscription


def webhook_subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()


# --- emitting ----------------------------------------------------------------------------------


def webhook_subscriptions_active(tenant_id: int) -> list[WebhookSubscription]:
    """The tenant's active subscriptions (read-only: shared by requests, see configcache)."""
    return configcache.cached(
        tenant_id,
        "webhook_subscriptions",
        lambda: list(WebhookSubscription.objects.for_tenant(tenant_id).filter(active=True)),
    )


def webhook_emit(
    *,
    tenant: Tenant | int,
    event: str,
    payload: dict[str, Any],
    event_id: str | None = None,
    now: dt.datetime | None = None,
    subscriptions: Sequence[WebhookSubscription] | None = None,
) -> list[WebhookDelivery]:
    """Record ``event`` for every active subscription of ``tenant`` that wants it, and send
    after commit. ``event_id`` makes it idempotent (the same id twice delivers once); default
    a fresh UUID. ``subscriptions``: the tenant's active subscriptions when the caller emits
    several events at once (see :func:`webhook_subscriptions_active`).

    Precondition: runs in the transaction that made the event (a rollback emits nothing).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    if subscriptions is None:
        subscriptions = webhook_subscriptions_active(tenant_id)
    subscriptions = [s for s in subscriptions if event in s.events]
    if not subscriptions:
        return []
    now = now or timezone.now()
    event_id = event_id or str(uuid.uuid4())
    slug = (
        tenant.slug
        if isinstance(tenant, Tenant)
        else Tenant.objects.values_list("slug", flat=True).get(pk=tenant_id)
    )
    envelope = {
        "id": event_id,
        "type": event,
        "created_at": now.astimezone(dt.UTC).isoformat(),
        "tenant": slug,
        "data": payload,
    }
    envelope = json.loads(json.dumps(envelope, cls=DjangoJSONEncoder))
    done = set(
        WebhookDelivery.objects.filter(
            subscription__in=subscriptions, event_id=event_id
        ).values_list("subscription_id", flat=True)
    )
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                tenant_id=tenant_id,
                subscription=s,
                event_id=event_id,
                event_type=event,
                payload=envelope,
                next_attempt_at=now,
                created_at=now,
            )
            for s in subscriptions
            if s.pk not in done
        ]
    )
    if rows:
        on_commit_robust(enqueue_deliveries, [r.pk for r in rows])
    return rows


def enqueue_deliveries(ids: Iterable[int], countdown: float | None = None) -> None:
    from .tasks import deliver  # tasks import this module

    for pk in ids:
        if countdown is None:
            deliver.apply_async((pk,))
        else:
            deliver.apply_async((pk,), countdown=countdown)


# --- delivering --------------------------------------------------------------------------------


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
    )


def webhook_deliver(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Attempt one delivery if it is due and not being attempted elsewhere. Returns
    ``delivered``, ``retry``, ``failed``, ``cancelled`` or ``not-due``."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return "not-due"
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.active:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.CANCELLED, error="Subscription disabled.", lease_until=None
        )
        return "cancelled"
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Helpdesk-Webhooks/1",
        "X-Helpdesk-Event": delivery.event_type,
        "X-Helpdesk-Event-Id": delivery.event_id,
        "X-Helpdesk-Delivery": str(delivery.uuid),
        "X-Helpdesk-Signature": sign(subscription.secret, body, timestamp),
    }
    status_code: int | None = None
    excerpt = ""
    try:
        target = ssrf.resolve(subscription.url)
        status_code, raw = ssrf.post(
            target, body, headers, timeout=float(_setting("WEBHOOKS_TIMEOUT", 10))
        )
        excerpt = raw[:1000].decode("utf-8", "replace")
        error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
    except ssrf.UnsafeURL as exc:
        error = f"Refused: {exc}"
    except (OSError, ValueError) as exc:  # refused, reset, timeout, TLS, bad response
        error = f"{type(exc).__name__}: {exc}"[:1000]
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.DELIVERED,
            status_code=status_code,
            response_excerpt=excerpt,
            error="",
            delivered_at=timezone.now(),
            lease_until=None,
        )
        WebhookSubscription.objects.filter(pk=subscription.pk).update(failure_count=0)
        return "delivered"
    return _failed(delivery, status_code, excerpt, error, now)


def _failed(
    delivery: WebhookDelivery, status_code: int | None, excerpt: str, error: str, now: dt.datetime
) -> str:
    fields: dict[str, Any] = {
        "status_code": status_code,
        "response_excerpt": excerpt,
        "error": error,
        "lease_until": None,
    }
    outcome = "failed"
    if delivery.attempts >= max_attempts():
        fields["status"] = Status.FAILED
    else:
        delay = retry_delay(delivery.attempts)
        fields["next_attempt_at"] = now + delay
        outcome = "retry"
        if delay <= COUNTDOWN_HORIZON:
            on_commit_robust(enqueue_deliveries, [delivery.pk], delay.total_seconds())
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
            failure_count=F("failure_count") + 1
        )
        # Disable once, whoever crosses the line: the update is the claim.
        disabled = WebhookSubscription.objects.filter(
            pk=delivery.subscription_id, active=True, failure_count__gte=disable_after()
        ).update(active=False, disabled_at=now)
        if disabled:
            config_changed(delivery.tenant_id)  # QuerySet.update sends no signal
            _disabled(delivery.subscription_id, now)
    return outcome


def _disabled(subscription_id: int, now: dt.datetime) -> None:
    """Cancel what is still queued for the subscription and tell the tenant's admins."""
    subscription = WebhookSubscription.objects.select_related("tenant").get(pk=subscription_id)
    WebhookDelivery.objects.filter(subscription=subscription, status=Status.PENDING).update(
        status=Status.CANCELLED, error="Subscription disabled after repeated failures."
    )
    tenant = subscription.tenant
    admins = Membership.objects.for_tenant(tenant).filter(
        role=Membership.Role.ADMIN, is_active=True
    )
    recipients = [
        Recipient(email=m.user.email, membership_id=m.pk, time_zone=m.user.time_zone or "UTC")
        for m in admins.select_related("user")
    ]
    context = {
        "tenant": tenant,
        "subscription": subscription,
        "failures": subscription.failure_count,
        "base_url": tenant_base_url(tenant),
    }
    notice_send(
        notice=Notice(
            tenant_id=tenant.pk,
            tenant_slug=tenant.slug,
            source_key=f"webhook-disabled:{subscription.pk}:{int(now.timestamp())}",
            kind=Notification.Kind.WEBHOOK_DISABLED,
            text=f"Webhook to {subscription.url} was disabled after repeated failures.",
            email=render_email("webhook_disabled", context),
        ),
        recipients=recipients,
        channels=["inapp", "email"],
        now=now,
    )


def webhooks_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Queue pending deliveries whose attempt is due and that no task picked up (retries
    beyond the countdown horizon, or lost with a worker or the broker)."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING, next_attempt_at__lte=now - SWEEP_GRACE
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now)
        enqueue_deliveries(ids)
    return len(ids)
