"""/manage/webhooks/ and /manage/tokens/: secrets and keys shown once, rotation, the delivery
log, re-enabling a disabled subscription, tokens working against the API until revoked."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from channels.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.models import ApiToken, hash_token
from helpdesk.services import api_token_create
from tests.conftest import World


def html(response: object) -> str:
    return response.content.decode()


def _secret_on(page: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}" type="text" readonly value="([^"]+)"', page)
    assert match is not None, page
    return match.group(1)


def _subscription(world: World, **extra: object) -> WebhookSubscription:
    fields: dict[str, object] = {
        "tenant": world.tenant,
        "url": "http://127.0.0.1:9/hook",
        "events": ["ticket.created"],
        "secret": "whsec_old",
        **extra,
    }
    return WebhookSubscription.objects.create(**fields)


# --- webhooks -----------------------------------------------------------------------------------


def test_webhook_create_shows_the_secret_once(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/webhooks/new/",
        {
            "url": "http://127.0.0.1:9/receiver",
            "description": "CRM",
            "events": ["ticket.created", "sla.breached"],
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    sub = WebhookSubscription.objects.get(tenant=alpha.tenant)
    assert (sub.url, sub.events, sub.description, sub.active) == (
        "http://127.0.0.1:9/receiver",
        ["sla.breached", "ticket.created"],
        "CRM",
        True,
    )
    secret = _secret_on(html(response), "webhook-secret")
    assert secret == sub.secret and secret.startswith("whsec_")
    # Never again: not on the detail page, not on the list.
    assert secret not in html(admin.get(f"/manage/webhooks/{sub.pk}/"))
    assert secret not in html(admin.get("/manage/webhooks/"))


def test_webhook_form_errors_keep_the_input(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/webhooks/new/", {"url": "http://127.0.0.1:9/x", "description": "Kept"}
    )
    assert response.status_code == 400
    assert "Subscribe to at least one event." in html(response) and "Kept" in html(response)
    # The SSRF guard's refusal lands on the URL field.
    response = admin.post(
        "/manage/webhooks/new/",
        {"url": "http://no-such-host.invalid/x", "events": ["ticket.updated"]},
    )
    assert response.status_code == 400
    body = html(response)
    assert "does not resolve" in body
    assert 'value="ticket.updated"' in body and "checked" in body
    response = admin.post(
        "/manage/webhooks/new/", {"url": "ftp://127.0.0.1/x", "events": ["ticket.updated"]}
    )
    assert response.status_code == 400
    assert "Only http and https URLs are allowed." in html(response)
    assert not WebhookSubscription.objects.filter(tenant=alpha.tenant).exists()


def test_webhook_edit_rotate_and_delete(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    sub = _subscription(alpha)
    url = f"/manage/webhooks/{sub.pk}/"
    response = admin.post(
        url,
        {
            "url": "http://127.0.0.1:9/new",
            "description": "Edited",
            "events": ["message.created"],
            "active": "",
        },
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.url, sub.events, sub.description, sub.active) == (
        "http://127.0.0.1:9/new",
        ["message.created"],
        "Edited",
        False,
    )
    response = admin.post(url, {"url": "http://127.0.0.1:9/new", "events": ["bogus"]})
    assert response.status_code == 400 and "Select a valid choice" in html(response)

    assert "Rotate secret" in html(admin.get(f"/manage/webhooks/{sub.pk}/rotate/"))
    response = admin.post(f"/manage/webhooks/{sub.pk}/rotate/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    sub.refresh_from_db()
    assert sub.secret != "whsec_old"
    assert _secret_on(html(response), "webhook-secret") == sub.secret
    assert sub.secret not in html(admin.get(url))

    assert admin.post(f"/manage/webhooks/{sub.pk}/delete/").status_code == 302
    assert not WebhookSubscription.objects.filter(pk=sub.pk).exists()


def test_disabled_webhook_is_re_enabled_and_its_log_paginated(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    sub = _subscription(alpha, active=False, failure_count=20, disabled_at=timezone.now())
    for n in range(30):
        WebhookDelivery.objects.create(
            tenant=alpha.tenant,
            subscription=sub,
            event_id=f"evt-{n:02d}",
            event_type="ticket.created",
            status=WebhookDelivery.Status.FAILED,
            attempts=6,
            status_code=503,
            error="HTTP 503",
            created_at=timezone.now() - dt.timedelta(minutes=n),
        )
    url = f"/manage/webhooks/{sub.pk}/"
    page = html(admin.get(url))
    assert "after 20 failed attempts in a row" in page
    assert page.count("HTTP 503") == 25 and "page=2" in page
    assert html(admin.get(url, {"page": "2"})).count("HTTP 503") == 5
    listing = html(admin.get("/manage/webhooks/"))
    assert "disabled after failures" in listing

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            admin.get(url)
        return len(ctx)

    many = count()
    WebhookDelivery.objects.filter(subscription=sub).exclude(event_id="evt-00").delete()
    assert count() == many

    assert "Re-enable" in html(admin.get(f"/manage/webhooks/{sub.pk}/enable/"))
    response = admin.post(f"/manage/webhooks/{sub.pk}/enable/", follow=True)
    assert "failure count is reset" in html(response)
    sub.refresh_from_db()
    assert (sub.active, sub.failure_count, sub.disabled_at) == (True, 0, None)


def test_webhook_pages_are_admin_only_and_tenant_scoped(alpha: World, beta: World) -> None:
    sub = _subscription(beta)
    admin = alpha.client(alpha.admin)
    for suffix in ("", "rotate/", "enable/", "delete/"):
        assert admin.post(f"/manage/webhooks/{sub.pk}/{suffix}").status_code == 404
    own = _subscription(alpha)
    for member in (alpha.agent, alpha.owner1):
        assert alpha.client(member).post(f"/manage/webhooks/{own.pk}/rotate/").status_code == 404
    anonymous = Client(HTTP_HOST=alpha.host).post(f"/manage/webhooks/{own.pk}/rotate/")
    assert anonymous.status_code == 302
    sub.refresh_from_db()
    own.refresh_from_db()
    assert sub.secret == own.secret == "whsec_old"


# --- tokens -------------------------------------------------------------------------------------


def test_token_shown_once_works_and_is_refused_after_revoke(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/tokens/new/", {"membership": alpha.agent.pk, "name": "CI bot", "expires_on": ""}
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = _secret_on(html(response), "token-key")
    token = ApiToken.objects.get(tenant=alpha.tenant, name="CI bot")
    assert token.membership_id == alpha.agent.pk and token.key_hash == hash_token(key)
    assert token.expires_at is None

    api = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/tickets/").status_code == 200

    listing = html(admin.get("/manage/tokens/"))
    assert "CI bot" in listing and f"{token.key_prefix}…" in listing
    assert key not in listing
    token.refresh_from_db()
    assert token.last_used_at is not None

    assert "Revoke token CI bot" in html(admin.get(f"/manage/tokens/{token.pk}/revoke/"))
    assert admin.post(f"/manage/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = api.get("/api/v1/tickets/")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert "revoked" in html(admin.get("/manage/tokens/"))


def test_token_form_errors_and_expiry(alpha: World, beta: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/tokens/new/",
        {"membership": alpha.agent.pk, "name": "Kept token", "expires_on": "2001-01-01"},
    )
    assert response.status_code == 400
    assert "Choose a day in the future." in html(response) and "Kept token" in html(response)
    response = admin.post("/manage/tokens/new/", {"membership": beta.agent.pk, "name": "x"})
    assert response.status_code == 400 and "Select a valid choice" in html(response)
    assert not ApiToken.objects.filter(tenant=alpha.tenant).exists()

    response = admin.post(
        "/manage/tokens/new/",
        {"membership": alpha.owner1.pk, "name": "Customer", "expires_on": "2099-12-31"},
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(tenant=alpha.tenant, name="Customer")
    assert token.expires_at is not None and token.expires_at.date() >= dt.date(2099, 12, 30)


def test_token_pages_are_admin_only_and_tenant_scoped(alpha: World, beta: World) -> None:
    other, _ = api_token_create(tenant=beta.tenant, membership=beta.admin, name="beta")
    admin = alpha.client(alpha.admin)
    assert admin.post(f"/manage/tokens/{other.pk}/revoke/").status_code == 404
    assert "beta" not in html(admin.get("/manage/tokens/")).split("console-main")[1]
    own, _ = api_token_create(tenant=alpha.tenant, membership=alpha.agent, name="own")
    agent = alpha.client(alpha.agent)
    assert agent.get("/manage/tokens/").status_code == 404
    assert agent.post(f"/manage/tokens/{own.pk}/revoke/").status_code == 404
    assert agent.post("/manage/tokens/new/", {"membership": alpha.agent.pk}).status_code == 404
    other.refresh_from_db()
    own.refresh_from_db()
    assert other.revoked_at is None and own.revoked_at is None
    assert ApiToken.objects.filter(tenant=alpha.tenant).count() == 1


def test_token_list_paginates_with_a_fixed_query_count(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    for n in range(30):
        api_token_create(tenant=alpha.tenant, membership=alpha.agent, name=f"tok-{n:02d}")
    page = html(admin.get("/manage/tokens/"))
    assert "tok-29" in page and "tok-04" not in page and "page=2" in page
    assert "tok-04" in html(admin.get("/manage/tokens/", {"page": "2"}))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            admin.get("/manage/tokens/")
        return len(ctx)

    many = count()
    ApiToken.objects.filter(tenant=alpha.tenant).exclude(name="tok-00").delete()
    assert count() == many
