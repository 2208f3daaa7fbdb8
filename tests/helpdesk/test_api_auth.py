"""API authentication and the protocol basics: tokens, 401s, problem+json, scoping, schema."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from helpdesk.models import ApiToken, hash_token
from helpdesk.services import api_token_create, api_token_revoke
from tests.conftest import World
from tickets.services import ticket_create


def api(world: World, key: str | None = None) -> Client:
    extra = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return Client(HTTP_HOST=world.host, **extra)


def test_token_is_hashed_and_works(alpha: World) -> None:
    token, key = api_token_create(tenant=alpha.tenant, membership=alpha.agent, name="CI")
    assert token.key_hash == hash_token(key) and key not in token.key_hash
    assert not ApiToken.objects.filter(key_hash=key).exists()
    response = api(alpha, key).get("/api/v1/tickets/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_anonymous_gets_401_problem(alpha: World) -> None:
    response = api(alpha).get("/api/v1/tickets/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Token"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}


def test_token_of_other_tenant_is_401(alpha: World, beta: World) -> None:
    _, key = api_token_create(tenant=alpha.tenant, membership=alpha.admin)
    response = api(beta, key).get("/api/v1/tickets/")
    assert response.status_code == 401


def test_bad_revoked_and_expired_tokens_are_401(alpha: World) -> None:
    assert api(alpha, "hd_nonsense").get("/api/v1/tickets/").status_code == 401
    malformed = Client(HTTP_HOST=alpha.host, HTTP_AUTHORIZATION="Token a b")
    assert malformed.get("/api/v1/tickets/").status_code == 401
    token, key = api_token_create(tenant=alpha.tenant, membership=alpha.admin)
    api_token_revoke(tenant=alpha.tenant, token=token)
    assert api(alpha, key).get("/api/v1/tickets/").status_code == 401
    _, key2 = api_token_create(
        tenant=alpha.tenant,
        membership=alpha.admin,
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    assert api(alpha, key2).get("/api/v1/tickets/").status_code == 401


def test_customer_lists_only_what_they_may_see(alpha: World) -> None:
    mine = ticket_create(
        tenant=alpha.tenant,
        subject="Mine",
        requester=alpha.contact1.user,
        requester_email=alpha.contact1.user.email,
    )
    ticket_create(
        tenant=alpha.tenant,
        subject="Org two",
        requester=alpha.contact2.user,
        requester_email=alpha.contact2.user.email,
    )
    _, key = api_token_create(tenant=alpha.tenant, membership=alpha.contact1)
    rows = api(alpha, key).get("/api/v1/tickets/").json()["results"]
    assert [r["reference"] for r in rows] == [mine.reference]
    orgs = api(alpha, key).get("/api/v1/organizations/").json()["results"]
    assert [o["id"] for o in orgs] == [alpha.org1.pk]
    assert api(alpha, key).get(f"/api/v1/organizations/{alpha.org2.pk}/").status_code == 404


def test_cursor_pagination(alpha: World) -> None:
    for n in range(5):
        ticket_create(tenant=alpha.tenant, subject=f"T{n}", requester_email="x@alpha.test")
    _, key = api_token_create(tenant=alpha.tenant, membership=alpha.agent)
    page = api(alpha, key).get("/api/v1/tickets/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    seen = [r["subject"] for r in page["results"]]
    while page["next"]:
        page = api(alpha, key).get(page["next"]).json()
        seen += [r["subject"] for r in page["results"]]
    assert seen == [f"T{n}" for n in reversed(range(5))]


def test_unknown_api_route_is_problem_json(alpha: World) -> None:
    response = api(alpha).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_schema_and_docs(alpha: World) -> None:
    schema = api(alpha).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/tickets/" in spec["paths"]
    assert "tokenAuth" in spec["components"]["securitySchemes"]
    docs = api(alpha).get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"cdn" not in docs.content.lower()


def test_session_auth_needs_csrf_for_writes(alpha: World) -> None:
    client = alpha.client(alpha.agent)
    client.handler.enforce_csrf_checks = True
    assert client.get("/api/v1/tickets/").status_code == 200  # the session is accepted
    # A session-authenticated unsafe request without the CSRF token is refused.
    response = client.post("/api/v1/tickets/", {}, content_type="application/json")
    assert response.status_code in (403, 405)
