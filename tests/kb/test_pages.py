"""The public knowledge-base pages: browse by category, search, read, and the suggestions
fragment for the new-ticket form."""

from __future__ import annotations

import re

from django.test import Client

from kb.models import Article
from kb.services import category_create
from tests.conftest import World
from tests.kb.conftest import make_article


def test_index_lists_categories_in_order_and_has_a_labelled_search(alpha: World) -> None:
    later = category_create(tenant=alpha.tenant, name="Billing", position=2)
    first = category_create(tenant=alpha.tenant, name="Getting started", position=1)
    make_article(alpha, "Invoices", category=later)
    make_article(alpha, "First login", category=first)
    make_article(alpha, "Loose end")
    html = Client(HTTP_HOST=alpha.host).get("/kb/").content.decode()
    assert html.index("Getting started") < html.index("Billing") < html.index("Other articles")
    assert '<label for="id_q">Search the knowledge base</label>' in html
    assert 'role="search"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script


def test_search_page_shows_results_and_handles_no_results(alpha: World) -> None:
    make_article(alpha, "Reset your password", "Use the reset link.")
    client = Client(HTTP_HOST=alpha.host)
    html = client.get("/kb/", {"q": "reset"}).content.decode()
    assert "1 article for “reset”" in html and "<mark>" in html
    assert 'href="/kb/reset-your-password/?q=reset"' in html
    empty = client.get("/kb/", {"q": "zebra"}).content.decode()
    assert "Nothing matched" in empty
    too_long = client.get("/kb/", {"q": "x" * 300})
    assert too_long.status_code == 200 and 'class="errorlist"' in too_long.content.decode()


def test_article_page(alpha: World) -> None:
    category = category_create(tenant=alpha.tenant, name="Guides")
    make_article(alpha, "Box manual", "## Wiring\n\nConnect *red* to red.", category=category)
    client = Client(HTTP_HOST=alpha.host)
    html = client.get("/kb/box-manual/", {"q": "wiring"}).content.decode()
    assert "<h1>Box manual" in html and "<em>red</em>" in html and "Guides" in html
    assert 'href="/kb/?q=wiring"' in html  # back to the results
    assert client.get("/kb/no-such-article/").status_code == 404
    assert client.put("/kb/box-manual/").status_code == 405


def test_suggest_fragment(alpha: World, beta: World) -> None:
    for n in range(7):
        make_article(alpha, f"Printer tip {n}", "printer")
    make_article(alpha, "Printer runbook", "printer", visibility="internal")
    make_article(alpha, "Printer draft", "printer", status=Article.Status.DRAFT)
    make_article(beta, "Beta printer", "printer")
    # Staff type too (on behalf of a caller): the suggestions stay the public ones.
    response = alpha.client(alpha.agent).get("/kb/suggest/", {"q": "my laser printe"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "<html" not in html and "<body" not in html  # a fragment
    assert html.count("<li>") == 5
    assert "runbook" not in html and "draft" not in html and "Beta" not in html
    assert "<mark>" in html
    blank = Client(HTTP_HOST=alpha.host).get("/kb/suggest/", {"q": " "})
    assert blank.status_code == 200 and blank.content.strip() == b""


def test_kb_pages_are_not_on_the_bare_domain(alpha: World) -> None:
    assert Client(HTTP_HOST="localhost").get("/kb/").status_code == 404
