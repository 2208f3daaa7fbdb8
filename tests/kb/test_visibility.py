"""Who sees what: anonymous visitors and customers see published public articles only; staff
see drafts and internal articles too. Hidden is 404, like missing."""

from __future__ import annotations

import pytest
from django.test import Client

from kb.models import Article
from kb.selectors import articles_visible_to, categories_visible_to
from kb.services import category_create
from tests.conftest import World
from tests.kb.conftest import api, make_article


@pytest.fixture
def articles(alpha: World) -> dict[str, Article]:
    guides = category_create(tenant=alpha.tenant, name="Guides")
    secret = category_create(tenant=alpha.tenant, name="Runbooks")
    return {
        "public": make_article(alpha, "Public guide", category=guides),
        "draft": make_article(alpha, "Draft guide", status=Article.Status.DRAFT, category=guides),
        "internal": make_article(alpha, "Internal runbook", visibility="internal", category=secret),
    }


def test_selector(alpha: World, articles: dict[str, Article]) -> None:
    def seen(membership: object) -> set[str]:
        return {a.title for a in articles_visible_to(tenant=alpha.tenant, membership=membership)}

    assert seen(None) == seen(alpha.contact1) == seen(alpha.owner2) == {"Public guide"}
    everything = {"Public guide", "Draft guide", "Internal runbook"}
    assert seen(alpha.agent) == seen(alpha.admin) == everything


def test_a_membership_of_another_tenant_is_no_staff_here(
    alpha: World, beta: World, articles: dict[str, Article]
) -> None:
    seen = articles_visible_to(tenant=alpha.tenant, membership=beta.admin)
    assert [a.title for a in seen] == ["Public guide"]


def test_categories_show_only_what_the_reader_can_read(
    alpha: World, articles: dict[str, Article]
) -> None:
    public = categories_visible_to(tenant=alpha.tenant, membership=None)
    assert [(c.name, c.article_count) for c in public] == [("Guides", 1)]
    staff = categories_visible_to(tenant=alpha.tenant, membership=alpha.agent)
    assert sorted((c.name, c.article_count) for c in staff) == [("Guides", 2), ("Runbooks", 1)]


@pytest.mark.parametrize("who", ["anonymous", "contact1"])
def test_pages_hide_drafts_and_internal(
    alpha: World, articles: dict[str, Article], who: str
) -> None:
    client = Client(HTTP_HOST=alpha.host) if who == "anonymous" else alpha.client(alpha.contact1)
    index = client.get("/kb/").content.decode()
    assert "Public guide" in index
    assert (
        "Draft guide" not in index and "Internal runbook" not in index and "Runbooks" not in index
    )
    assert client.get("/kb/public-guide/").status_code == 200
    assert client.get("/kb/draft-guide/").status_code == 404
    assert client.get("/kb/internal-runbook/").status_code == 404
    found = client.get("/kb/", {"q": "guide runbook or guide"}).content.decode()
    assert "Draft guide" not in found and "Internal runbook" not in found


def test_staff_see_everything_on_the_pages(alpha: World, articles: dict[str, Article]) -> None:
    client = alpha.client(alpha.agent)
    index = client.get("/kb/").content.decode()
    assert "Draft guide" in index and "Internal runbook" in index
    assert "badge-draft" in index and "badge-internal" in index
    assert client.get("/kb/internal-runbook/").status_code == 200


def test_api_hides_drafts_and_internal_from_customers(
    alpha: World, articles: dict[str, Article]
) -> None:
    customer = api(alpha, alpha.contact1)
    rows = customer.get("/api/v1/kb/articles/").json()["results"]
    assert [r["title"] for r in rows] == ["Public guide"]
    assert customer.get(f"/api/v1/kb/articles/{articles['draft'].pk}/").status_code == 404
    assert customer.get(f"/api/v1/kb/articles/{articles['internal'].pk}/").status_code == 404
    searched = customer.get("/api/v1/kb/articles/", {"search": "guide"}).json()["results"]
    assert [r["title"] for r in searched] == ["Public guide"]
    staff = api(alpha, alpha.agent).get("/api/v1/kb/articles/").json()["results"]
    assert len(staff) == 3
    cats = customer.get("/api/v1/kb/categories/").json()
    assert [c["name"] for c in cats] == ["Guides"]
