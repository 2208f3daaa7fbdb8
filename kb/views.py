"""The public knowledge base of a tenant: search and browse (``/kb/``), read and answer "did this
answer your question?" (``/kb/<slug>/``), and suggestions as a customer types (``/kb/suggest/``).

Anonymous visitors are welcome on published public articles; staff also see drafts and
internal articles here. All reads go through kb.selectors, the one write through kb.services.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from helpdesk.models import User

from . import search, selectors, services
from .forms import FeedbackForm, SearchForm
from .models import Article

RESULTS_PER_PAGE = 20
ANSWERED_SESSION_KEY = "kb_answered"


def _results(articles: Any, query: str) -> list[dict[str, Any]]:
    return [{"article": a, "snippet": search.snippet(a, query)} for a in articles]


@require_safe
def kb_index(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context: dict[str, Any] = {"form": form, "query": query}
    if query:
        found = selectors.article_search(tenant=tenant, query=query, membership=membership)
        context["results"] = _results(found[:RESULTS_PER_PAGE], query)
    else:
        categories = list(selectors.categories_visible_to(tenant=tenant, membership=membership))
        by_category: dict[int | None, list[Article]] = defaultdict(list)
        articles = selectors.articles_visible_to(tenant=tenant, membership=membership)
        for article in articles.order_by("title", "id"):
            by_category[article.category_id].append(article)
        context["sections"] = [(c, by_category.get(c.pk, [])) for c in categories]
        context["uncategorised"] = by_category.get(None, [])
    return render(request, "kb/index.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def kb_article(request: HttpRequest, article_slug: str) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    membership = request.membership  # type: ignore[attr-defined]
    article = selectors.article_get_by_slug(tenant=tenant, membership=membership, slug=article_slug)
    answered: list[int] = request.session.get(ANSWERED_SESSION_KEY, [])
    query = request.GET.get("q", "")[:500]
    form = FeedbackForm(initial={"q": query})
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            helpful: bool = form.cleaned_data["helpful"]
            request.session[ANSWERED_SESSION_KEY] = [*answered, article.pk][-200:]
            if request.session.session_key is None:
                request.session.save()
            user = request.user if isinstance(request.user, User) else None
            services.deflection_record(
                tenant=tenant,
                article=article,
                helpful=helpful,
                query=form.cleaned_data["q"],
                user=user,
                visitor=services.deflection_visitor(request.session.session_key or ""),
            )
            if helpful:
                messages.success(request, _("Thank you! We are glad this answered it."))
            else:
                messages.info(
                    request,
                    _("Thank you for telling us. If you still need help, please contact us."),
                )
            url = reverse("kb-article", kwargs={"article_slug": article.slug})
            return HttpResponseRedirect(f"{url}#feedback")
    context = {
        "article": article,
        "form": form,
        "query": query,
        "answered": article.pk in answered and request.method != "POST",
        "search_url": reverse("kb-index") + ("?" + urlencode({"q": query}) if query else ""),
    }
    return render(request, "kb/article.html", context, status=400 if form.errors else 200)


@require_safe
def kb_suggest(request: HttpRequest) -> HttpResponse:
    """An HTML fragment (no page around it): up to five published public articles matching
    ``?q=``, for the new-ticket form's as-you-type suggestions. Empty for a blank query."""
    tenant = request.tenant  # type: ignore[attr-defined]
    query = request.GET.get("q", "").strip()[:200]
    articles = selectors.article_suggestions(tenant=tenant, query=query) if query else []
    return render(
        request,
        "kb/_suggestions.html",
        {"results": _results(articles, query), "query": query},
    )
