"""``/manage/kb/categories/``: the knowledge base's categories — list and add, rename, re-slug
and reorder (by position), delete when no article uses them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.catalogs.common import delete_or_error, save_or_errors
from console.common import render_console
from console.people.views.common import posted
from helpdesk.models import Tenant
from kb import selectors, services
from kb.models import Category

from ..access import admin_required
from .forms import CategoryForm

GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _tenant(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def _category(request: HttpRequest, pk: int) -> Category:
    found = selectors.category_get(tenant=_tenant(request), category_id=pk)
    if found is None:
        raise Http404("No such category")
    return found


@admin_required
@GET_POST
def category_list(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    form = CategoryForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        category = save_or_errors(
            form,
            lambda: services.category_create(
                tenant=tenant,
                name=data["name"],
                slug=data["slug"].strip(),
                position=data["position"],
            ),
        )
        if category is not None:
            messages.success(request, _("Added the category “%(name)s”.") % {"name": category})
            return redirect("console-kb-categories")
    membership = request.membership  # type: ignore[attr-defined]
    categories = selectors.categories_visible_to(tenant=tenant, membership=membership)
    context = {"categories": categories, "form": form}
    return render_console(
        request, "console/kb/category_list.html", context, status=400 if form.errors else 200
    )


@admin_required
@GET_POST
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    category = _category(request, pk)
    form = CategoryForm(posted(request), initial=CategoryForm.initial_for(category))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = save_or_errors(
            form,
            lambda: services.category_update(
                tenant=tenant,
                category=category,
                name=data["name"],
                slug=data["slug"].strip() or None,
                position=data["position"],
            ),
        )
        if saved is not None:
            messages.success(request, _("Saved the category “%(name)s”.") % {"name": saved})
            return redirect("console-kb-categories")
        category.refresh_from_db()
    return render_console(
        request,
        "console/kb/category_edit.html",
        {"category": category, "form": form},
        status=400 if form.errors else 200,
    )


@admin_required
@GET_POST
def category_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = _tenant(request)
    category = _category(request, pk)
    back = reverse("console-kb-categories")
    error = None
    if request.method == "POST":
        name = category.name
        error = delete_or_error(
            lambda: services.category_delete(tenant=tenant, category=category), name
        )
        if error is None:
            messages.success(request, _("Deleted the category “%(name)s”.") % {"name": name})
            return redirect(back)
    in_use = category.articles.count()
    context = {
        "heading": _("Delete the category “%(name)s”?") % {"name": category.name},
        "consequence": (
            _("No article is in it. This cannot be undone.")
            if not in_use
            else _("Articles are still in it: move them to another category first.")
        ),
        "error": error,
        "back": back,
        "back_label": _("Categories"),
        "articles_url": reverse("console-kb") + f"?category={category.pk}",
        "blocked": bool(in_use),
    }
    return render_console(
        request, "console/kb/confirm_delete.html", context, status=409 if error else 200
    )
