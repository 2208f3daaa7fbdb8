"""Bounces and complaints: the provider's tracking webhook (django-anymail, basic auth) suppresses
the address in the tenant its metadata names; the services the inbound side and admins call."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from anymail.signals import AnymailTrackingEvent
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from channels.email.bounces import (
    address_suppress,
    address_unsuppress,
    addresses_suppressed,
    tracking_event_suppress,
)
from channels.email.models import SuppressedAddress
from tests.conftest import World

SECRET = "hooks:s3cret-Value"
URL = "/email/events/postmark/"


def _auth(credentials: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _bounce(world: World, email: str = "gone@example.test", **extra: Any) -> str:
    return json.dumps(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "ID": 4242,
            "Email": email,
            "BouncedAt": "2026-03-02T10:00:00Z",
            "Description": "The server was unable to deliver your message",
            "Details": "smtp;550 5.1.1 User unknown",
            "Metadata": {"helpdesk_tenant": str(world.tenant.pk), "helpdesk_ticket": "1"},
            **extra,
        }
    )


def _post(body: str, **headers: str) -> Any:
    # The base domain: one provider account serves the whole installation.
    return Client(HTTP_HOST="localhost").post(
        URL, data=body, content_type="application/json", **headers
    )


@pytest.fixture(autouse=True)
def webhook_secret() -> Any:
    with override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET}):
        yield


def test_a_bounce_with_good_credentials_suppresses_in_the_tenant_of_the_mail(
    alpha: World, beta: World
) -> None:
    response = _post(_bounce(alpha), **_auth(SECRET))
    assert response.status_code == 200
    row = SuppressedAddress.objects.get(address="gone@example.test")
    assert row.tenant_id == alpha.tenant.pk
    assert row.reason == "bounced"
    assert "Postmark" in row.detail and "User unknown" in row.detail
    assert not SuppressedAddress.objects.for_tenant(beta.tenant).exists()
    # The same report again changes nothing.
    assert _post(_bounce(alpha), **_auth(SECRET)).status_code == 200
    assert SuppressedAddress.objects.count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _auth("hooks:wrong"),
        _auth("other:s3cret-Value"),
        {"HTTP_AUTHORIZATION": "Bearer s3cret-Value"},
    ],
    ids=["missing", "wrong-password", "wrong-user", "not-basic"],
)
def test_bad_credentials_are_refused_and_suppress_nothing(
    alpha: World, headers: dict[str, str]
) -> None:
    response = _post(_bounce(alpha), **headers)
    assert response.status_code == 400
    assert not SuppressedAddress.objects.exists()


def test_complaints_and_rejections_suppress_deliveries_and_deferrals_do_not(
    alpha: World,
) -> None:
    complaint = _bounce(
        alpha, "angry@example.test", RecordType="SpamComplaint", Type="SpamComplaint"
    )
    assert _post(complaint, **_auth(SECRET)).status_code == 200
    rejected = _bounce(alpha, "bad@example.test", Type="BadEmailAddress")
    assert _post(rejected, **_auth(SECRET)).status_code == 200
    transient = _bounce(alpha, "later@example.test", Type="Transient")
    assert _post(transient, **_auth(SECRET)).status_code == 200
    delivered = json.dumps(
        {
            "RecordType": "Delivery",
            "Recipient": "fine@example.test",
            "DeliveredAt": "2026-03-02T10:00:00Z",
            "Metadata": {"helpdesk_tenant": str(alpha.tenant.pk)},
        }
    )
    assert _post(delivered, **_auth(SECRET)).status_code == 200
    assert dict(SuppressedAddress.objects.values_list("address", "reason")) == {
        "angry@example.test": "complained",
        "bad@example.test": "rejected",
    }


def test_an_event_naming_no_tenant_of_ours_changes_nothing(alpha: World) -> None:
    unknown = _bounce(alpha, Metadata={"helpdesk_tenant": "999999"})
    assert _post(unknown, **_auth(SECRET)).status_code == 200
    assert _post(_bounce(alpha, Metadata={}), **_auth(SECRET)).status_code == 200
    assert not SuppressedAddress.objects.exists()


def test_the_tenant_tag_serves_providers_without_metadata(alpha: World) -> None:
    event = AnymailTrackingEvent(
        event_type="bounced",
        recipient="Tagged@Example.test",
        tags=["ticket_reply", f"helpdesk-tenant-{alpha.tenant.pk}"],
    )
    row = tracking_event_suppress(event=event, esp_name="SendGrid")
    assert row is not None and (row.tenant_id, row.address) == (
        alpha.tenant.pk,
        "tagged@example.test",
    )


def test_unknown_or_unconfigured_providers_are_404(alpha: World) -> None:
    client = Client(HTTP_HOST="localhost")
    assert client.post("/email/events/nosuch/", data={}, **_auth(SECRET)).status_code == 404
    # Mailgun's view needs its signing key, which this installation has not set.
    response = client.post("/email/events/mailgun/", data={}, **_auth(SECRET))
    assert response.status_code == 404


def test_the_webhook_lives_on_the_base_domain_only(alpha: World) -> None:
    response = Client(HTTP_HOST=alpha.host).post(
        URL, data=_bounce(alpha), content_type="application/json", **_auth(SECRET)
    )
    assert response.status_code == 404
    assert not SuppressedAddress.objects.exists()


def test_suppress_and_unsuppress_services(alpha: World, beta: World) -> None:
    row = address_suppress(
        tenant=alpha.tenant, address=" Someone@Example.TEST ", reason="bounced", detail="dsn"
    )
    assert row.address == "someone@example.test"
    again = address_suppress(
        tenant=alpha.tenant.pk, address="someone@example.test", reason="complained"
    )
    assert again.pk == row.pk and again.reason == "complained"
    assert addresses_suppressed(
        tenant_id=alpha.tenant.pk, addresses=["SOMEONE@example.test", "x@example.test"]
    ) == {"someone@example.test"}
    assert (
        addresses_suppressed(tenant_id=beta.tenant.pk, addresses=["someone@example.test"]) == set()
    )
    # Lifting in another tenant lifts nothing here.
    assert address_unsuppress(tenant=beta.tenant, address="someone@example.test") is False
    assert address_unsuppress(tenant=alpha.tenant, address="Someone@example.test") is True
    assert address_unsuppress(tenant=alpha.tenant, address="someone@example.test") is False
    with pytest.raises(ValidationError):
        address_suppress(tenant=alpha.tenant, address="not an address", reason="bounced")
    with pytest.raises(ValidationError):
        address_suppress(tenant=alpha.tenant, address="a@example.test", reason="bored")
