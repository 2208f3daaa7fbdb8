"""``/manage/canned-responses/``: the reply texts agents insert from the reply box."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from console.common import render_console, tenant_of
from tickets.models import CannedResponse
from tickets.services import (
    canned_response_create,
    canned_response_delete,
    canned_response_update,
)

from ..access import admin_required
from .common import delete_or_error, save_or_errors
from .forms import CannedResponseForm


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def canned_responses(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    form = CannedResponseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        row = save_or_errors(
            form,
            lambda: canned_response_create(
                tenant=tenant,
                created_by=request.user,  # type: ignore[arg-type]
                **form.cleaned_data,
            ),
        )
        if row is not None:
            messages.success(request, _("Added %(row)s.") % {"row": row})
            return HttpResponseRedirect(reverse("console-canned-responses"))
    rows = CannedResponse.objects.for_tenant(tenant).select_related("created_by")
    context = {"rows": rows, "form": form}
    status = 400 if form.errors else 200
    return render_console(request, "console/catalogs/canned_list.html", context, status)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def canned_response_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(CannedResponse.objects.for_tenant(tenant_of(request)), pk=pk)
    if request.method == "POST":
        form = CannedResponseForm(request.POST)
        if form.is_valid():
            saved = save_or_errors(
                form, lambda: canned_response_update(canned_response=row, **form.cleaned_data)
            )
            if saved is not None:
                messages.success(request, _("Saved %(row)s.") % {"row": saved})
                return HttpResponseRedirect(reverse("console-canned-responses"))
    else:
        form = CannedResponseForm(initial=CannedResponseForm.initial_for(row))
    status = 400 if form.errors else 200
    return render_console(
        request, "console/catalogs/canned_edit.html", {"row": row, "form": form}, status
    )


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def canned_response_remove(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(CannedResponse.objects.for_tenant(tenant_of(request)), pk=pk)
    back = reverse("console-canned-responses")
    error = None
    if request.method == "POST":
        name = str(row)
        error = delete_or_error(lambda: canned_response_delete(canned_response=row), name)
        if error is None:
            messages.success(request, _("Deleted %(row)s.") % {"row": name})
            return HttpResponseRedirect(back)
    context = {
        "title": _("Canned responses"),
        "noun": _("canned response"),
        "row": row,
        "error": error,
        "back": back,
    }
    return render_console(
        request, "console/catalogs/confirm_delete.html", context, 409 if error else 200
    )
