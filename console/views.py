"""The console's front page: the sections and a few counts an admin checks first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .access import admin_required
from .nav import console_nav


@require_safe
@admin_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "console/index.html", console_nav(request))
