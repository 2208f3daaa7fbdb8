"""``/manage/kb/``: the knowledge-base editor — articles (list, write with a server-side preview,
publish, unpublish, delete) and their revision history. Categories live in
:mod:`console.kb.categories`.

Admins only, like the rest of ``/manage/``. Every read goes through kb.selectors (scoped to the
tenant before it fetches), every write through kb.services; the Markdown preview uses the same
sanitising renderer (helpdesk.markup) as the public page, so what the admin sees is what readers
get.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.catalogs.common import delete_or_error, save_or_errors
from console.common import paginate, query_without_page, render_console
from helpdesk.markup import render_markdown
from helpdesk.models import Membership, Tenant, User
from kb import search, selectors, services
from kb.models import Article, ArticleRevision
from tickets.models import ProductArea

from ..access import admin_required
from .forms import PRODUCT_AREA_LIST, UNCATEGORISED, ArticleFilterForm, ArticleForm

GET_POST = require_http_methods(["GET", "HEAD", "POST"])
PAGE_SIZE = 25
# The submit buttons of the article form (name="action"); anything else is "save".
PREVIEW, SAVE, PUBLISH, UNPUBLISH = "preview", "save", "publish", "unpublish"


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # admin_required has run
    return user


def _article(request: HttpRequest, pk: int) -> Article:
    return selectors.article_get(
        tenant=_tenant(request), membership=_membership(request), article_id=pk
    )


def _action(request: HttpRequest) -> str:
    action = request.POST.get("action", SAVE)
    return action if action in (PREVIEW, PUBLISH, UNPUBLISH) else SAVE


# --- list ----------------------------------------------------------------------------------


@admin_required
@require_safe
def article_list(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    membership = _membership(request)
    form = ArticleFilterForm(request.GET or None, tenant=tenant)
    # Filters that parse apply; one that does not shows its error and is left out.
    form.is_valid()
    filters: dict[str, Any] = getattr(form, "cleaned_data", {})
    query = (filters.get("q") or "").strip()
    if query:
        articles = selectors.article_search(tenant=tenant, query=query, membership=membership)
    else:
        articles = selectors.articles_visible_to(tenant=tenant, membership=membership).order_by(
            "-updated_at", "-id"
        )
    if filters.get("status"):
        articles = articles.filter(status=filters["status"])
    category = filters.get("category")
    if category == UNCATEGORISED:
        articles = articles.filter(category__isnull=True)
    elif category:
        articles = articles.filter(category_id=int(category))
    page = paginate(request, articles, PAGE_SIZE)
    # One query for the page's deflection counts, whatever the page size.
    counted = selectors.articles_with_deflection_counts(tenant=tenant).filter(
        pk__in=[a.pk for a in page]
    )
    counts = {
        a.pk: (a.helpful_count, a.not_helpful_count)  # type: ignore[attr-defined]
        for a in counted.only("id")
    }
    rows = [
        {
            "article": a,
            "helpful": counts.get(a.pk, (0, 0))[0],
            "not_helpful": counts.get(a.pk, (0, 0))[1],
            "snippet": search.snippet(a, query) if query else "",
        }
        for a in page
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "searching": bool(query),
        "filtered": any(filters.get(k) for k in ("q", "status", "category")),
        "query": query_without_page(request),
    }
    return render_console(request, "console/kb/article_list.html", context)


# --- write ---------------------------------------------------------------------------------


def _preview_form(request: HttpRequest, article: Article | None) -> ArticleForm:
    """The form showing exactly what was typed, unvalidated: a preview is not a save, so it
    flags nothing."""
    typed = {name: request.POST.get(name, "") for name in ArticleForm.base_fields}
    return ArticleForm(tenant=_tenant(request), article=article, initial=typed)


def _form_page(
    request: HttpRequest,
    form: ArticleForm,
    article: Article | None,
    preview: str | None = None,
    base_revision: int | None = None,
) -> HttpResponse:
    """The article form. ``base_revision`` is the revision the text being edited started from
    (default: the latest), kept across previews and errors so that a concurrent save is noticed
    when this one is finally submitted."""
    tenant = _tenant(request)
    context: dict[str, Any] = {
        "form": form,
        "article": article,
        "preview": preview,
        "product_areas": ProductArea.objects.for_tenant(tenant).order_by("name", "id"),
        "product_area_list": PRODUCT_AREA_LIST,
    }
    if article is not None:
        context["deflections"] = selectors.deflection_counts(tenant=tenant, article=article)
        # Revisions are numbered 1, 2, 3 … and never deleted one by one: the latest number is
        # the count, and the base the form is edited from.
        context["revision_count"] = _latest_revision_number(tenant, article)
        context["base_revision"] = (
            context["revision_count"] if base_revision is None else base_revision
        )
    return render_console(
        request, "console/kb/article_form.html", context, status=400 if form.errors else 200
    )


def _latest_revision_number(tenant: Tenant, article: Article) -> int:
    latest = selectors.article_revisions(tenant=tenant, article=article).first()
    return latest.number if latest is not None else 0


def _posted_base_revision(request: HttpRequest) -> int | None:
    base = request.POST.get("base_revision", "")
    return int(base) if base.isdigit() and len(base) < 10 else None


def _edited_meanwhile(request: HttpRequest, tenant: Tenant, article: Article) -> str | None:
    """Why the save must not go ahead when someone else saved the article after this form was
    opened (its hidden ``base_revision`` is older than the latest revision), else None. The page
    then carries the latest number, so saving again knowingly overwrites their change."""
    base = _posted_base_revision(request)
    latest = selectors.article_revisions(tenant=tenant, article=article).first()
    if base is None or latest is None or base >= latest.number:
        return None
    who = latest.author.name or latest.author.email if latest.author else _("someone")
    return _(
        "%(who)s saved this article (revision %(number)d) after you opened it. Your text is "
        "kept below: compare it with the revision history, then save again to replace their "
        "version with yours."
    ) % {"who": who, "number": latest.number}


def _saved_message(action: str, article: Article) -> str:
    if action == PUBLISH:
        return _("Published “%(title)s”: customers can find it now.") % {"title": article.title}
    if action == UNPUBLISH:
        return _("Unpublished “%(title)s”: it is a draft again.") % {"title": article.title}
    if article.status == Article.Status.PUBLISHED:
        return _("Saved “%(title)s”; the changes are live.") % {"title": article.title}
    return _("Saved “%(title)s” as a draft.") % {"title": article.title}


@admin_required
@GET_POST
def article_new(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    if request.method != "POST":
        return _form_page(request, ArticleForm(tenant=tenant), None)
    action = _action(request)
    if action == PREVIEW:
        body = request.POST.get("body_markdown", "")
        return _form_page(request, _preview_form(request, None), None, render_markdown(body))
    form = ArticleForm(request.POST, tenant=tenant)
    if form.is_valid():
        data = form.cleaned_data
        article = save_or_errors(
            form,
            lambda: services.article_create(
                tenant=tenant,
                author=_user(request),
                title=data["title"],
                slug=data["slug"].strip(),
                body_markdown=data["body_markdown"],
                category=data["category"],
                visibility=data["visibility"],
                product_area=data["product_area"],
                status=Article.Status.PUBLISHED if action == PUBLISH else Article.Status.DRAFT,
            ),
        )
        if article is not None:
            messages.success(request, _saved_message(action, article))
            return redirect("console-kb-article-edit", pk=article.pk)
    return _form_page(request, form, None)


@admin_required
@GET_POST
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    article = _article(request, pk)
    if request.method != "POST":
        return _form_page(request, ArticleForm(tenant=tenant, article=article), article)
    action = _action(request)
    if action == PREVIEW:
        body = request.POST.get("body_markdown", "")
        return _form_page(
            request,
            _preview_form(request, article),
            article,
            render_markdown(body),
            _posted_base_revision(request),
        )
    form = ArticleForm(request.POST, tenant=tenant, article=article)
    conflict = _edited_meanwhile(request, tenant, article)
    if form.is_valid() and conflict is not None:
        form.add_error(None, conflict)
        # The page now carries the latest revision: saving again overwrites, knowingly.
        return _form_page(request, form, article)
    if form.is_valid():
        data = form.cleaned_data

        def write() -> Article:
            # One savepoint: a refused publish (no body) leaves the edit unsaved too, and
            # the admin still has everything they typed on the page.
            services.article_update(
                tenant=tenant,
                article=article,
                author=_user(request),
                title=data["title"],
                slug=data["slug"].strip() or None,
                body_markdown=data["body_markdown"],
                category=data["category"],
                visibility=data["visibility"],
                product_area=data["product_area"],
            )
            if action == PUBLISH:
                services.article_publish(tenant=tenant, article=article)
            elif action == UNPUBLISH:
                services.article_unpublish(tenant=tenant, article=article)
            return article

        if save_or_errors(form, write) is not None:
            messages.success(request, _saved_message(action, article))
            return redirect("console-kb-article-edit", pk=article.pk)
        article.refresh_from_db()  # the rolled-back write had changed the instance
    return _form_page(request, form, article, base_revision=_posted_base_revision(request))


@admin_required
@GET_POST
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    article = _article(request, pk)
    back = reverse("console-kb-article-edit", kwargs={"pk": article.pk})
    error = None
    if request.method == "POST":
        title = article.title
        error = delete_or_error(
            lambda: services.article_delete(tenant=tenant, article=article), title
        )
        if error is None:
            messages.success(request, _("Deleted “%(title)s”.") % {"title": title})
            return redirect("console-kb")
    context = {
        "heading": _("Delete the article “%(title)s”?") % {"title": article.title},
        "consequence": _(
            "Its revisions and its readers' answers go with it. Links to it in ticket replies "
            "and elsewhere will stop working. This cannot be undone."
        )
        + (
            " " + _("It is published: customers lose it at once. To hide it, unpublish instead.")
            if article.status == Article.Status.PUBLISHED
            else ""
        ),
        "error": error,
        "back": back,
        "back_label": article.title,
    }
    return render_console(
        request, "console/kb/confirm_delete.html", context, status=409 if error else 200
    )


# --- revisions -----------------------------------------------------------------------------


@admin_required
@require_safe
def article_revisions(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(request, pk)
    revisions = selectors.article_revisions(tenant=_tenant(request), article=article)
    context = {"article": article, "page": paginate(request, revisions, 50), "query": ""}
    return render_console(request, "console/kb/article_revisions.html", context)


def _revision(request: HttpRequest, article: Article, number: int) -> ArticleRevision:
    found = (
        selectors.article_revisions(tenant=_tenant(request), article=article)
        .filter(number=number)
        .first()
    )
    if found is None:
        raise Http404("No such revision")
    return found


def _diff(before: ArticleRevision | None, after: ArticleRevision) -> list[tuple[str, str]]:
    """The revision's change against the one before it, as (kind, line) pairs for the
    template: kind is "add", "del", "hunk" or "" (context)."""
    old = f"# {before.title}\n\n{before.body_markdown}" if before else ""
    new = f"# {after.title}\n\n{after.body_markdown}"
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2)
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return [(kinds.get(line[:1], ""), line) for line in list(lines)[2:]]


@admin_required
@GET_POST
def article_revision(request: HttpRequest, pk: int, revision_number: int) -> HttpResponse:
    tenant = _tenant(request)
    article = _article(request, pk)
    revision = _revision(request, article, revision_number)
    if request.method == "POST":
        # Restoring is an edit like any other: it appends a revision, so it can be undone.
        before = article.updated_at
        services.article_update(
            tenant=tenant,
            article=article,
            author=_user(request),
            title=revision.title,
            body_markdown=revision.body_markdown,
        )
        if article.updated_at == before:
            messages.info(request, _("The article already reads like this revision."))
        else:
            restored = _("Restored revision %(number)d as the current text.")
            messages.success(request, restored % {"number": revision.number})
        return redirect("console-kb-article-edit", pk=article.pk)
    previous = (
        selectors.article_revisions(tenant=tenant, article=article)
        .filter(number__lt=revision.number)
        .first()
    )
    latest = selectors.article_revisions(tenant=tenant, article=article).first()
    context = {
        "article": article,
        "revision": revision,
        "previous": previous,
        "is_current": latest is not None and latest.pk == revision.pk,
        "rendered": render_markdown(revision.body_markdown),
        "diff": _diff(previous, revision),
    }
    return render_console(request, "console/kb/article_revision.html", context)
