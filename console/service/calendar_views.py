"""``/manage/calendars/``: business calendars with their weekly grid and holidays, the import of a
country's holidays (preview, then confirm), and delete (refused while a target uses the calendar).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from console.common import add_service_errors, render_console, tenant_of
from sla.models import BusinessCalendar
from sla.selectors import calendar_get, calendars_for_tenant
from sla.services import (
    calendar_create,
    calendar_delete,
    calendar_holidays_import,
    calendar_holidays_preview,
    calendar_update,
)
from tickets.models import Team

from ..access import admin_required
from .calendar_forms import (
    CalendarForm,
    HolidayFormSet,
    HolidayImportForm,
    holiday_specs,
    holidays_initial,
)
from .common import DASH, WEEKDAYS, calendar_use_counts, calendar_uses


def _hours_summary(calendar: BusinessCalendar) -> list[tuple[str, str]]:
    days: dict[int, list[str]] = {}
    for h in calendar.hours.all():
        days.setdefault(h.weekday, []).append(f"{h.start_label}{DASH}{h.end_label}")
    return [(str(WEEKDAYS[wd]), ", ".join(days[wd])) for wd in sorted(days)]


@admin_required
@require_safe
def calendar_list(request: HttpRequest) -> HttpResponse:
    tenant = tenant_of(request)
    uses = calendar_use_counts(tenant)
    rows = [
        {
            "calendar": c,
            "hours": _hours_summary(c),
            "holidays": len(c.holidays.all()),
            "packages": sorted(uses.get(c.pk, ())),
        }
        for c in calendars_for_tenant(tenant=tenant)
    ]
    return render_console(request, "console/service/calendar_list.html", {"rows": rows})


def _save(
    request: HttpRequest,
    form: CalendarForm,
    formset: Any,
    calendar: BusinessCalendar | None,
) -> BusinessCalendar | None:
    """Call the service when both forms are valid; its ValidationError lands on the form."""
    if not (form.is_valid() and formset.is_valid()):
        return None
    data = form.cleaned_data
    try:
        with transaction.atomic():
            if calendar is None:
                return calendar_create(
                    tenant=tenant_of(request),
                    name=data["name"],
                    timezone=data["timezone"],
                    hours=data["hours"],
                    holidays=holiday_specs(formset),
                )
            return calendar_update(
                calendar=calendar,
                name=data["name"],
                timezone=data["timezone"],
                hours=data["hours"],
                holidays=holiday_specs(formset),
            )
    except ValidationError as exc:
        add_service_errors(form, exc)
    return None


def _edit_page(
    request: HttpRequest,
    form: CalendarForm,
    formset: Any,
    calendar: BusinessCalendar | None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "formset": formset, "calendar": calendar}
    if calendar is not None:
        context["uses"] = calendar_uses(calendar)
        context["teams"] = list(
            Team.objects.for_tenant(calendar.tenant_id).filter(calendar=calendar).order_by("name")
        )
    return render_console(request, "console/service/calendar_form.html", context, status=status)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = CalendarForm(request.POST)
        formset = HolidayFormSet(request.POST, prefix="holidays")
        calendar = _save(request, form, formset, None)
        if calendar is not None:
            messages.success(request, _("Calendar “%(name)s” created.") % {"name": calendar.name})
            return HttpResponseRedirect(reverse("console-calendar-edit", args=[calendar.pk]))
        return _edit_page(request, form, formset, None, status=400)
    initial: dict[str, Any] = {"timezone": tenant_of(request).time_zone}
    for wd in range(7):
        initial[f"hours_{wd}"] = f"09:00{DASH}17:00" if wd < 5 else ""
        initial[f"closed_{wd}"] = wd >= 5
    form = CalendarForm(initial=initial)
    return _edit_page(request, form, HolidayFormSet(prefix="holidays"), None)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = calendar_get(tenant=tenant_of(request), calendar_id=pk)
    if request.method == "POST":
        form = CalendarForm(request.POST)
        formset = HolidayFormSet(request.POST, prefix="holidays")
        saved = _save(request, form, formset, calendar)
        if saved is not None:
            messages.success(
                request,
                _("Calendar “%(name)s” saved; open tickets' clocks on it were recomputed.")
                % {"name": saved.name},
            )
            return HttpResponseRedirect(reverse("console-calendar-edit", args=[saved.pk]))
        return _edit_page(request, form, formset, calendar, status=400)
    form = CalendarForm(initial=CalendarForm.initial_for(calendar))
    formset = HolidayFormSet(initial=holidays_initial(calendar), prefix="holidays")
    return _edit_page(request, form, formset, calendar)


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = calendar_get(tenant=tenant_of(request), calendar_id=pk)
    uses = calendar_uses(calendar)
    error = ""
    if request.method == "POST" and not uses:
        try:
            with transaction.atomic():
                calendar_delete(calendar=calendar)
        except (ProtectedError, RestrictedError):
            error = _("A package target started using this calendar; it was not deleted.")
        else:
            messages.success(request, _("Calendar “%(name)s” deleted.") % {"name": calendar.name})
            return HttpResponseRedirect(reverse("console-calendar-list"))
    if uses:
        error = _(
            "“%(name)s” cannot be deleted: the package targets below run on it. Move those "
            "targets to another calendar in the package's SLA matrix first."
        ) % {"name": calendar.name}
    teams = list(
        Team.objects.for_tenant(calendar.tenant_id).filter(calendar=calendar).order_by("name")
    )
    return render_console(
        request,
        "console/service/calendar_delete.html",
        {"calendar": calendar, "uses": uses, "teams": teams, "error": error},
        status=409 if error and request.method == "POST" else 200,
    )


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_holidays_import_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET without a country: the form. GET with one: the preview of exactly the dates the
    import adds, and a button to confirm. POST: the import."""
    calendar = calendar_get(tenant=tenant_of(request), calendar_id=pk)
    preview: list[tuple[Any, str]] | None = None
    if request.method == "POST":
        form = HolidayImportForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    added = calendar_holidays_import(
                        calendar=calendar,
                        country=data["country"],
                        subdiv=data["subdiv"],
                        years=data["years"],
                    )
            except ValidationError as exc:
                add_service_errors(form, exc, fallback="country")
            else:
                messages.success(
                    request,
                    ngettext(
                        "Imported %(n)d holiday into “%(name)s”.",
                        "Imported %(n)d holidays into “%(name)s”.",
                        len(added),
                    )
                    % {"n": len(added), "name": calendar.name},
                )
                return HttpResponseRedirect(reverse("console-calendar-edit", args=[calendar.pk]))
    elif "country" in request.GET:
        form = HolidayImportForm(request.GET)
        if form.is_valid():
            data = form.cleaned_data
            try:
                preview = calendar_holidays_preview(
                    calendar=calendar,
                    country=data["country"],
                    subdiv=data["subdiv"],
                    years=data["years"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc, fallback="country")
    else:
        form = HolidayImportForm()
    years = ", ".join(str(y) for y in form.cleaned_data.get("years", [])) if form.is_bound else ""
    return render_console(
        request,
        "console/service/calendar_import.html",
        {"calendar": calendar, "form": form, "preview": preview, "years_text": years},
        status=400 if form.is_bound and form.errors else 200,
    )
