"""Search: ranking, stemming, websearch syntax, visibility, and snippets that highlight without
letting article content inject HTML."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from kb.models import Article
from kb.search import headline_html, query_terms, search_fallback, snippet, window_snippet
from kb.selectors import article_search, articles_visible_to
from tests.conftest import World
from tests.kb.conftest import make_article


def titles(qs: object) -> list[str]:
    return [a.title for a in qs]


def only_marks(html: str) -> str:
    """``html`` with the allowed <mark> tags removed: what is left must hold no markup."""
    return html.replace("<mark>", "").replace("</mark>", "")


@pytest.fixture
def corpus(alpha: World) -> dict[str, Article]:
    return {
        "title": make_article(
            alpha, "Reset your password", "Open the account page and follow the steps."
        ),
        "body": make_article(
            alpha,
            "Account settings",
            "Your profile, notifications and language. To change a password see the other article.",
        ),
        "other": make_article(alpha, "Invoices", "Download invoices as PDF from billing."),
    }


def test_title_match_ranks_above_body_match(alpha: World, corpus: dict[str, Article]) -> None:
    found = list(article_search(tenant=alpha.tenant, query="password", membership=None))
    assert titles(found) == ["Reset your password", "Account settings"]
    assert found[0].rank > found[1].rank


def test_stemming_finds_other_forms_of_a_word(alpha: World, corpus: dict[str, Article]) -> None:
    # 'english': resetting → reset, passwords → password, invoiced → invoic.
    found = article_search(tenant=alpha.tenant, query="resetting passwords", membership=None)
    assert titles(found)[0] == "Reset your password"
    assert titles(article_search(tenant=alpha.tenant, query="invoice", membership=None)) == [
        "Invoices"
    ]


def test_websearch_syntax(alpha: World, corpus: dict[str, Article]) -> None:
    def q(text: str) -> list[str]:
        return titles(article_search(tenant=alpha.tenant, query=text, membership=None))

    assert q('"reset your password"') == ["Reset your password"]
    assert q("password -reset") == ["Account settings"]
    assert set(q("invoices or profile")) == {"Invoices", "Account settings"}
    assert q("") == [] and q("   ") == []
    assert q("the") == []  # only a stop word: matches nothing, and is no error


def test_snippet_marks_hits_and_escapes_article_content(alpha: World) -> None:
    article = make_article(
        alpha,
        "Printer setup",
        "If the printer shows `<script>alert(1)</script>` or "
        '<img src=x onerror="alert(2)"> then the printer firmware & driver need an update '
        "<b>now</b>.",
    )
    assert "<script" not in article.body_html and "onerror" not in article.body_html
    (found,) = article_search(tenant=alpha.tenant, query="printer firmware", membership=None)
    html = str(snippet(found, "printer firmware"))
    assert "<mark>printer</mark>" in html and "<mark>firmware</mark>" in html
    assert "<" not in only_marks(html)
    assert "&amp;" in html  # the text's own "&" is escaped


def test_headline_html_keeps_only_balanced_marks() -> None:
    raw = "\x02hit\x03 <em>x</em> \x03stray \x02open"
    assert (
        str(headline_html(raw)) == "<mark>hit</mark> &lt;em&gt;x&lt;/em&gt; stray <mark>open</mark>"
    )


def test_control_characters_in_content_cannot_forge_marks(alpha: World) -> None:
    article = make_article(alpha, "Sentinel \x02 test", "forged \x02<i>evil</i>\x03 password")
    assert "\x02" not in article.title + article.body_markdown + article.body_text
    (found,) = article_search(tenant=alpha.tenant, query="password", membership=None)
    html = str(snippet(found, "password"))
    assert html.count("<mark>") == 1 and "<" not in only_marks(html)


def test_search_respects_visibility(alpha: World) -> None:
    make_article(alpha, "Public printer guide", "printer")
    make_article(alpha, "Draft printer guide", "printer", status=Article.Status.DRAFT)
    make_article(alpha, "Internal printer notes", "printer", visibility="internal")

    def q(membership: object) -> set[str]:
        return set(
            titles(article_search(tenant=alpha.tenant, query="printer", membership=membership))
        )

    assert q(None) == q(alpha.contact1) == {"Public printer guide"}
    assert q(alpha.agent) == {
        "Public printer guide",
        "Draft printer guide",
        "Internal printer notes",
    }


def test_search_never_crosses_tenants(alpha: World, beta: World) -> None:
    make_article(alpha, "Alpha printer", "printer")
    make_article(beta, "Beta printer", "printer")
    assert titles(article_search(tenant=beta.tenant, query="printer", membership=beta.admin)) == [
        "Beta printer"
    ]


def test_an_edit_is_searchable_at_once(alpha: World) -> None:
    from kb.services import article_update

    article = make_article(alpha, "Scanner", "Old wording about toner.")
    article_update(
        tenant=alpha.tenant, article=article, author=None, body_markdown="New: calibration."
    )
    assert titles(article_search(tenant=alpha.tenant, query="calibration", membership=None)) == [
        "Scanner"
    ]
    assert titles(article_search(tenant=alpha.tenant, query="toner", membership=None)) == []


# --- the fallback for databases without full-text search (SQLite, the embedded default) ----


def test_fallback_ranks_title_hits_first(alpha: World, corpus: dict[str, Article]) -> None:
    qs = articles_visible_to(tenant=alpha.tenant, membership=None)
    found = list(search_fallback(qs, "password"))
    assert titles(found) == ["Reset your password", "Account settings"]
    # Every word must occur somewhere.
    assert titles(search_fallback(qs, "password invoices")) == []
    assert list(search_fallback(qs, " -  ")) == []


def test_fallback_snippet_is_a_marked_escaped_window() -> None:
    text = ("lorem ipsum " * 40) + "the <b>Password</b> & more " + ("dolor sit " * 40)
    html = str(window_snippet(text, "password"))
    assert "<mark>Password</mark>" in html
    assert "&lt;b&gt;" in html and "&amp;" in html
    assert "<" not in only_marks(html)
    assert html.startswith("… ") and html.endswith(" …") and len(html) < 400


def test_typed_text_is_never_tsquery_syntax(alpha: World) -> None:
    make_article(alpha, "Printer offline", "printer")
    weird = ["(a) & b | !c:* 'x' <->", "___", "\\", "::*", "a_b", "ﬁ ١٢٣", '"', "-", "or"]
    for text in weird:
        list(article_search(tenant=alpha.tenant, query=text, membership=None))
        list(article_search(tenant=alpha.tenant, query=text, membership=None, any_word=True))
    found = article_search(
        tenant=alpha.tenant, query="why is my print", membership=None, any_word=True
    )
    assert titles(found) == ["Printer offline"]


def test_query_terms_drop_operators() -> None:
    assert query_terms('"reset password" or login -spam') == ["reset", "password", "login"]


def test_search_page_highlights_and_escapes(alpha: World) -> None:
    make_article(alpha, "Printer <b>setup</b>", "The printer needs `<i>drivers</i>`.")
    body = Client(HTTP_HOST=alpha.host).get("/kb/", {"q": "printer"}).content.decode()
    assert "<mark>printer</mark>" in body.lower()
    assert "<b>setup</b>" not in body and "Printer &lt;b&gt;setup&lt;/b&gt;" in body
    assert "<i>drivers</i>" not in body
    assert re.search(r'href="/kb/printer-setup/\?q=printer"', body)
