"""The knowledge-base API: the publish-then-find round trip, roles, errors, revisions,
categories, pagination and the list's query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kb.models import Article
from kb.services import category_create
from tests.conftest import World
from tests.kb.conftest import api, make_article

ARTICLES = "/api/v1/kb/articles/"


def test_create_published_then_search_finds_it(alpha: World) -> None:
    staff = api(alpha, alpha.agent)
    response = staff.post(
        ARTICLES,
        {"title": "Configure the OT Box", "body": "Plug the **box** in.", "status": "published"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "published" and created["published_at"]
    assert created["body_html"] == "<p>Plug the <strong>box</strong> in.</p>"
    assert created["url"] == "http://alpha.localhost/kb/configure-the-ot-box/"
    found = staff.get(ARTICLES, {"search": "configuring boxes"}).json()
    assert [r["id"] for r in found["results"]] == [created["id"]]
    hit = found["results"][0]
    assert hit["rank"] > 0 and "<mark>box</mark>" in hit["snippet"]
    # …and a customer finds it too: it is published and public.
    customer = api(alpha, alpha.contact1).get(ARTICLES, {"search": "box"}).json()
    assert [r["id"] for r in customer["results"]] == [created["id"]]


def test_create_draft_then_publish_by_patch_then_search(alpha: World) -> None:
    staff = api(alpha, alpha.admin)
    created = staff.post(
        ARTICLES, {"title": "Holiday hours", "body": "Closed on holidays."},
        content_type="application/json",
    ).json()  # fmt: skip
    assert created["status"] == "draft"
    customer = api(alpha, alpha.contact1)
    assert customer.get(ARTICLES, {"search": "holiday"}).json()["results"] == []
    patched = staff.patch(
        f"{ARTICLES}{created['id']}/", {"status": "published"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["status"] == "published"
    rows = customer.get(ARTICLES, {"search": "holidays"}).json()["results"]
    assert [r["title"] for r in rows] == ["Holiday hours"]
    staff.patch(f"{ARTICLES}{created['id']}/", {"status": "draft"}, content_type="application/json")
    assert customer.get(ARTICLES, {"search": "holidays"}).json()["results"] == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "no title"}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "T", "visibility": "secret"}, "visibility"),
        ({"title": "T", "status": "archived"}, "status"),
        ({"title": "T", "category": 999999}, "category"),
        ({"title": "T", "slug": "Not a slug"}, "slug"),
        ({"title": "T", "status": "published"}, "body"),
    ],
)
def test_bad_input_is_400_problem(alpha: World, payload: dict[str, object], field: str) -> None:
    response = api(alpha, alpha.agent).post(ARTICLES, payload, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and field in body["errors"], body
    assert not Article.objects.exists()


def test_category_of_another_tenant_is_unknown(alpha: World, beta: World) -> None:
    theirs = category_create(tenant=beta.tenant, name="Billing")
    response = api(alpha, alpha.agent).post(
        ARTICLES, {"title": "T", "category": theirs.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and "category" in response.json()["errors"]


def test_customer_cannot_write(alpha: World) -> None:
    article = make_article(alpha, "Public")
    customer = api(alpha, alpha.owner1)
    create = customer.post(ARTICLES, {"title": "Mine"}, content_type="application/json")
    assert create.status_code == 403 and create["Content-Type"] == "application/problem+json"
    url = f"{ARTICLES}{article.pk}/"
    assert customer.patch(url, {"title": "X"}, content_type="application/json").status_code == 403
    assert customer.delete(url).status_code == 403
    assert customer.get(f"{url}revisions/").status_code == 403
    assert (
        customer.post(
            "/api/v1/kb/categories/", {"name": "X"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert customer.get(url).status_code == 200


def test_other_tenants_article_is_404_everywhere(alpha: World, beta: World) -> None:
    article = make_article(alpha, "Alpha only")
    theirs = api(beta, beta.admin)
    url = f"{ARTICLES}{article.pk}/"
    assert theirs.get(url).status_code == 404
    assert theirs.patch(url, {"title": "x"}, content_type="application/json").status_code == 404
    assert theirs.delete(url).status_code == 404
    assert theirs.get(f"{url}revisions/").status_code == 404
    assert theirs.get(f"{url}feedback/").status_code == 404
    assert (
        theirs.post(
            f"{url}feedback/", {"helpful": True}, content_type="application/json"
        ).status_code
        == 404
    )
    assert theirs.get(ARTICLES, {"search": "alpha"}).json()["results"] == []
    article.refresh_from_db()
    assert article.title == "Alpha only"


def test_patch_appends_revisions_and_revisions_endpoint(alpha: World) -> None:
    staff = api(alpha, alpha.agent)
    article = make_article(alpha, "Printer", "v1")
    url = f"{ARTICLES}{article.pk}/"
    staff.patch(url, {"body": "v2"}, content_type="application/json")
    response = staff.patch(
        url, {"title": "Printers", "product_area": "hardware", "visibility": "internal"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["product_area"] == "hardware"
    revisions = staff.get(f"{url}revisions/").json()["results"]
    assert [(r["number"], r["title"], r["body"]) for r in revisions] == [
        (3, "Printers", "v2"),
        (2, "Printer", "v2"),
        (1, "Printer", "v1"),
    ]
    assert revisions[0]["author"] == alpha.agent.user.email
    assert staff.put(url, {"title": "x"}, content_type="application/json").status_code == 405


def test_delete(alpha: World) -> None:
    article = make_article(alpha, "Old")
    assert api(alpha, alpha.admin).delete(f"{ARTICLES}{article.pk}/").status_code == 204
    assert not Article.objects.filter(pk=article.pk).exists()


def test_categories_api(alpha: World) -> None:
    staff = api(alpha, alpha.agent)
    response = staff.post(
        "/api/v1/kb/categories/", {"name": "Getting started", "position": 1},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    cat = response.json()
    assert cat["slug"] == "getting-started" and cat["article_count"] == 0
    bad = staff.post("/api/v1/kb/categories/", {"name": ""}, content_type="application/json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    article = staff.post(
        ARTICLES, {"title": "First steps", "body": "x", "category": cat["id"]},
        content_type="application/json",
    ).json()  # fmt: skip
    assert article["category"] == {"id": cat["id"], "name": "Getting started", "slug": cat["slug"]}
    listed = staff.get("/api/v1/kb/categories/").json()
    assert [(c["name"], c["article_count"]) for c in listed] == [("Getting started", 1)]


def test_list_is_newest_first_by_cursor_and_search_pages_by_offset(alpha: World) -> None:
    for n in range(5):
        make_article(alpha, f"Printer {n}", "printer")
    staff = api(alpha, alpha.agent)
    page = staff.get(ARTICLES, {"page_size": 2}).json()
    assert [r["title"] for r in page["results"]] == ["Printer 4", "Printer 3"]
    assert "cursor=" in page["next"]
    searched = staff.get(ARTICLES, {"search": "printer", "limit": 2}).json()
    assert searched["count"] == 5 and len(searched["results"]) == 2
    assert "offset=2" in searched["next"]


@pytest.mark.parametrize("search", [None, "printer"])
def test_list_query_count_does_not_grow_with_page_size(alpha: World, search: str | None) -> None:
    staff = api(alpha, alpha.agent)
    cat = category_create(tenant=alpha.tenant, name="Hardware")
    params = {"search": search} if search else {}

    def count_queries() -> int:
        staff.get(ARTICLES, params)  # warm: token, session, content types
        with CaptureQueriesContext(connection) as ctx:
            response = staff.get(ARTICLES, params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    make_article(alpha, "Printer 0", "printer", category=cat)
    few = count_queries()
    for n in range(1, 12):
        make_article(alpha, f"Printer {n}", "printer", category=cat if n % 2 else None)
    assert count_queries() == few


def test_schema_documents_the_kb(alpha: World) -> None:
    spec = api(alpha, alpha.agent).get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/kb/articles/",
        "/api/v1/kb/articles/{id}/",
        "/api/v1/kb/articles/{article_pk}/revisions/",
        "/api/v1/kb/articles/{article_pk}/feedback/",
        "/api/v1/kb/categories/",
    ):
        assert path in spec["paths"], path
    params = {p["name"] for p in spec["paths"]["/api/v1/kb/articles/"]["get"]["parameters"]}
    assert "search" in params
