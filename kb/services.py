"""Writes of the knowledge base. The API and the portal call these and nothing else.

Every edit of an article appends an :class:`ArticleRevision`; the body is rendered and sanitised
here (never in ``save()``), and on PostgreSQL the search vector is refreshed in the same
transaction.
"""

from __future__ import annotations

from typing import Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import strip_tags
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from helpdesk.markup import html_to_text, render_markdown, strip_control
from helpdesk.models import Tenant, User

from . import search
from .models import Article, ArticleRevision, Category, Deflection

# Paths under /kb/ that an article slug must not shadow.
RESERVED_SLUGS: Final = frozenset({"suggest", "search", "category", "feedback"})
_TITLE_MAX = Article._meta.get_field("title").max_length or 200
_PRODUCT_AREA_MAX = Article._meta.get_field("product_area").max_length or 64
_QUERY_MAX = Deflection._meta.get_field("query").max_length or 500


class _Unset:
    """An argument that was not given (``None`` means "no category")."""


UNSET: Final = _Unset()


# --- validation helpers ------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = " ".join(strip_control(title).split())
    if not title:
        raise ValidationError({"title": _("A title is required.")})
    if len(title) > _TITLE_MAX:
        raise ValidationError({"title": _("Use at most %d characters.") % _TITLE_MAX})
    return title


def _check_choice(
    field: str, value: str, choices: type[Article.Status | Article.Visibility]
) -> None:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ValidationError({field: _("Choose one of: %s.") % allowed})


def _clean_product_area(value: str) -> str:
    value = value.strip().lower()
    if len(value) > _PRODUCT_AREA_MAX:
        raise ValidationError({"product_area": _("Use at most %d characters.") % _PRODUCT_AREA_MAX})
    return value


def _check_category(tenant: Tenant, category: Category | None) -> None:
    if category is not None and category.tenant_id != tenant.pk:
        raise ValidationError({"category": _("Unknown category.")})


def _unique_slug(model: type[Article | Category], tenant: Tenant, wanted: str, base: str) -> str:
    """``wanted`` if given (it must be free), else a free slug made from ``base``."""
    taken = model.objects.for_tenant(tenant)
    max_length = model._meta.get_field("slug").max_length or 50
    if wanted:
        slug = slugify(wanted)[:max_length]
        if not slug or slug != wanted:
            raise ValidationError(
                {"slug": _("Use lowercase letters, digits, hyphens and underscores.")}
            )
        if slug in RESERVED_SLUGS and model is Article:
            raise ValidationError({"slug": _("'%s' is reserved.") % slug})
        if taken.filter(slug=slug).exists():
            raise ValidationError({"slug": _("This slug is already in use.")})
        return slug
    stem = slugify(strip_tags(base))[: max_length - 6] or str(model._meta.model_name)
    slug, n = stem, 1
    while slug in RESERVED_SLUGS or taken.filter(slug=slug).exists():
        n += 1
        slug = f"{stem}-{n}"
    return slug


def _render(article: Article) -> None:
    article.body_html = render_markdown(article.body_markdown)
    article.body_text = html_to_text(article.body_html)


def _refresh_search_vector(article: Article) -> None:
    if search.uses_postgres_search():
        Article.objects.filter(pk=article.pk).update(search_vector=search.search_vector())


def _append_revision(article: Article, author: User | None) -> ArticleRevision:
    # The caller holds the article's row lock, so two edits never take the same number.
    last = ArticleRevision.objects.filter(article=article).aggregate(n=Max("number"))["n"]
    return ArticleRevision.objects.create(
        tenant_id=article.tenant_id,
        article=article,
        number=(last or 0) + 1,
        title=article.title,
        body_markdown=article.body_markdown,
        author=author,
    )


def _save_slug_safely(instance: Article | Category, **kwargs: object) -> None:
    # The slug was checked free, but a concurrent writer may have taken it since.
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        if "slug_unique" in str(exc):
            raise ValidationError({"slug": _("This slug is already in use.")}) from exc
        raise


# --- categories ----------------------------------------------------------------------------


def _clean_category_name(name: str) -> str:
    name = " ".join(strip_control(name).split())
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if len(name) > 120:
        raise ValidationError({"name": _("Use at most %d characters.") % 120})
    return name


def _check_position(position: int) -> None:
    if position < 0:
        raise ValidationError({"position": _("Use a position of 0 or more.")})


def category_create(*, tenant: Tenant, name: str, slug: str = "", position: int = 0) -> Category:
    """Create a category. The slug is made from the name unless given; a given slug must be
    free in the tenant."""
    name = _clean_category_name(name)
    _check_position(position)
    category = Category(
        tenant=tenant,
        name=name,
        slug=_unique_slug(Category, tenant, slug, name),
        position=position,
    )
    _save_slug_safely(category)
    return category


def category_update(
    *,
    tenant: Tenant,
    category: Category,
    name: str | None = None,
    slug: str | None = None,
    position: int | None = None,
) -> Category:
    """Rename, re-slug or move a category; ``None`` arguments stay as they are. A new slug must
    be free in the tenant. ``category`` must be the tenant's (fetched through a selector)."""
    if category.tenant_id != tenant.pk:
        raise ValidationError({"category": _("Unknown category.")})
    changed: list[str] = []
    if name is not None:
        name = _clean_category_name(name)
        if name != category.name:
            category.name = name
            changed.append("name")
    if slug is not None and slug != category.slug:
        category.slug = _unique_slug(Category, tenant, slug, category.name)
        changed.append("slug")
    if position is not None:
        _check_position(position)
        if position != category.position:
            category.position = position
            changed.append("position")
    if changed:
        _save_slug_safely(category, update_fields=changed)
    return category


def category_delete(*, tenant: Tenant, category: Category) -> None:
    """Delete an empty category. One that articles still use is refused: the database would
    quietly uncategorise them (``SET_NULL``), reshuffling the public knowledge base, so the
    admin moves them first."""
    if category.tenant_id != tenant.pk:
        raise ValidationError({"category": _("Unknown category.")})
    # Lock the row so that no article joins the category between the count and the delete.
    with transaction.atomic():
        Category.objects.select_for_update().filter(pk=category.pk).values_list("pk").first()
        in_use = Article.objects.for_tenant(tenant).filter(category=category).count()
        if in_use:
            raise ValidationError(
                ngettext(
                    "%(count)d article is in this category; move it to another category first.",
                    "%(count)d articles are in this category; move them to another category first.",
                    in_use,
                )
                % {"count": in_use}
            )
        category.delete()


# --- articles ------------------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    tenant: Tenant,
    author: User | None,
    title: str,
    body_markdown: str = "",
    category: Category | None = None,
    slug: str = "",
    visibility: str = Article.Visibility.PUBLIC,
    status: str = Article.Status.DRAFT,
    product_area: str = "",
) -> Article:
    """Create an article (revision 1) and, if ``status`` is published, publish it.

    ``category`` must be the tenant's; ``author`` is the staff user writing it (the caller has
    checked the role). The slug is made from the title unless given.
    """
    _check_choice("visibility", visibility, Article.Visibility)
    _check_choice("status", status, Article.Status)
    _check_category(tenant, category)
    now = timezone.now()
    article = Article(
        tenant=tenant,
        author=author,
        title=_clean_title(title),
        body_markdown=strip_control(body_markdown),
        category=category,
        visibility=visibility,
        product_area=_clean_product_area(product_area),
        status=Article.Status.DRAFT,
        created_at=now,
        updated_at=now,
    )
    article.slug = _unique_slug(Article, tenant, slug, article.title)
    _render(article)
    _save_slug_safely(article)
    _append_revision(article, author)
    _refresh_search_vector(article)
    if status == Article.Status.PUBLISHED:
        article_publish(tenant=tenant, article=article)
    return article


@transaction.atomic
def article_update(
    *,
    tenant: Tenant,
    article: Article,
    author: User | None,
    title: str | None = None,
    body_markdown: str | None = None,
    category: Category | _Unset | None = UNSET,
    slug: str | None = None,
    visibility: str | None = None,
    product_area: str | None = None,
) -> Article:
    """Change an article's content or classification; ``None``/unset arguments stay as they
    are. An edit that changes anything appends a revision (by ``author``); one that changes
    nothing writes nothing. Status changes go through :func:`article_publish` and
    :func:`article_unpublish`. ``article`` must be the tenant's (fetched through a selector).
    """
    if article.tenant_id != tenant.pk:
        raise ValidationError({"article": _("Unknown article.")})
    # The row lock serialises concurrent edits of one article (revision numbers, slug).
    Article.objects.select_for_update().filter(pk=article.pk).values_list("pk").get()
    changed: set[str] = set()

    def assign(field: str, value: object) -> None:
        if getattr(article, field) != value:
            setattr(article, field, value)
            changed.add(field)

    if title is not None:
        assign("title", _clean_title(title))
    if body_markdown is not None:
        assign("body_markdown", strip_control(body_markdown))
    if not isinstance(category, _Unset):
        _check_category(tenant, category)
        assign("category", category)
    if visibility is not None:
        _check_choice("visibility", visibility, Article.Visibility)
        assign("visibility", visibility)
    if product_area is not None:
        assign("product_area", _clean_product_area(product_area))
    if slug is not None and slug != article.slug:
        assign("slug", _unique_slug(Article, tenant, slug, article.title))
    if not changed:
        return article
    if "body_markdown" in changed:
        _render(article)
        changed |= {"body_html", "body_text"}
    article.updated_at = timezone.now()
    _save_slug_safely(article, update_fields=[*sorted(changed), "updated_at"])
    _append_revision(article, author)
    if changed & {"title", "body_markdown"}:
        _refresh_search_vector(article)
    return article


# Status changes: the allowed transitions, one table.
_TRANSITIONS: Final = {
    Article.Status.DRAFT: {Article.Status.PUBLISHED},
    Article.Status.PUBLISHED: {Article.Status.DRAFT},
}


def _article_transition(*, tenant: Tenant, article: Article, to: str) -> Article:
    if article.tenant_id != tenant.pk:
        raise ValidationError({"article": _("Unknown article.")})
    if article.status == to:
        return article  # idempotent: publishing a published article changes nothing
    if to not in _TRANSITIONS[Article.Status(article.status)]:
        raise ValidationError({"status": _("This status change is not allowed.")})
    if to == Article.Status.PUBLISHED and not article.body_markdown.strip():
        raise ValidationError({"body_markdown": _("Write the article before publishing it.")})
    now = timezone.now()
    article.status = to
    article.published_at = now if to == Article.Status.PUBLISHED else None
    article.updated_at = now
    article.save(update_fields=["status", "published_at", "updated_at"])
    return article


def article_publish(*, tenant: Tenant, article: Article) -> Article:
    """Publish a draft: from now on the audience its visibility allows can find and read it.
    Needs a body. Publishing a published article does nothing."""
    return _article_transition(tenant=tenant, article=article, to=Article.Status.PUBLISHED)


def article_unpublish(*, tenant: Tenant, article: Article) -> Article:
    """Take an article back to draft: only staff see it from now on."""
    return _article_transition(tenant=tenant, article=article, to=Article.Status.DRAFT)


def article_delete(*, tenant: Tenant, article: Article) -> None:
    """Delete an article with its revisions and deflections. ``article`` must be the
    tenant's."""
    if article.tenant_id != tenant.pk:
        raise ValidationError({"article": _("Unknown article.")})
    article.delete()


# --- deflections ---------------------------------------------------------------------------


def deflection_visitor(session_key: str) -> str:
    """A stable, keyed hash of an anonymous reader's session key: it tells repeat answers
    apart without storing the key itself (which would let anyone reading the table log in as
    that session)."""
    return salted_hmac("kb.deflection.visitor", session_key, algorithm="sha256").hexdigest()


def deflection_record(
    *,
    tenant: Tenant,
    article: Article,
    helpful: bool,
    query: str = "",
    user: User | None = None,
    visitor: str = "",
) -> Deflection:
    """Record one reader's answer to "did this answer your question?".

    ``article`` must be one the reader may see (the caller fetched it through
    ``kb.selectors.articles_visible_to``). ``user`` is the reader if known; otherwise
    ``visitor`` is :func:`deflection_visitor` of their session key. ``query`` is what they had
    searched for, if anything.
    """
    if article.tenant_id != tenant.pk:
        raise ValidationError({"article": _("Unknown article.")})
    return Deflection.objects.create(
        tenant=tenant,
        article=article,
        user=user if user is not None and user.is_authenticated else None,
        visitor="" if user is not None and user.is_authenticated else visitor[:64],
        query=" ".join(strip_control(query).split())[:_QUERY_MAX],
        helpful=helpful,
    )
