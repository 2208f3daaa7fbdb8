"""Linking knowledge-base articles in an agent's reply: the picker's search results and the
Markdown link an article becomes. Only published public articles are offered, so every link a
customer receives opens for them."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
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


def public_base_url(tenant: Tenant, request: HttpRequest | None = None) -> str:
    """The tenant's public origin. When the agent reaches the tenant's host on an explicit port
    (``make run`` on :8000, a test server) and no public port is configured, links keep that
    origin: ``http://acme.localhost/…`` would point at port 80, where nothing answers."""
    base = tenant_base_url(tenant)
    configured_port: object = getattr(settings, "HELPDESK_PUBLIC_PORT", None)
    if request is None or configured_port:
        return base
    host, _, port = request.get_host().rpartition(":")
    if port.isdigit() and host == f"{tenant.slug}.{settings.HELPDESK_BASE_DOMAIN}":
        return f"{request.scheme}://{host}:{port}"
    return base


def article_url(tenant: Tenant, article: Article, request: HttpRequest | None = None) -> str:
    """The article's absolute address (replies are also read in email clients)."""
    path = reverse("kb-article", kwargs={"article_slug": article.slug})
    return public_base_url(tenant, request) + path


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
