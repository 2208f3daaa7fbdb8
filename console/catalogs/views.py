"""``/manage/catalogs/``: one page per catalog (list, add, edit, delete), the priority matrix and
the ticket settings. Every row is fetched through ``for_tenant``: another tenant's id is a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from console.common import render_console, tenant_of
from sla.models import Severity
from tickets.models import BusinessImpact, Priority, PriorityMatrixEntry
from tickets.services import priority_matrix_set, ticket_settings_for, ticket_settings_update

from ..access import admin_required
from .common import delete_or_error, save_or_errors
from .forms import PriorityMatrixForm, TicketSettingsForm
from .kinds import KINDS, Kind

View = Callable[..., HttpResponse]


@admin_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    sections = [
        (kind, reverse(f"console-catalog-{kind.slug}"), kind.rows(tenant).count()) for kind in KINDS
    ]
    return render_console(request, "console/catalogs/index.html", {"sections": sections})


def list_view(kind: Kind) -> View:
    @admin_required
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        tenant = tenant_of(request)
        form = kind.form(request.POST if request.method == "POST" else None, tenant=tenant)
        if request.method == "POST" and form.is_valid():
            row = save_or_errors(form, lambda: kind.create(tenant, form.values()))
            if row is not None:
                messages.success(request, _("Added %(row)s.") % {"row": row})
                return HttpResponseRedirect(reverse(f"console-catalog-{kind.slug}"))
        context = {"kind": kind, "rows": _table(kind, kind.rows(tenant)), "form": form}
        status = 400 if form.errors else 200
        return render_console(request, "console/catalogs/kind_list.html", context, status)

    view.__name__ = view.__qualname__ = f"{kind.singular.replace('-', '_')}_list"
    return view


def _table(kind: Kind, rows: Any) -> list[tuple[Any, list[str]]]:
    return [(row, [cell(row) for _label, cell in kind.columns]) for row in rows]


def edit_view(kind: Kind) -> View:
    @admin_required
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        tenant = tenant_of(request)
        row = get_object_or_404(kind.rows(tenant), pk=pk)
        if request.method == "POST":
            form = kind.form(request.POST, tenant=tenant)
            if form.is_valid():
                saved = save_or_errors(form, lambda: kind.update(row, form.values()))
                if saved is not None:
                    messages.success(request, _("Saved %(row)s.") % {"row": saved})
                    return HttpResponseRedirect(reverse(f"console-catalog-{kind.slug}"))
        else:
            form = kind.form(initial=kind.form.initial_for(row), tenant=tenant)
        context = {"kind": kind, "row": row, "form": form}
        status = 400 if form.errors else 200
        return render_console(request, "console/catalogs/kind_edit.html", context, status)

    view.__name__ = view.__qualname__ = f"{kind.singular.replace('-', '_')}_edit"
    return view


def delete_view(kind: Kind) -> View:
    @admin_required
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        row = get_object_or_404(kind.rows(tenant_of(request)), pk=pk)
        error = None
        if request.method == "POST":
            name = str(row)
            error = delete_or_error(lambda: kind.delete(row), name)
            if error is None:
                messages.success(request, _("Deleted %(row)s.") % {"row": name})
                return HttpResponseRedirect(reverse(f"console-catalog-{kind.slug}"))
        context = {
            "title": kind.title,
            "noun": kind.noun,
            "row": row,
            "error": error,
            "back": reverse(f"console-catalog-{kind.slug}"),
        }
        status = 409 if error else 200
        return render_console(request, "console/catalogs/confirm_delete.html", context, status)

    view.__name__ = view.__qualname__ = f"{kind.singular.replace('-', '_')}_delete"
    return view


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def priority_matrix(request: HttpRequest) -> HttpResponse:
    """The severity x business impact grid of default priorities; a save writes the cells that
    changed, through ``priority_matrix_set``."""
    tenant = tenant_of(request)
    severities = list(Severity.objects.for_tenant(tenant))
    impacts = list(BusinessImpact.objects.for_tenant(tenant))
    priorities = list(Priority.objects.for_tenant(tenant))
    current = {
        (e.severity_id, e.business_impact_id): e.priority_id
        for e in PriorityMatrixEntry.objects.for_tenant(tenant)
    }
    initial = {
        PriorityMatrixForm.cell_name(s, i): current.get((s.pk, i.pk if i else None))
        for s in severities
        for i in [None, *impacts]
    }
    form = PriorityMatrixForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        severities=severities,
        impacts=impacts,
        priorities=priorities,
    )
    if request.method == "POST" and form.is_valid():

        def write() -> int:
            changed = 0
            for severity, impact, priority in form.cells():
                key = (severity.pk, impact.pk if impact else None)
                if current.get(key) != (priority.pk if priority else None):
                    priority_matrix_set(
                        tenant=tenant, severity=severity, business_impact=impact, priority=priority
                    )
                    changed += 1
            return changed

        changed = save_or_errors(form, write)
        if changed is not None:
            messages.success(
                request, _("Saved the priority matrix (%(n)s cells changed).") % {"n": changed}
            )
            return HttpResponseRedirect(reverse("console-catalog-priority-matrix"))
    context = {"form": form, "impacts": impacts, "severities": severities, "priorities": priorities}
    status = 400 if form.errors else 200
    return render_console(request, "console/catalogs/priority_matrix.html", context, status)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_settings(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    current = ticket_settings_for(tenant=tenant)
    if request.method == "POST":
        form = TicketSettingsForm(request.POST)
        if form.is_valid():
            saved = save_or_errors(
                form,
                lambda: ticket_settings_update(
                    tenant=tenant,
                    max_attachment_bytes=form.max_attachment_bytes(),
                    allowed_content_types=form.cleaned_data["allowed_content_types"],
                ),
            )
            if saved is not None:
                messages.success(request, _("Saved the ticket settings."))
                return HttpResponseRedirect(reverse("console-catalog-ticket-settings"))
    else:
        form = TicketSettingsForm(initial=TicketSettingsForm.initial_for(current))
    context = {"form": form, "settings": current}
    status = 400 if form.errors else 200
    return render_console(request, "console/catalogs/ticket_settings.html", context, status)
