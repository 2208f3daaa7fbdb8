"""Pages of the core: the tenant's portal home and the installation's landing page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .api.exceptions import problem_response


@require_safe
def portal_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_safe
def brand_css(request: HttpRequest) -> HttpResponse:
    """The tenant's colour as a stylesheet (a strict CSP allows no inline style)."""
    color = request.tenant.brand_color  # type: ignore[attr-defined]
    response = HttpResponse(f":root {{ --brand: {color}; }}\n", content_type="text/css")
    response["Cache-Control"] = "max-age=300"
    return response


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "landing.html")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(request, 404, "Not found.")
    return render(request, "404.html", status=404)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(request, 500, "The server failed to handle this request.")
    return render(request, "500.html", status=500)
