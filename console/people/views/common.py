"""What the people area's views share beyond console.common: confirmation pages for POST-only
actions, secrets shown once (no-store), and the wording of released held tickets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from console.common import (
    render_console,
)


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
