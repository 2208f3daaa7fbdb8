"""Linking knowledge-base articles in an agent's reply: the picker's search results and the
Markdown link an article becomes. Only published public articles are offered, so every link a
customer receives opens for them."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString

from channels.notifications.emails import tenant_base_url
from helpdesk.models import Tenant
from kb.models import Article
from kb.search import snippet
from kb.selectors import article_link_candidates, article_link_get


@dataclass(frozen=True)
class ArticleLink:
    pk: int
    title: str
    url: str
    snippet: SafeString

    @property
    def markdown(self) -> str:
        title = self.title.replace("[", "(").replace("]", ")")
        return f"[{title}]({self.url})"


def article_url(tenant: Tenant, article: Article, request: HttpRequest | None = None) -> str:
    """The article's absolute address (replies are also read in email clients)."""
    path = reverse("kb-article", kwargs={"article_slug": article.slug})
    return tenant_base_url(tenant, request) + path


def link_candidates(
    tenant: Tenant, query: str, request: HttpRequest | None = None
) -> list[ArticleLink]:
    query = query.strip()[:200]
    return [
        ArticleLink(
            pk=article.pk,
            title=article.title,
            url=article_url(tenant, article, request),
            snippet=snippet(article, query),
        )
        for article in article_link_candidates(tenant=tenant, query=query)
    ]


def link_markdown(tenant: Tenant, article_id: str, request: HttpRequest | None = None) -> str:
    """The Markdown link to insert for ``article_id`` (the no-JavaScript "insert"), or an empty
    string for anything that is not one of the tenant's published public articles."""
    article = article_link_get(tenant=tenant, article_id=article_id)
    if article is None:
        return ""
    return ArticleLink(
        pk=article.pk,
        title=article.title,
        url=article_url(tenant, article, request),
        snippet=SafeString(""),
    ).markdown
