"""Full-text search over articles, and the highlighted snippets shown with the results.

PostgreSQL: a stored ``tsvector`` (title weight A, body text weight B) under a GIN index,
``websearch_to_tsquery`` (what people type: words, "quoted phrases", ``or``, ``-word``),
``ts_rank`` and ``ts_headline``. The text search configuration is ``english``: the tenants'
policies and manuals are written in English, and stemming is what makes "resetting passwords"
find "Reset your password". (A tenant writing in another language would want its own
configuration; that becomes a tenant setting when the first such tenant arrives.)

Elsewhere (the embedded SQLite default): case-insensitive containment of every word, title hits
ranked above body hits, and a snippet cut around the first hit in Python.

Snippets are HTML in which *only* ``<mark>`` is markup: ts_headline is asked to wrap hits in
control characters (which the services strip from stored text), everything else is escaped, and
the control characters then become ``<mark>``/``</mark>``.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.expressions import CombinedExpression
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article

SEARCH_CONFIG = "english"
HIT_START = "\x02"
HIT_STOP = "\x03"
SNIPPET_CHARS = 220
MAX_TERMS = 16
_WORD = re.compile(r"\w+", re.UNICODE)
_HIT_SPLIT = re.compile(f"([{HIT_START}{HIT_STOP}])")


def uses_postgres_search() -> bool:
    return connection.vendor == "postgresql"


def search_vector() -> CombinedExpression:
    """The expression stored in ``Article.search_vector`` (see kb.services)."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "body_text", weight="B", config=SEARCH_CONFIG
    )


def _any_word_tsquery(query: str) -> SearchQuery | None:
    # Only \w words reach to_tsquery, so nothing typed can be read as tsquery syntax.
    terms = query_terms(query)[:MAX_TERMS]
    if not terms:
        return None
    raw = " | ".join([*terms[:-1], f"{terms[-1]}:*"])
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


def search_postgres(qs: QuerySet[Article], query: str, any_word: bool = False) -> QuerySet[Article]:
    """``qs`` narrowed to matches of ``query``, best first, with ``rank`` and ``headline``.
    ``query`` is websearch syntax, or with ``any_word`` plain words of which any may match."""
    if any_word:
        found = _any_word_tsquery(query)
        if found is None:
            return qs.none()
        tsquery = found
    else:
        tsquery = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    return (
        qs.filter(search_vector=tsquery)
        .annotate(
            rank=SearchRank(F("search_vector"), tsquery),
            headline=SearchHeadline(
                "body_text",
                tsquery,
                config=SEARCH_CONFIG,
                start_sel=HIT_START,
                stop_sel=HIT_STOP,
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-id")
    )


def query_terms(query: str) -> list[str]:
    """The words of a query, minus websearch operators (``or``) and negated words (``-x``)."""
    negated = {m.lower() for m in re.findall(r"(?:^|\s)-(\w+)", query)}
    return list(
        dict.fromkeys(w.lower() for w in _WORD.findall(query) if w.lower() not in negated | {"or"})
    )


def search_fallback(qs: QuerySet[Article], query: str, any_word: bool = False) -> QuerySet[Article]:
    """Containment search for databases without full-text search. Every word (with
    ``any_word``: some word) must occur in the title or the body; a word in the title scores
    2, in the body 1."""
    terms = query_terms(query)[:MAX_TERMS]
    if not terms:
        return qs.none()
    score: Any = Value(0)
    matches = Q()
    for term in terms:
        hit = Q(title__icontains=term) | Q(body_text__icontains=term)
        if any_word:
            matches |= hit
        else:
            qs = qs.filter(hit)
        score = (
            score
            + Case(When(title__icontains=term, then=Value(2)), default=Value(0))
            + Case(When(body_text__icontains=term, then=Value(1)), default=Value(0))
        )
    if any_word:
        qs = qs.filter(matches)
    return qs.annotate(rank=score, headline=Value("")).order_by("-rank", "-id")


def headline_html(raw: str) -> SafeString:
    """ts_headline output (hits between control characters) as HTML: only ``<mark>`` is markup,
    balanced whatever the input."""
    out: list[str] = []
    open_mark = False
    for part in _HIT_SPLIT.split(raw):
        if part == HIT_START:
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif part == HIT_STOP:
            if open_mark:
                out.append("</mark>")
                open_mark = False
        else:
            out.append(escape(part))
    if open_mark:
        out.append("</mark>")
    return mark_safe(" ".join("".join(out).split()))  # noqa: S308 - every part escaped above


def window_snippet(text: str, query: str, size: int = SNIPPET_CHARS) -> SafeString:
    """A window of ``text`` around the first hit of any query word, hits in ``<mark>``, the rest
    escaped. Starts at the beginning of ``text`` when nothing matches."""
    terms = query_terms(query)
    pattern = (
        re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.I)
        if terms
        else None
    )
    first = pattern.search(text) if pattern else None
    start = 0
    if first is not None:
        start = max(0, first.start() - size // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first.start() else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > (first.end() if first else start) else end
    window = " ".join(text[start:end].split())
    out: list[str] = ["… " if start else ""]
    last = 0
    for hit in pattern.finditer(window) if pattern else ():
        out.append(escape(window[last : hit.start()]))
        out.append(f"<mark>{escape(hit.group())}</mark>")
        last = hit.end()
    out.append(escape(window[last:]))
    out.append(" …" if end < len(text) else "")
    return mark_safe("".join(out))  # noqa: S308 - every part escaped above


def snippet(article: Article, query: str) -> SafeString:
    """The highlighted snippet of a search result (an article from :func:`search_postgres` or
    :func:`search_fallback`)."""
    raw = getattr(article, "headline", None)
    if raw:
        return headline_html(raw)
    return window_snippet(article.body_text or article.title, query)
