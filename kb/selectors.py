"""Reads of the knowledge base. Every selector scopes to the tenant, then to what the reader may
see, before it fetches."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from helpdesk.models import Membership, Tenant

from . import search
from .models import Article, ArticleRevision, Category, Deflection

SUGGESTIONS = 5


def _is_staff(tenant: Tenant, membership: Membership | None) -> bool:
    return (
        membership is not None
        and membership.tenant_id == tenant.pk
        and membership.is_active
        and membership.is_staff_member
    )


def articles_visible_to(*, tenant: Tenant, membership: Membership | None) -> QuerySet[Article]:
    """The tenant's articles a reader may see: staff see every article (drafts and internal
    ones too); customers and anonymous visitors (``membership=None``) see published public
    articles only. ``membership`` must be the reader's membership in ``tenant`` or None."""
    qs = Article.objects.for_tenant(tenant).select_related("category")
    if _is_staff(tenant, membership):
        return qs
    return qs.filter(status=Article.Status.PUBLISHED, visibility=Article.Visibility.PUBLIC)


def article_search(
    *, tenant: Tenant, query: str, membership: Membership | None, any_word: bool = False
) -> QuerySet[Article]:
    """Articles visible to the reader that match ``query``, best first; each row carries
    ``rank`` and the raw material of its snippet (render it with :func:`kb.search.snippet`).

    By default ``query`` is what people type into a search box (every word must match;
    "phrases", ``or`` and ``-word`` work). ``any_word`` matches articles with any of the words
    instead, the last one as a prefix: for text still being typed. A blank query matches
    nothing."""
    query = query.strip()[:200]
    qs = articles_visible_to(tenant=tenant, membership=membership)
    if not query:
        return qs.none()
    if search.uses_postgres_search():
        return search.search_postgres(qs, query, any_word=any_word)
    return search.search_fallback(qs, query, any_word=any_word)


def article_suggestions(*, tenant: Tenant, query: str) -> list[Article]:
    """The few best public, published articles for what a customer is typing (the new-ticket
    form's subject, a sentence rather than search terms: any word counts, the last as a
    prefix). The same for every reader, so never anything internal."""
    found = article_search(tenant=tenant, query=query, membership=None, any_word=True)
    return list(found[:SUGGESTIONS])


LINK_CANDIDATES = 8


def article_link_candidates(*, tenant: Tenant, query: str) -> list[Article]:
    """Articles an agent may link in a reply: published and public (the customer must be able to
    open the link), matching what the agent typed (any word, the last as a prefix), best first."""
    found = article_search(tenant=tenant, query=query, membership=None, any_word=True)
    return list(found[:LINK_CANDIDATES])


def article_link_get(*, tenant: Tenant, article_id: str) -> Article | None:
    """The published public article ``article_id`` of ``tenant`` (None for anything else: a
    draft, an internal article, another tenant's or a malformed id)."""
    if not str(article_id).isdigit():
        return None
    return articles_visible_to(tenant=tenant, membership=None).filter(pk=int(article_id)).first()


def article_get(*, tenant: Tenant, membership: Membership | None, article_id: int) -> Article:
    """The article if the reader may see it; 404 for missing, another tenant's and hidden
    alike."""
    found = articles_visible_to(tenant=tenant, membership=membership).filter(pk=article_id).first()
    if found is None:
        raise Http404("No such article")
    return found


def article_get_by_slug(*, tenant: Tenant, membership: Membership | None, slug: str) -> Article:
    """As :func:`article_get`, by the article's slug (the portal's URLs)."""
    found = articles_visible_to(tenant=tenant, membership=membership).filter(slug=slug).first()
    if found is None:
        raise Http404("No such article")
    return found


def categories_visible_to(*, tenant: Tenant, membership: Membership | None) -> QuerySet[Category]:
    """The tenant's categories, each with ``article_count``: the articles in it the reader may
    see. Staff see every category; other readers only those with something to read."""
    qs = Category.objects.for_tenant(tenant).order_by("position", "name", "id")
    if _is_staff(tenant, membership):
        return qs.annotate(article_count=Count("articles"))
    visible = Q(
        articles__status=Article.Status.PUBLISHED,
        articles__visibility=Article.Visibility.PUBLIC,
    )
    return qs.annotate(article_count=Count("articles", filter=visible)).filter(article_count__gt=0)


def category_get(*, tenant: Tenant, category_id: int) -> Category | None:
    """The tenant's category with this id, or None (another tenant's is unknown here)."""
    return Category.objects.for_tenant(tenant).filter(pk=category_id).first()


def article_revisions(*, tenant: Tenant, article: Article) -> QuerySet[ArticleRevision]:
    """An article's revisions, newest first. ``article`` must already be one the reader may see
    (fetched through :func:`article_get`)."""
    return (
        ArticleRevision.objects.for_tenant(tenant)
        .filter(article=article)
        .select_related("author")
        .order_by("-number")
    )


def deflection_counts(*, tenant: Tenant, article: Article) -> dict[str, int]:
    """How many readers said the article answered their question, and how many said not."""
    counts = (
        Deflection.objects.for_tenant(tenant)
        .filter(article=article)
        .aggregate(
            yes=Count("id", filter=Q(helpful=True)),
            no=Count("id", filter=Q(helpful=False)),
        )
    )
    return {"helpful": counts["yes"], "not_helpful": counts["no"]}


def articles_with_deflection_counts(*, tenant: Tenant) -> QuerySet[Article]:
    """Every article of the tenant with ``helpful_count`` and ``not_helpful_count`` (staff
    reports: which answers deflect tickets, which need rewriting)."""
    return Article.objects.for_tenant(tenant).annotate(
        helpful_count=Count("deflections", filter=Q(deflections__helpful=True)),
        not_helpful_count=Count("deflections", filter=Q(deflections__helpful=False)),
    )
