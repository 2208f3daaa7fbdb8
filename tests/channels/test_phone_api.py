"""``POST /api/v1/phone/verify/``: who a personal code belongs to, staff only, throttled."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from channels.phone.services import phone_code_ensure, phone_code_regenerate
from helpdesk.models import Membership
from helpdesk.services import api_token_create
from tests.channels.test_phone import Phone, phone_desk
from tests.conftest import World

URL = "/api/v1/phone/verify/"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    cache.clear()


@pytest.fixture
def desk(alpha: World) -> Phone:
    return phone_desk(alpha)


def api(world: World, membership: Membership) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def verify(client: Client, code: object) -> Any:
    return client.post(URL, {"code": code}, content_type="application/json")


def test_verify_happy_path(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    response = verify(api(w, w.agent), code)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "organization": w.org1.pk,
        "organization_name": w.org1.name,
        "contact": w.contact1.pk,
        "contact_email": w.contact1.user.email,
        "contact_name": w.contact1.user.name,
        "package": desk.ultimate.pk,
        "package_name": "Ultimate",
        "entitled": True,
        "reason": "",
    }


def test_verify_reports_a_contact_no_longer_entitled(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    w.org1.contracts.update(package=desk.standard)
    body = verify(api(w, w.admin), code).json()
    assert body["contact"] == w.contact1.pk
    assert body["entitled"] is False and body["package"] == desk.standard.pk
    assert "does not include phone" in body["reason"]


def test_unknown_code_is_404_problem(desk: Phone) -> None:
    w = desk.world
    response = verify(api(w, w.agent), "00000000")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 404


def test_regenerated_code_stops_verifying(desk: Phone) -> None:
    w = desk.world
    old = phone_code_ensure(membership=w.contact1).code
    new = phone_code_regenerate(membership=w.contact1, by=w.contact1).code
    client = api(w, w.agent)
    assert verify(client, old).status_code == 404
    assert verify(client, new).status_code == 200


@pytest.mark.parametrize("payload", [{}, {"code": ""}, {"code": ["1"]}, {"other": "x"}])
def test_missing_code_is_400_problem(desk: Phone, payload: dict[str, object]) -> None:
    w = desk.world
    response = api(w, w.agent).post(URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "code" in response.json()["errors"]


def test_cross_tenant_code_never_verifies(desk: Phone, beta: World) -> None:
    phone_desk(beta)
    code = phone_code_ensure(membership=desk.world.contact1).code
    response = verify(api(beta, beta.admin), code)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    # And alpha's token does not work on beta's host at all.
    _, key = api_token_create(tenant=desk.world.tenant, membership=desk.world.admin)
    foreign = Client(HTTP_HOST=beta.host, HTTP_AUTHORIZATION=f"Token {key}")
    assert verify(foreign, code).status_code == 401


@pytest.mark.parametrize("who", ["owner1", "contact1"])
def test_customers_are_forbidden(desk: Phone, who: str) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    response = verify(api(w, getattr(w, who)), code)
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert "contact_email" not in response.content.decode()


def test_anonymous_is_401_problem(desk: Phone) -> None:
    response = verify(Client(HTTP_HOST=desk.world.host), "12345678")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_session_call_without_csrf_token_is_refused(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    client = w.client(w.agent)
    client.handler.enforce_csrf_checks = True
    assert verify(client, code).status_code == 403  # no CSRF token: refused


@override_settings(PHONE_VERIFY_RATE="3/min", PHONE_VERIFY_TENANT_RATE="100/min")
def test_throttled_per_token_with_retry_after(desk: Phone) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    client = api(w, w.agent)
    for guess in ("00000001", "00000002", "00000003"):
        assert verify(client, guess).status_code == 404
    response = verify(client, code)  # even the right code, once over the limit
    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM
    assert int(response["Retry-After"]) >= 1
    assert response.json()["status"] == 429
    # Another token of the tenant still has its budget.
    assert verify(api(w, w.lead), code).status_code == 200


@override_settings(PHONE_VERIFY_RATE="100/min", PHONE_VERIFY_TENANT_RATE="4/min")
def test_throttled_per_tenant(desk: Phone, beta: World) -> None:
    w = desk.world
    code = phone_code_ensure(membership=w.contact1).code
    clients = [api(w, m) for m in (w.agent, w.lead, w.admin, w.agent)]
    for client in clients:
        assert verify(client, "00000000").status_code == 404
    response = verify(api(w, w.admin), code)
    assert response.status_code == 429 and "Retry-After" in response
    # The tenant's limit is the tenant's alone.
    phone_desk(beta)
    assert verify(api(beta, beta.agent), "00000000").status_code == 404


@override_settings(PHONE_VERIFY_RATE="2/min")
def test_get_describes_the_check_and_is_not_counted(desk: Phone) -> None:
    w = desk.world
    client = api(w, w.agent)
    for _ in range(5):
        response = client.get(URL)
        assert response.status_code == 200
        assert response.json() == {"code_length": 8, "code_format": "digits"}
    assert verify(client, "00000000").status_code == 404


def test_api_and_page_share_the_budget(desk: Phone) -> None:
    w = desk.world
    with override_settings(PHONE_VERIFY_RATE="2/min"):
        client = w.client(w.agent)
        assert client.post("/agent/phone/", {"code": "00000000"}).status_code == 400
        # The session user's API calls count against the same caller budget.
        assert verify(client, "00000000").status_code == 404
        assert verify(client, "00000000").status_code == 429


def test_verify_is_in_the_schema(desk: Phone) -> None:
    w = desk.world
    response = api(w, w.admin).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert "/api/v1/phone/verify/" in response.content.decode()
