"""The knowledge-base editor in the console (/manage/kb/): the write → publish → find → unpublish
round trip through the pages, the sanitised preview, errors that keep what was typed, revisions,
categories, the list's filters and counts, and who may enter."""

from __future__ import annotations

import re
from html import escape
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kb.models import Article, ArticleRevision, Category
from kb.services import (
    article_create,
    article_update,
    category_create,
    category_delete,
    category_update,
    deflection_record,
)
from tests.conftest import World
from tests.factories import ProductAreaFactory
from tests.kb.conftest import api

LIST = "/manage/kb/"
NEW = "/manage/kb/new/"
CATEGORIES = "/manage/kb/categories/"
SEARCH_API = "/api/v1/kb/articles/"


def _edit(article: Article) -> str:
    return f"/manage/kb/articles/{article.pk}/"


def _post_article(client: Client, url: str, action: str = "save", **fields: str) -> Any:
    data = {
        "title": "",
        "slug": "",
        "category": "",
        "visibility": "public",
        "product_area": "",
        "body_markdown": "",
        "action": action,
        **fields,
    }
    return client.post(url, data)


def _article(world: World, title: str = "Reset your password", **kwargs: Any) -> Article:
    kwargs.setdefault("body_markdown", "Open **Settings** and choose Reset.")
    return article_create(tenant=world.tenant, author=world.admin.user, title=title, **kwargs)


def _api_titles(world: World, query: str) -> list[str]:
    customer = api(world, world.contact1)
    response = customer.get(SEARCH_API, {"search": query})
    assert response.status_code == 200
    return [row["title"] for row in response.json()["results"]]


# --- the round trip ------------------------------------------------------------------------


def test_draft_publish_unpublish_round_trip(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    anonymous = alpha.client()
    response = _post_article(
        admin,
        NEW,
        title="Pair the OT Box",
        body_markdown="Hold the **pairing** button for five seconds.",
        product_area="Devices",
    )
    assert response.status_code == 302
    article = Article.objects.for_tenant(alpha.tenant).get()
    assert response["Location"] == _edit(article)
    assert (article.status, article.slug, article.product_area) == (
        "draft",
        "pair-the-ot-box",
        "devices",
    )
    assert article.author == alpha.admin.user
    # A draft is nowhere public.
    assert anonymous.get("/kb/pair-the-ot-box/").status_code == 404
    assert "Pair the OT Box" not in anonymous.get("/kb/").content.decode()
    assert _api_titles(alpha, "pairing") == []

    response = _post_article(
        admin,
        _edit(article),
        action="publish",
        title="Pair the OT Box",
        body_markdown="Hold the **pairing** button for five seconds.",
    )
    assert response.status_code == 302
    page = admin.get(_edit(article)).content.decode()
    assert "Published “Pair the OT Box”" in page
    assert _api_titles(alpha, "pairing") == ["Pair the OT Box"]
    assert "Pair the OT Box" in anonymous.get("/kb/").content.decode()
    public = anonymous.get("/kb/pair-the-ot-box/")
    assert public.status_code == 200
    assert "<strong>pairing</strong>" in public.content.decode()

    response = _post_article(
        admin,
        _edit(article),
        action="unpublish",
        title="Pair the OT Box",
        body_markdown="Hold the **pairing** button for five seconds.",
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "draft" and article.published_at is None
    assert _api_titles(alpha, "pairing") == []
    assert anonymous.get("/kb/pair-the-ot-box/").status_code == 404
    assert "Pair the OT Box" not in anonymous.get("/kb/").content.decode()


def test_publish_straight_from_new(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = _post_article(
        admin, NEW, action="publish", title="Opening hours", body_markdown="Mon to Fri, 8 to 17."
    )
    assert response.status_code == 302
    assert Article.objects.for_tenant(alpha.tenant).get().status == "published"
    assert _api_titles(alpha, "opening hours") == ["Opening hours"]


def test_saving_a_published_article_keeps_it_live(alpha: World) -> None:
    article = _article(alpha, status="published")
    admin = alpha.client(alpha.admin)
    page = admin.get(_edit(article)).content.decode()
    assert 'value="unpublish"' in page and 'value="publish"' not in page
    response = _post_article(
        admin,
        _edit(article),
        title="Reset your password",
        body_markdown="Choose **Forgot password** on the sign-in page.",
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "published"
    assert _api_titles(alpha, "forgot") == ["Reset your password"]


def test_internal_article_is_not_public_when_published(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    _post_article(
        admin,
        NEW,
        action="publish",
        title="Escalating to engineering",
        visibility="internal",
        body_markdown="Page the on-call engineer.",
    )
    article = Article.objects.for_tenant(alpha.tenant).get()
    assert (article.status, article.visibility) == ("published", "internal")
    assert _api_titles(alpha, "engineer") == []
    assert alpha.client().get(f"/kb/{article.slug}/").status_code == 404


# --- preview -------------------------------------------------------------------------------


def test_preview_renders_sanitised_markdown_and_saves_nothing(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    body = 'Hello **world**\n\n<script>alert("pwned")</script>\n\n<a href="javascript:x()">x</a>'
    response = _post_article(admin, NEW, action="preview", title="", body_markdown=body)
    assert response.status_code == 200
    html = response.content.decode()
    preview = html.split('id="preview"', 1)[1].split("</section>", 1)[0]
    assert "<strong>world</strong>" in preview
    assert "<script" not in preview and "alert(" not in preview
    assert "javascript:" not in preview
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script anywhere
    # What was typed is still in the form, escaped; nothing was saved, no error was raised.
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "Please check the highlighted fields" not in html
    assert not Article.objects.for_tenant(alpha.tenant).exists()


def test_preview_on_edit_leaves_the_article_alone(alpha: World) -> None:
    article = _article(alpha)
    admin = alpha.client(alpha.admin)
    response = _post_article(
        admin, _edit(article), action="preview", title="Changed", body_markdown="## New heading"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>New heading</h2>" in html.split('id="preview"', 1)[1]
    assert 'value="Changed"' in html
    article.refresh_from_db()
    assert article.title == "Reset your password"
    assert ArticleRevision.objects.filter(article=article).count() == 1


def test_preview_matches_the_public_page(alpha: World) -> None:
    body = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```"
    article = _article(alpha, body_markdown=body, status="published")
    admin = alpha.client(alpha.admin)
    html = _post_article(
        admin, _edit(article), action="preview", title=article.title, body_markdown=body
    ).content.decode()
    assert article.body_html in html


# --- errors keep the input -----------------------------------------------------------------


def test_missing_title_keeps_everything_typed(alpha: World) -> None:
    category = category_create(tenant=alpha.tenant, name="Billing")
    admin = alpha.client(alpha.admin)
    response = _post_article(
        admin,
        NEW,
        title="",
        category=str(category.pk),
        product_area="billing",
        body_markdown="A *long* answer I do not want to lose.",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required" in html
    assert "A *long* answer I do not want to lose." in html
    assert f'<option value="{category.pk}" selected>' in html
    assert 'value="billing"' in html
    assert not Article.objects.for_tenant(alpha.tenant).exists()


def test_service_errors_land_on_their_fields(alpha: World) -> None:
    _article(alpha, title="Taken", slug="taken")
    admin = alpha.client(alpha.admin)
    response = _post_article(admin, NEW, title="Another", slug="taken", body_markdown="Body kept.")
    assert response.status_code == 400
    html = response.content.decode()
    slug_field = html.split('for="id_slug"', 1)[1].split('<div class="field', 1)[0]
    assert "This slug is already in use." in slug_field
    assert "Body kept." in html and 'value="Another"' in html

    response = _post_article(admin, NEW, title="Bad slug", slug="Not A Slug!")
    assert response.status_code == 400
    assert "Use lowercase letters" in response.content.decode()
    assert 'value="Not A Slug!"' in response.content.decode()


def test_publishing_without_a_body_is_refused_and_nothing_is_saved(alpha: World) -> None:
    article = _article(alpha, body_markdown="")
    admin = alpha.client(alpha.admin)
    response = _post_article(
        admin, _edit(article), action="publish", title="A better title", body_markdown="   "
    )
    assert response.status_code == 400
    html = response.content.decode()
    body_field = html.split('for="id_body_markdown"', 1)[1].split('<div class="field', 1)[0]
    assert "Write the article before publishing it." in body_field
    assert 'value="A better title"' in html
    article.refresh_from_db()
    # The edit and the publish are one: the refused publish leaves the title unchanged too.
    assert (article.title, article.status) == ("Reset your password", "draft")
    assert ArticleRevision.objects.filter(article=article).count() == 1


def test_another_tenants_category_is_not_a_choice(alpha: World, beta: World) -> None:
    theirs = category_create(tenant=beta.tenant, name="Their category")
    admin = alpha.client(alpha.admin)
    response = _post_article(admin, NEW, title="Mine", category=str(theirs.pk))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "Their category" not in response.content.decode()
    assert not Article.objects.filter(title="Mine").exists()


def test_a_save_made_meanwhile_is_not_overwritten_silently(alpha: World) -> None:
    article = _article(alpha, body_markdown="Original.")
    admin = alpha.client(alpha.admin)
    opened = admin.get(_edit(article)).content.decode()
    assert 'name="base_revision" value="1"' in opened
    # A colleague saves while this admin is still typing (and previewing).
    article_update(
        tenant=alpha.tenant, article=article, author=alpha.lead.user, body_markdown="Theirs."
    )
    preview = _post_article(
        admin, _edit(article), action="preview", title=article.title,
        body_markdown="Mine.", base_revision="1",
    )  # fmt: skip
    assert 'name="base_revision" value="1"' in preview.content.decode()
    response = _post_article(
        admin, _edit(article), title=article.title, body_markdown="Mine.", base_revision="1"
    )
    assert response.status_code == 400
    html = response.content.decode()
    who = escape(alpha.lead.user.name)
    assert f"{who} saved this article (revision 2) after you opened it" in html
    assert "Mine." in html and 'name="base_revision" value="2"' in html
    article.refresh_from_db()
    assert article.body_markdown == "Theirs."
    # Saving again from the refreshed base is a knowing overwrite.
    response = _post_article(
        admin, _edit(article), title=article.title, body_markdown="Mine.", base_revision="2"
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.body_markdown == "Mine."


# --- revisions -----------------------------------------------------------------------------


def test_revisions_appear_after_edits_and_can_be_viewed_and_restored(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    _post_article(admin, NEW, title="Invoices", body_markdown="Version one.")
    article = Article.objects.for_tenant(alpha.tenant).get()
    _post_article(admin, _edit(article), title="Invoices", body_markdown="Version two.")
    _post_article(admin, _edit(article), title="Your invoices", body_markdown="Version two.")
    # A save that changes nothing keeps no revision.
    _post_article(admin, _edit(article), title="Your invoices", body_markdown="Version two.")

    history = admin.get(f"{_edit(article)}revisions/")
    assert history.status_code == 200
    html = history.content.decode()
    assert [int(n) for n in re.findall(r"Revision (\d+)</a>", html)] == [3, 2, 1]
    rows = html.split("<tbody>", 1)[1]
    assert rows.count(escape(alpha.admin.user.name)) == 3

    first = admin.get(f"{_edit(article)}revisions/1/")
    assert first.status_code == 200
    assert "Version one." in first.content.decode()
    second = admin.get(f"{_edit(article)}revisions/2/").content.decode()
    assert "-Version one." in second and "+Version two." in second
    assert admin.get(f"{_edit(article)}revisions/4/").status_code == 404

    response = admin.post(f"{_edit(article)}revisions/1/")
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.body_markdown) == ("Invoices", "Version one.")
    latest = ArticleRevision.objects.filter(article=article).order_by("-number").first()
    assert latest is not None and (latest.number, latest.author) == (4, alpha.admin.user)


def test_revision_of_another_article_is_404(alpha: World) -> None:
    one = _article(alpha, title="One")
    two = _article(alpha, title="Two")
    article_update(tenant=alpha.tenant, article=two, author=None, body_markdown="Changed.")
    admin = alpha.client(alpha.admin)
    assert admin.get(f"{_edit(two)}revisions/2/").status_code == 200
    assert admin.get(f"{_edit(one)}revisions/2/").status_code == 404


# --- the list ------------------------------------------------------------------------------


def test_list_shows_columns_and_deflection_counts(alpha: World) -> None:
    category = category_create(tenant=alpha.tenant, name="Accounts")
    article = _article(alpha, category=category, status="published", product_area="auth")
    for helpful in (True, True, False):
        deflection_record(tenant=alpha.tenant, article=article, helpful=helpful)
    html = alpha.client(alpha.admin).get(LIST).content.decode()
    row = html.split(_edit(article), 1)[1].split("</tr>", 1)[0]
    assert "Reset your password" in row and "Accounts" in row and "Published" in row
    assert "auth" in row and "Public" in row
    assert "2 / 1" in row


def test_list_filters_and_search(alpha: World) -> None:
    billing = category_create(tenant=alpha.tenant, name="Billing")
    paid = _article(alpha, title="Pay an invoice", category=billing, status="published")
    draft = _article(alpha, title="Refund policy", body_markdown="Refunds within 30 days.")
    loose = _article(alpha, title="Change your email", status="published")
    admin = alpha.client(alpha.admin)

    def titles(**query: str) -> set[str]:
        response = admin.get(LIST, query)
        assert response.status_code == 200
        html = response.content.decode()
        return {a.title for a in (paid, draft, loose) if _edit(a) in html}

    assert titles() == {"Pay an invoice", "Refund policy", "Change your email"}
    assert titles(status="draft") == {"Refund policy"}
    assert titles(status="published") == {"Pay an invoice", "Change your email"}
    assert titles(category=str(billing.pk)) == {"Pay an invoice"}
    assert titles(category="none") == {"Refund policy", "Change your email"}
    # Search sees drafts too (staff membership), with stemming on PostgreSQL.
    assert titles(q="refunds") == {"Refund policy"}
    assert titles(q="invoice", status="draft") == set()
    # A filter that does not parse is flagged and left out.
    response = admin.get(LIST, {"status": "bogus"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_list_paginates_and_its_query_count_does_not_grow(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    admin.get(LIST)  # warm the session and caches

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(LIST).status_code == 200
        return len(ctx.captured_queries)

    category = category_create(tenant=alpha.tenant, name="Cat")
    article = _article(alpha, title="Article 0", category=category)
    deflection_record(tenant=alpha.tenant, article=article, helpful=True)
    few = count_queries()
    for n in range(1, 30):
        _article(alpha, title=f"Article {n}", category=category)
    assert count_queries() == few
    page1 = admin.get(LIST).content.decode()
    assert "Page 1 of 2 (30 in all)" in page1
    page2 = admin.get(LIST, {"page": 2}).content.decode()
    assert "Article 0<" in page2 and "Article 29<" not in page2


# --- categories ----------------------------------------------------------------------------


def test_category_create_rename_reorder_delete(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(CATEGORIES, {"name": "Getting started", "slug": "", "position": "2"})
    assert response.status_code == 302
    first = Category.objects.for_tenant(alpha.tenant).get()
    assert (first.slug, first.position) == ("getting-started", 2)
    admin.post(CATEGORIES, {"name": "Billing", "slug": "money", "position": "5"})
    html = admin.get(CATEGORIES).content.decode().split("<tbody>", 1)[1]
    assert html.index("Getting started") < html.index("Billing")

    edit = f"/manage/kb/categories/{first.pk}/"
    assert admin.get(edit).status_code == 200
    response = admin.post(edit, {"name": "First steps", "slug": "", "position": "9"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.name, first.slug, first.position) == ("First steps", "getting-started", 9)
    html = admin.get(CATEGORIES).content.decode().split("<tbody>", 1)[1]
    assert html.index("Billing") < html.index("First steps")

    assert admin.get(f"{edit}delete/").status_code == 200
    assert admin.post(f"{edit}delete/").status_code == 302
    assert not Category.objects.filter(pk=first.pk).exists()


def test_category_errors_keep_input(alpha: World) -> None:
    category_create(tenant=alpha.tenant, name="Billing")
    admin = alpha.client(alpha.admin)
    response = admin.post(CATEGORIES, {"name": "Money", "slug": "billing", "position": "-1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Money"' in html and "Ensure this value is greater than" in html
    response = admin.post(CATEGORIES, {"name": "Money", "slug": "billing", "position": "1"})
    assert response.status_code == 400
    assert "This slug is already in use." in response.content.decode()
    assert 'value="Money"' in response.content.decode()
    assert Category.objects.for_tenant(alpha.tenant).count() == 1


def test_category_in_use_cannot_be_deleted(alpha: World) -> None:
    category = category_create(tenant=alpha.tenant, name="Billing")
    article = _article(alpha, category=category)
    admin = alpha.client(alpha.admin)
    url = f"/manage/kb/categories/{category.pk}/delete/"
    page = admin.get(url).content.decode()
    assert "move them to another category first" in page
    assert 'class="danger"' not in page  # no Delete button to press in vain
    response = admin.post(url)
    assert response.status_code == 409
    assert "1 article is in this category" in response.content.decode()
    assert Category.objects.filter(pk=category.pk).exists()
    article.refresh_from_db()
    assert article.category_id == category.pk


def test_product_area_suggestions_come_from_the_catalog(alpha: World, beta: World) -> None:
    ProductAreaFactory(tenant=alpha.tenant, key="billing", name="Billing")
    ProductAreaFactory(tenant=beta.tenant, key="beta-only", name="Beta only")
    html = alpha.client(alpha.admin).get(NEW).content.decode()
    assert '<datalist id="kb-product-areas"><option value="billing">' in html
    assert "beta-only" not in html


# --- delete --------------------------------------------------------------------------------


def test_article_delete_confirms_then_deletes(alpha: World) -> None:
    article = _article(alpha, status="published")
    admin = alpha.client(alpha.admin)
    page = admin.get(f"{_edit(article)}delete/")
    assert page.status_code == 200
    assert "It is published" in page.content.decode()
    assert Article.objects.filter(pk=article.pk).exists()
    response = admin.post(f"{_edit(article)}delete/")
    assert response.status_code == 302 and response["Location"] == LIST
    assert not Article.objects.filter(pk=article.pk).exists()
    assert _api_titles(alpha, "password") == []


# --- who may enter -------------------------------------------------------------------------


def _urls(world: World) -> list[str]:
    article = _article(world)
    category = category_create(tenant=world.tenant, name="Some category")
    return [
        LIST,
        NEW,
        CATEGORIES,
        _edit(article),
        f"{_edit(article)}delete/",
        f"{_edit(article)}revisions/",
        f"{_edit(article)}revisions/1/",
        f"/manage/kb/categories/{category.pk}/",
        f"/manage/kb/categories/{category.pk}/delete/",
    ]


def test_admin_gets_every_page(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    for url in _urls(alpha):
        assert admin.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["agent", "lead", "owner1", "contact1"])
def test_agents_and_customers_get_404(alpha: World, who: str) -> None:
    client = alpha.client(getattr(alpha, who))
    for url in _urls(alpha):
        assert client.get(url).status_code == 404, url
        response = client.post(url, {"title": "x", "name": "x", "position": "0"})
        assert response.status_code in (404, 405), url
    assert Article.objects.for_tenant(alpha.tenant).count() == 1
    assert Category.objects.for_tenant(alpha.tenant).count() == 1


def test_anonymous_is_sent_to_login(alpha: World) -> None:
    client = alpha.client()
    for url in _urls(alpha):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
        assert client.post(url, {"title": "x"}).status_code == 302
    assert Article.objects.for_tenant(alpha.tenant).count() == 1


def test_other_tenants_admin_gets_404_and_changes_nothing(alpha: World, beta: World) -> None:
    urls = _urls(alpha)
    intruder = beta.client(beta.admin)
    for url in urls[3:]:
        assert intruder.get(url).status_code == 404, url
        response = intruder.post(url, {"title": "Hijacked", "action": "publish"})
        assert response.status_code in (404, 405), url
    article = Article.objects.for_tenant(alpha.tenant).get()
    assert (article.title, article.status) == ("Reset your password", "draft")
    assert Category.objects.for_tenant(alpha.tenant).count() == 1
    html = intruder.get(LIST).content.decode()
    assert "Reset your password" not in html
    assert "Some category" not in intruder.get(CATEGORIES).content.decode()


def test_nav_links_the_editor(alpha: World) -> None:
    html = alpha.client(alpha.admin).get(LIST).content.decode()
    assert '<a href="/manage/kb/" aria-current="page">' in html


# --- the category services -----------------------------------------------------------------


def test_category_update_service(alpha: World, beta: World) -> None:
    category = category_create(tenant=alpha.tenant, name="Billing")
    category_create(tenant=alpha.tenant, name="Taken")
    same = category_update(tenant=alpha.tenant, category=category, slug="billing", position=3)
    assert (same.slug, same.position) == ("billing", 3)
    with pytest.raises(ValidationError) as err:
        category_update(tenant=alpha.tenant, category=category, slug="taken")
    assert "slug" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        category_update(tenant=alpha.tenant, category=category, name="  ")
    assert "name" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        category_update(tenant=alpha.tenant, category=category, position=-1)
    assert "position" in err.value.message_dict
    with pytest.raises(ValidationError):
        category_update(tenant=beta.tenant, category=category, name="Stolen")
    category.refresh_from_db()
    assert (category.name, category.slug, category.position) == ("Billing", "billing", 3)


def test_category_delete_service(alpha: World, beta: World) -> None:
    empty = category_create(tenant=alpha.tenant, name="Empty")
    used = category_create(tenant=alpha.tenant, name="Used")
    _article(alpha, title="A", category=used)
    _article(alpha, title="B", category=used)
    with pytest.raises(ValidationError, match="2 articles are in this category"):
        category_delete(tenant=alpha.tenant, category=used)
    with pytest.raises(ValidationError):
        category_delete(tenant=beta.tenant, category=empty)
    category_delete(tenant=alpha.tenant, category=empty)
    assert list(Category.objects.for_tenant(alpha.tenant)) == [used]
