"""Host resolution, membership enforcement, session replay, isolation by construction."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from helpdesk.middleware import tenant_slug_from_host
from helpdesk.models import Membership
from helpdesk.tenancy import CrossTenantReference
from tests.conftest import PASSWORD, World
from tests.factories import MembershipFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("acme.localhost:8000", "acme"),
        ("acme.localhost", "acme"),
        ("ACME.LOCALHOST.", "acme"),
        ("localhost:8000", ""),
        ("localhost", ""),
        ("a.b.localhost", None),
        ("acme.example.com", None),
        ("evil-localhost", None),
    ],
)
def test_tenant_slug_from_host(host: str, expected: str | None) -> None:
    assert tenant_slug_from_host(host, "localhost") == expected


def test_tenant_host_serves_its_portal(alpha: World, beta: World) -> None:
    response = Client(HTTP_HOST="alpha.localhost:8000").get("/")
    assert response.status_code == 200
    assert b"Alpha" in response.content and b"Beta" not in response.content


def test_unknown_host_is_plain_404(db: None) -> None:
    response = Client(HTTP_HOST="nobody.localhost").get("/")
    assert response.status_code == 404
    assert b"No help desk lives at" in response.content


def test_foreign_host_is_rejected(db: None) -> None:
    response = Client(HTTP_HOST="acme.example.com").get("/")
    assert response.status_code == 400  # not in ALLOWED_HOSTS


def test_bare_domain_has_no_tenant_pages(alpha: World) -> None:
    client = Client(HTTP_HOST="localhost")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/tickets/").status_code == 404
    assert client.get("/accounts/login/").status_code == 404


def test_member_logs_in_on_own_tenant(alpha: World) -> None:
    client = alpha.client(alpha.agent)
    response = client.get("/")
    assert alpha.agent.user.email.encode() in response.content


def test_non_member_cannot_log_in(alpha: World, beta: World) -> None:
    client = Client(HTTP_HOST=alpha.host)
    response = client.post(
        "/accounts/login/", {"login": beta.agent.user.email, "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, with an error
    assert b"not correct" in response.content or b"errorlist" in response.content
    assert "_auth_user_id" not in client.session


def test_revoked_membership_ends_access(alpha: World) -> None:
    client = alpha.client(alpha.contact1)
    Membership.objects.filter(pk=alpha.contact1.pk).update(is_active=False)
    response = client.get("/")
    assert alpha.contact1.user.email.encode() not in response.content


def test_session_replayed_on_other_tenant_grants_nothing(alpha: World, beta: World) -> None:
    # The same person is a member of both tenants, and logs in on alpha only.
    both = MembershipFactory(tenant=beta.tenant, user=alpha.agent.user, role="agent")
    alpha_client = alpha.client(alpha.agent)
    cookie = alpha_client.cookies["sessionid"].value

    replay = Client(HTTP_HOST=beta.host)
    replay.cookies["sessionid"] = cookie
    assert both.user.email.encode() not in replay.get("/").content
    api = replay.get("/api/v1/tickets/")
    assert api.status_code in (401, 403)
    # ... and alpha's session is left intact.
    assert alpha.agent.user.email.encode() in alpha_client.get("/").content


def test_tenant_session_replayed_on_bare_domain_grants_nothing(alpha: World) -> None:
    alpha.agent.user.is_staff = True
    alpha.agent.user.is_superuser = True
    alpha.agent.user.save()
    cookie = alpha.client(alpha.agent).cookies["sessionid"].value
    replay = Client(HTTP_HOST="localhost")
    replay.cookies["sessionid"] = cookie
    response = replay.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_cross_tenant_reference_refused_in_python(alpha: World, beta: World) -> None:
    ticket = ticket_create(tenant=alpha.tenant, subject="Printer", requester_email="x@alpha.test")
    ticket.organization = beta.org1
    with pytest.raises(CrossTenantReference):
        ticket.save()
    membership = Membership(
        tenant=alpha.tenant,
        user=UserFactory(),
        role="customer",
        contact_role="authorized",
        organization_id=beta.org2.pk,  # not loaded: checked with a lookup
    )
    with pytest.raises(CrossTenantReference):
        membership.save()


def test_cross_tenant_reference_refused_by_database(alpha: World, beta: World) -> None:
    assert connection.vendor == "postgresql"
    ticket = ticket_create(tenant=alpha.tenant, subject="Printer", requester_email="x@alpha.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(organization_id=beta.org1.pk)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_signup_creates_pending_contact(alpha: World) -> None:
    alpha.org1.domains = ["acme-corp.test"]
    alpha.org1.save()
    client = Client(HTTP_HOST=alpha.host)
    response = client.post(
        "/accounts/signup/",
        {"email": "new@acme-corp.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    membership = Membership.objects.for_tenant(alpha.tenant).get(user__email="new@acme-corp.test")
    assert membership.role == "customer"
    assert membership.contact_role == "pending"
    assert membership.organization == alpha.org1


def test_brand_css_is_the_tenants(alpha: World) -> None:
    alpha.tenant.brand_color = "#123456"
    alpha.tenant.save()
    response = Client(HTTP_HOST=alpha.host).get("/brand.css")
    assert response["Content-Type"].startswith("text/css")
    assert b"#123456" in response.content


def test_agents_reach_two_factor_setup(alpha: World) -> None:
    client = alpha.client(alpha.agent)
    assert b"Two-factor" in client.get("/").content
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    client.post(response["Location"], {"password": PASSWORD})
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 200
    assert b"data:image/svg+xml" in response.content  # the QR code; img-src allows data:
    assert b"authenticator_secret" in response.content


def test_strict_csp_and_security_headers(alpha: World) -> None:
    response = Client(HTTP_HOST=alpha.host).get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in response.content  # no inline script on our pages
