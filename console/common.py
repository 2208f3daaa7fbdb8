"""What every console page shares: the tenant and member of the request, rendering inside the
console (its navigation, times in the viewer's zone), a service's ValidationError as form errors,
and pagination that keeps the filters."""

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

from helpdesk.models import Membership, Tenant
from tickets.views.common import viewer_zone

from .nav import console_nav

PAGE_SIZE = 25


def tenant_of(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def membership_of(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


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


def add_service_errors(
    form: forms.Form,
    exc: ValidationError,
    aliases: dict[str, str] | None = None,
    *,
    fallback: str | None = None,
) -> None:
    """Put a service's ValidationError on ``form``: a message about a field the form has goes
    under that field (``aliases`` maps the service's names to the form's), any other
    (``targets``, ``__all__``, a plain message) on ``fallback`` if that is a field, else above
    the form."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(fallback, exc.messages)
        return
    for name, errors in exc.error_dict.items():
        field = aliases.get(name, name)
        target = field if field in form.fields else fallback
        for error in errors:
            form.add_error(target, error.messages)


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current query string minus ``page`` (for the pager's links)."""
    return urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
