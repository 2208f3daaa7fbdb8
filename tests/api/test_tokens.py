"""/api/v1/tokens/: create (key shown once), list, rename, revoke — per role, per tenant."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from helpdesk.models import ApiToken, IdempotencyRecord, hash_token
from helpdesk.services import api_token_create
from tests.conftest import World


def api(world: World, key: str) -> Client:
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def client_for(world: World, membership: object) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership, name="bootstrap")
    return api(world, key)


def test_create_shows_the_key_once_and_it_works(alpha: World) -> None:
    client = client_for(alpha, alpha.contact1)
    response = client.post("/api/v1/tokens/", {"name": "Zapier"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    key = body["key"]
    assert key.startswith(ApiToken.PREFIX) and body["prefix"] == key[:10]
    assert body["name"] == "Zapier" and body["status"] == "active"
    assert body["owner_email"] == alpha.contact1.user.email
    assert body["membership"] == alpha.contact1.pk
    assert body["last_used_at"] is None and body["revoked_at"] is None
    row = ApiToken.objects.get(pk=body["id"])
    assert row.key_hash == hash_token(key)
    # Never again: neither the detail nor the list carries it.
    detail = client.get(f"/api/v1/tokens/{body['id']}/").json()
    assert "key" not in detail and key not in client.get("/api/v1/tokens/").content.decode()
    # The new key authenticates as its owner, and its use is recorded.
    assert api(alpha, key).get("/api/v1/tickets/").status_code == 200
    assert api(alpha, key).get(f"/api/v1/tokens/{body['id']}/").json()["last_used_at"]


def test_idempotency_key_never_stores_the_secret(alpha: World) -> None:
    client = client_for(alpha, alpha.admin)
    response = client.post(
        "/api/v1/tokens/",
        {"name": "CI"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="abc",
    )
    assert response.status_code == 201
    assert not IdempotencyRecord.objects.filter(key="abc").exists()


def test_expiry_in_the_future_and_expired_status(alpha: World) -> None:
    client = client_for(alpha, alpha.agent)
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    response = client.post(
        "/api/v1/tokens/", {"name": "old", "expires_at": past}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "expires_at" in response.json()["errors"]
    naive = client.post(
        "/api/v1/tokens/",
        {"name": "x", "expires_at": "2099-01-01T00:00:00"},
        content_type="application/json",
    )
    assert naive.status_code == 400 and "expires_at" in naive.json()["errors"]
    future = timezone.now() + dt.timedelta(days=30)
    ok = client.post(
        "/api/v1/tokens/",
        {"name": "month", "expires_at": future.isoformat()},
        content_type="application/json",
    ).json()
    assert dt.datetime.fromisoformat(ok["expires_at"]) == future
    ApiToken.objects.filter(pk=ok["id"]).update(expires_at=timezone.now() - dt.timedelta(1))
    assert client.get(f"/api/v1/tokens/{ok['id']}/").json()["status"] == "expired"


def test_invalid_bodies_are_400_problems(alpha: World) -> None:
    client = client_for(alpha, alpha.agent)
    bodies: list[object] = [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "a", "colour": "red"},
        [],
    ]
    for body in bodies:
        response = client.post("/api/v1/tokens/", body, content_type="application/json")
        assert response.status_code == 400, body
        problem = response.json()
        assert response["Content-Type"] == "application/problem+json"
        assert set(problem) >= {"type", "title", "status", "detail", "errors"}
    mine = ApiToken.objects.filter(membership=alpha.agent).first()
    assert mine is not None
    bad = client.patch(f"/api/v1/tokens/{mine.pk}/", {"name": ""}, content_type="application/json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    mine.refresh_from_db()
    assert mine.name == "bootstrap"


def test_members_see_and_manage_only_their_own(alpha: World) -> None:
    theirs, _ = api_token_create(tenant=alpha.tenant, membership=alpha.contact2, name="theirs")
    admins, _ = api_token_create(tenant=alpha.tenant, membership=alpha.admin, name="admins")
    for member in (alpha.contact1, alpha.agent, alpha.owner1):
        client = client_for(alpha, member)
        rows = client.get("/api/v1/tokens/").json()["results"]
        assert {r["membership"] for r in rows} == {member.pk}
        for other in (theirs, admins):
            url = f"/api/v1/tokens/{other.pk}/"
            assert client.get(url).status_code == 404
            assert client.delete(url).status_code == 404
            patch = client.patch(url, {"name": "mine now"}, content_type="application/json")
            assert patch.status_code == 404
            assert patch["Content-Type"] == "application/problem+json"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and theirs.name == "theirs"


def test_only_admins_create_for_another_member(alpha: World) -> None:
    agent = client_for(alpha, alpha.agent)
    response = agent.post(
        "/api/v1/tokens/",
        {"name": "sneaky", "membership": alpha.admin.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "membership" in response.json()["errors"]
    assert not ApiToken.objects.filter(name="sneaky").exists()
    # Naming oneself is fine.
    own = agent.post(
        "/api/v1/tokens/",
        {"name": "own", "membership": alpha.agent.pk},
        content_type="application/json",
    )
    assert own.status_code == 201

    admin = client_for(alpha, alpha.admin)
    made = admin.post(
        "/api/v1/tokens/",
        {"name": "integration", "membership": alpha.contact1.pk},
        content_type="application/json",
    )
    assert made.status_code == 201
    assert made.json()["owner_email"] == alpha.contact1.user.email
    # The key acts as the contact (customer scope), not as the admin who made it.
    orgs = api(alpha, made.json()["key"]).get("/api/v1/organizations/").json()["results"]
    assert [o["id"] for o in orgs] == [alpha.org1.pk]
    rows = admin.get("/api/v1/tokens/").json()["results"]
    assert {r["owner_email"] for r in rows} >= {
        alpha.agent.user.email,
        alpha.contact1.user.email,
        alpha.admin.user.email,
    }


def test_admin_cannot_name_a_member_of_another_tenant(alpha: World, beta: World) -> None:
    admin = client_for(alpha, alpha.admin)
    response = admin.post(
        "/api/v1/tokens/",
        {"name": "x", "membership": beta.admin.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "membership" in response.json()["errors"]
    rows = client_for(beta, beta.admin).get("/api/v1/tokens/").json()["results"]
    assert all(r["owner_email"].endswith("@beta.test") for r in rows)


def test_admin_cannot_create_for_inactive_member(alpha: World) -> None:
    alpha.contact2.is_active = False
    alpha.contact2.save(update_fields=["is_active"])
    response = client_for(alpha, alpha.admin).post(
        "/api/v1/tokens/",
        {"name": "x", "membership": alpha.contact2.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and "membership" in response.json()["errors"]


def test_rename_and_revoke(alpha: World) -> None:
    token, key = api_token_create(tenant=alpha.tenant, membership=alpha.contact1, name="old")
    client = client_for(alpha, alpha.contact1)
    url = f"/api/v1/tokens/{token.pk}/"
    renamed = client.patch(url, {"name": "new"}, content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "new"
    assert api(alpha, key).get("/api/v1/tickets/").status_code == 200
    assert client.delete(url).status_code == 204
    token.refresh_from_db()
    first = token.revoked_at
    assert first is not None
    assert api(alpha, key).get("/api/v1/tickets/").status_code == 401
    # Still listed, as revoked; revoking again keeps the first instant.
    assert client.get(url).json()["status"] == "revoked"
    assert client.delete(url).status_code == 204
    token.refresh_from_db()
    assert token.revoked_at == first


def test_admin_revokes_anyones_token(alpha: World) -> None:
    token, key = api_token_create(tenant=alpha.tenant, membership=alpha.agent, name="leaked")
    response = client_for(alpha, alpha.admin).delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 204
    assert api(alpha, key).get("/api/v1/tickets/").status_code == 401


def test_other_tenant_token_is_404(alpha: World, beta: World) -> None:
    token, _ = api_token_create(tenant=alpha.tenant, membership=alpha.admin, name="alpha")
    beta_admin = client_for(beta, beta.admin)
    url = f"/api/v1/tokens/{token.pk}/"
    assert beta_admin.get(url).status_code == 404
    assert beta_admin.patch(url, {"name": "x"}, content_type="application/json").status_code == 404
    assert beta_admin.delete(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None and token.name == "alpha"


def test_anonymous_is_401_problem(alpha: World) -> None:
    for url in ("/api/v1/tokens/", "/api/v1/tokens/1/"):
        response = Client(HTTP_HOST=alpha.host).get(url)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
    post = Client(HTTP_HOST=alpha.host).post(
        "/api/v1/tokens/", {"name": "x"}, content_type="application/json"
    )
    assert post.status_code == 401


def test_session_needs_csrf(alpha: World) -> None:
    client = alpha.client(alpha.contact1)
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/v1/tokens/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert client.get("/api/v1/tokens/").status_code == 200
