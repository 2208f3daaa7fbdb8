"""Article and category services: revisions, rendering, slugs, publication, validation."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kb.models import Article, ArticleRevision
from kb.services import (
    article_create,
    article_publish,
    article_unpublish,
    article_update,
    category_create,
)
from tests.conftest import World
from tests.kb.conftest import make_article


def test_create_writes_revision_one_and_renders(alpha: World) -> None:
    article = make_article(alpha, "Getting started", "# Welcome\n\nRead **this** first.")
    assert article.slug == "getting-started"
    assert "<strong>this</strong>" in article.body_html
    assert article.body_text.startswith("Welcome")
    (revision,) = ArticleRevision.objects.filter(article=article)
    assert (revision.number, revision.title, revision.author) == (
        1,
        "Getting started",
        alpha.admin.user,
    )


def test_each_update_appends_a_revision(alpha: World) -> None:
    article = make_article(alpha, "Printer", "v1")
    article_update(
        tenant=alpha.tenant, article=article, author=alpha.agent.user, body_markdown="v2"
    )
    article_update(tenant=alpha.tenant, article=article, author=alpha.lead.user, title="Printers")
    article_update(tenant=alpha.tenant, article=article, author=alpha.lead.user, title="Printers")
    revisions = list(ArticleRevision.objects.filter(article=article).order_by("number"))
    assert [(r.number, r.title, r.body_markdown) for r in revisions] == [
        (1, "Printer", "v1"),
        (2, "Printer", "v2"),
        (3, "Printers", "v2"),  # the third call changed nothing: no revision
    ]
    assert revisions[1].author == alpha.agent.user
    article.refresh_from_db()
    assert article.slug == "printer"  # a link once shared keeps working
    assert article.body_html == "<p>v2</p>"


def test_markdown_is_sanitised(alpha: World) -> None:
    article = make_article(
        alpha,
        "Links",
        "[ok](https://example.test) [bad](javascript:alert(1)) <script>alert(1)</script>\n\n"
        '<a href="/kb/other/" onclick="x()">other</a> <iframe src="https://evil.test"></iframe>'
        "\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    )
    html = article.body_html
    assert 'href="https://example.test"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "javascript:" not in html and "<script" not in html and "alert(1)</" not in html
    assert "onclick" not in html and "<iframe" not in html
    assert 'href="/kb/other/"' in html
    assert "<table>" in html


def test_slugs_are_unique_per_tenant(alpha: World, beta: World) -> None:
    a = make_article(alpha, "FAQ")
    b = make_article(alpha, "FAQ")
    c = make_article(beta, "FAQ")
    assert (a.slug, b.slug, c.slug) == ("faq", "faq-2", "faq")
    with pytest.raises(ValidationError) as err:
        make_article(alpha, "Other", slug="faq")
    assert "slug" in err.value.message_dict
    with pytest.raises(ValidationError):
        make_article(alpha, "Other", slug="Not A Slug")
    with pytest.raises(ValidationError):
        make_article(alpha, "Other", slug="suggest")  # /kb/suggest/ is a page
    assert make_article(alpha, "Suggest").slug == "suggest-2"


def test_publish_and_unpublish(alpha: World) -> None:
    article = make_article(alpha, "Draft", "text", status=Article.Status.DRAFT)
    assert article.published_at is None
    article_publish(tenant=alpha.tenant, article=article)
    assert article.status == "published" and article.published_at is not None
    first = article.published_at
    article_publish(tenant=alpha.tenant, article=article)  # idempotent
    assert article.published_at == first
    article_unpublish(tenant=alpha.tenant, article=article)
    article.refresh_from_db()
    assert article.status == "draft" and article.published_at is None


def test_an_empty_article_cannot_be_published(alpha: World) -> None:
    with pytest.raises(ValidationError) as err:
        make_article(alpha, "Empty", "  ")
    assert "body_markdown" in err.value.message_dict
    assert not Article.objects.filter(title="Empty").exists()  # nothing half-created


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"visibility": "secret"}, "visibility"),
        ({"status": "archived"}, "status"),
        ({"product_area": "x" * 65}, "product_area"),
    ],
)
def test_create_validates(alpha: World, kwargs: dict[str, str], field: str) -> None:
    params = {"title": "Fine", "body_markdown": "text", **kwargs}
    with pytest.raises(ValidationError) as err:
        article_create(tenant=alpha.tenant, author=None, **params)
    assert field in err.value.message_dict


def test_category_of_another_tenant_is_refused(alpha: World, beta: World) -> None:
    theirs = category_create(tenant=beta.tenant, name="Billing")
    with pytest.raises(ValidationError) as err:
        make_article(alpha, "Invoices", category=theirs)
    assert "category" in err.value.message_dict
    article = make_article(alpha, "Invoices")
    with pytest.raises(ValidationError):
        article_update(tenant=alpha.tenant, article=article, author=None, category=theirs)


def test_categories(alpha: World, beta: World) -> None:
    first = category_create(tenant=alpha.tenant, name="Getting started", position=1)
    second = category_create(tenant=alpha.tenant, name="Getting started")
    assert (first.slug, second.slug) == ("getting-started", "getting-started-2")
    assert category_create(tenant=beta.tenant, name="Getting started").slug == "getting-started"
    with pytest.raises(ValidationError):
        category_create(tenant=alpha.tenant, name=" ")
    with pytest.raises(ValidationError):
        category_create(tenant=alpha.tenant, name="X", slug="getting-started")


def test_product_area_is_a_normalised_key(alpha: World) -> None:
    article = make_article(alpha, "Box setup", product_area="  OT-Box ")
    assert article.product_area == "ot-box"
