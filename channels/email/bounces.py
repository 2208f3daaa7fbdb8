"""Addresses that must receive no more mail: bounced, complained about us, or rejected by the
provider. Three ways in, one service:

* a provider's tracking webhook (``POST /email/events/<provider>/`` on the base domain,
  django-anymail's views, basic auth ``ANYMAIL["WEBHOOK_SECRET"]``) → anymail's ``tracking``
  signal → :func:`tracking_event_suppress`; the tenant comes from the metadata (or tag) that
  every outbound message carries (``channels.email.outbound``);
* a delivery-status notification that reaches a tenant's mailbox → the inbound pipeline calls
  :func:`address_suppress` itself (it knows the tenant from the mailbox);
* an admin lifts a suppression with :func:`address_unsuppress`.

Every send re-checks the list (``channels.notifications.services``), so an address suppressed
while a message waited in the outbox is skipped too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from anymail import urls as anymail_urls
from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from helpdesk.models import Tenant

from .models import SuppressedAddress

logger = logging.getLogger(__name__)

Reason = SuppressedAddress.Reason

# What the outbound mail carries so that a provider's event finds its tenant again.
METADATA_TENANT = "helpdesk_tenant"
METADATA_TICKET = "helpdesk_ticket"
TAG_TENANT_PREFIX = "helpdesk-tenant-"

# anymail's normalised event types that end delivery to an address for good. ("deferred" is a
# temporary failure the provider retries; "unsubscribed" does not arise: we send no lists.)
EVENT_REASONS = {
    EventType.BOUNCED: Reason.BOUNCED,
    EventType.COMPLAINED: Reason.COMPLAINED,
    EventType.REJECTED: Reason.REJECTED,
}
DETAIL_MAX = 2000


def _normalise(address: str) -> str:
    address = (address or "").strip().lower()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"address": f"'{address}' is not an email address."}) from None
    return address


def address_suppress(
    *, tenant: Tenant | int, address: str, reason: str, detail: str = ""
) -> SuppressedAddress:
    """Stop mail to ``address`` in ``tenant`` (idempotent: a second report of the same address
    updates the reason and detail to the latest). ``reason`` is a ``SuppressedAddress.Reason``.

    Preconditions: the caller knows the report is about mail of this tenant (the receiving
    mailbox, or the metadata of the message the provider reports on)."""
    if reason not in Reason.values:
        raise ValidationError({"reason": f"Unknown reason '{reason}'."})
    address = _normalise(address)
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    detail = (detail or "")[:DETAIL_MAX]
    try:
        with transaction.atomic():
            return SuppressedAddress.objects.create(
                tenant_id=tenant_id, address=address, reason=reason, detail=detail
            )
    except IntegrityError:  # already suppressed (or suppressed concurrently): keep the latest
        row = SuppressedAddress.objects.for_tenant(tenant_id).get(address=address)
        if (row.reason, row.detail) != (reason, detail):
            row.reason, row.detail = reason, detail
            row.save(update_fields=["reason", "detail"])
        return row


def address_unsuppress(*, tenant: Tenant | int, address: str) -> bool:
    """Lift a suppression (an admin fixed the address, or the mailbox works again). True when
    there was one.

    Preconditions: the caller is an admin of ``tenant``."""
    address = (address or "").strip().lower()
    deleted, _ = SuppressedAddress.objects.for_tenant(tenant).filter(address=address).delete()
    return bool(deleted)


def addresses_suppressed(*, tenant_id: int, addresses: Iterable[str]) -> set[str]:
    """Which of ``addresses`` (compared lower-cased) are suppressed in the tenant; one query."""
    wanted = {a.strip().lower() for a in addresses if a and a.strip()}
    if not wanted:
        return set()
    return set(
        SuppressedAddress.objects.for_tenant(tenant_id)
        .filter(address__in=wanted)
        .values_list("address", flat=True)
    )


def _tenant_of(event: AnymailTrackingEvent) -> Tenant | None:
    """The tenant our metadata (or, for providers without metadata, our tag) names."""
    candidates: list[Any] = [(event.metadata or {}).get(METADATA_TENANT)]
    candidates += [
        tag.removeprefix(TAG_TENANT_PREFIX)
        for tag in event.tags or []
        if isinstance(tag, str) and tag.startswith(TAG_TENANT_PREFIX)
    ]
    for value in candidates:
        if str(value or "").isdigit():
            tenant = Tenant.objects.filter(pk=int(value)).first()
            if tenant is not None:
                return tenant
    return None


def tracking_event_suppress(
    *, event: AnymailTrackingEvent, esp_name: str
) -> SuppressedAddress | None:
    """A bounce, complaint or rejection reported by the provider → the recipient's address is
    suppressed in the tenant whose mail it was. Anything else (delivered, opened, deferred …),
    an event without a recipient, or one whose tenant we cannot tell, changes nothing."""
    reason = EVENT_REASONS.get(event.event_type)
    if reason is None or not event.recipient:
        return None
    tenant = _tenant_of(event)
    if tenant is None:
        logger.warning(
            "%s %s event for %s names no tenant of ours; ignored",
            esp_name,
            event.event_type,
            event.recipient,
        )
        return None
    detail = " — ".join(
        str(part)
        for part in (esp_name, event.reject_reason, event.description, event.mta_response)
        if part
    )
    try:
        return address_suppress(
            tenant=tenant, address=str(event.recipient), reason=reason, detail=detail
        )
    except ValidationError:
        logger.warning("%s reported an unusable address %r; ignored", esp_name, event.recipient)
        return None


def _on_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    tracking_event_suppress(event=event, esp_name=esp_name)


# anymail's webhook views announce events only through this signal (the integration point the
# library offers); the receiver is a thin adapter to the service above.
tracking.connect(_on_tracking, dispatch_uid="helpdesk.email.bounces")


# --- the provider's event webhook -----------------------------------------------------------


def _tracking_views() -> dict[str, Callable[..., HttpResponse]]:
    """provider → anymail's own tracking webhook view, read from anymail's URL conf so that
    every provider the installed anymail supports is served (Mandrill's view is combined)."""
    views: dict[str, Callable[..., HttpResponse]] = {}
    for pattern in anymail_urls.urlpatterns:
        name = getattr(pattern, "name", None) or ""
        if name.endswith("_tracking_webhook"):
            views[name.removesuffix("_tracking_webhook")] = pattern.callback
    return views


TRACKING_VIEWS = _tracking_views()


@csrf_exempt
def tracking_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """``POST /email/events/<provider>/`` (the base domain: one provider account serves the
    installation; each event names its tenant in our metadata). anymail checks the basic auth
    ``ANYMAIL["WEBHOOK_SECRET"]`` (400 when wrong) and the provider's signature where it has
    one, normalises the events and sends them to :func:`tracking_event_suppress`. An unknown
    provider, or one whose settings are missing (its signing key), is a 404."""
    view = TRACKING_VIEWS.get(provider)
    if view is None:
        raise Http404("No such mail provider.")
    try:
        return view(request)
    except ImproperlyConfigured:
        logger.warning("mail events from %s: the provider is not configured", provider)
        raise Http404("This mail provider is not configured.") from None
