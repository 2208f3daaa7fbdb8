"""What the people area's views share: rendering inside the console frame in the viewer's time
zone, pagination, service errors onto forms, and confirmation pages for POST-only actions."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from console.nav import console_nav
from tickets.views.common import viewer_zone

PAGE_SIZE = 25


def render_console(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render ``template`` (which extends console/base.html) with the console's navigation;
    datetimes show in the viewer's time zone."""
    timezone.activate(viewer_zone(request))
    try:
        return render(request, template, {**console_nav(request), **context}, status=status)
    finally:
        timezone.deactivate()


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current query string minus ``page`` (for the pager's links)."""
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])


def add_service_errors(
    form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError on ``form``: a message about a field the form has goes
    under that field (``aliases`` maps service names to form names), the rest on top."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, messages in error.message_dict.items():
        field = aliases.get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def confirm_page(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    button: str,
    cancel_url: str,
    form: forms.Form | None = None,
    danger: bool = False,
    facts: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page a POST-only action shows on GET (and without JavaScript): what will happen and
    one button to do it."""
    return render_console(
        request,
        "console/people/confirm.html",
        {
            "title": title,
            "message": message,
            "button": button,
            "cancel_url": cancel_url,
            "form": form,
            "danger": danger,
            "facts": facts or [],
        },
        status=status,
    )


def no_store(response: HttpResponse) -> HttpResponse:
    """A page showing a secret once must not be kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def posted(request: HttpRequest) -> Any:
    """The form data of a POST (bound even when empty, so that it shows its errors), else None."""
    return request.POST if request.method == "POST" else None


def released_text(count: int) -> str:
    return ngettext(
        "%(count)d held ticket was released into the queue.",
        "%(count)d held tickets were released into the queue.",
        count,
    ) % {"count": count}
