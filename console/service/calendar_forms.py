"""Forms of the calendar pages: the weekly grid, the holidays table and the holiday import."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from itertools import pairwise
from typing import Any

import holidays as holidays_lib
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.models import BusinessCalendar, minute_label
from sla.services import HolidaySpec, HoursSpec

from .common import DASH, WEEKDAYS, clock_minute

INTERVAL = re.compile(r"^\s*(\d{1,2}:\d{2})\s*(?:-|\u2013|\u2014|to)\s*(\d{1,2}:\d{2})\s*$")


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


def _camel_words(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


@cache
def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes the ``holidays`` package knows, with their English names."""
    from holidays.registry import COUNTRIES

    supported = holidays_lib.list_supported_countries()
    names = {entry[1]: _camel_words(entry[0]) for entry in COUNTRIES.values()}
    return sorted(
        ((code, f"{names.get(code, code)} ({code})") for code in supported if len(code) == 2),
        key=lambda c: c[1],
    )


def parse_day(text: str) -> list[tuple[int, int]]:
    """ "08:00-12:00, 13:00-17:00" as [(480, 720), (780, 1020)]; a ValidationError says which
    part is wrong. Intervals must not overlap; "24:00" may end one."""
    out: list[tuple[int, int]] = []
    for part in (p for p in re.split(r"[,;]", text) if p.strip()):
        match = INTERVAL.match(part)
        if match is None:
            raise ValidationError(
                _("'%(part)s' is not an interval like 08:00%(dash)s17:00."),
                params={"part": part.strip(), "dash": DASH},
            )
        start = clock_minute(match.group(1), allow_24=False)
        end = clock_minute(match.group(2), allow_24=True)
        if end <= start:
            raise ValidationError(
                _("%(part)s: the end must be after the start."), params={"part": part.strip()}
            )
        out.append((start, end))
    out.sort()
    for (_s1, e1), (s2, _e2) in pairwise(out):
        if s2 < e1:
            raise ValidationError(_("The intervals overlap; list each opening once."))
    return out


def day_label(intervals: list[tuple[int, int]]) -> str:
    return ", ".join(f"{minute_label(s)}{DASH}{minute_label(e)}" for s, e in intervals)


class CalendarForm(forms.Form):
    """Name, time zone and the weekly grid: one text field per weekday ("08:00-17:00", several
    intervals separated by commas) and a "closed" box."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    timezone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        help_text=gettext_lazy("Opening hours are local wall time in this zone (DST included)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()  # type: ignore[attr-defined]
        for wd, label in enumerate(WEEKDAYS):
            self.fields[f"hours_{wd}"] = forms.CharField(
                label=gettext_lazy("%(day)s opening hours") % {"day": label},
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": f"08:00{DASH}17:00", "size": 28}),
            )
            self.fields[f"closed_{wd}"] = forms.BooleanField(
                label=gettext_lazy("Closed"), required=False
            )

    @classmethod
    def initial_for(cls, calendar: BusinessCalendar) -> dict[str, Any]:
        days: dict[int, list[tuple[int, int]]] = {wd: [] for wd in range(7)}
        for interval in calendar.hours.all():
            days[interval.weekday].append((interval.start_minute, interval.end_minute))
        initial: dict[str, Any] = {"name": calendar.name, "timezone": calendar.timezone}
        for wd, intervals in days.items():
            initial[f"hours_{wd}"] = day_label(intervals)
            initial[f"closed_{wd}"] = not intervals
        return initial

    def days(self) -> list[dict[str, Any]]:
        """The grid's rows for the template."""
        return [
            {"label": label, "hours": self[f"hours_{wd}"], "closed": self[f"closed_{wd}"]}
            for wd, label in enumerate(WEEKDAYS)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        hours: list[HoursSpec] = []
        for wd, label in enumerate(WEEKDAYS):
            text = cleaned.get(f"hours_{wd}", "")
            if cleaned.get(f"closed_{wd}"):
                continue
            if not text.strip():
                self.add_error(
                    f"hours_{wd}",
                    _("Enter %(day)s's opening hours, or tick Closed.") % {"day": label},
                )
                continue
            try:
                intervals = parse_day(text)
            except ValidationError as exc:
                self.add_error(f"hours_{wd}", exc)
                continue
            hours += [
                HoursSpec(weekday=wd, start=minute_label(s), end=minute_label(e))
                for s, e in intervals
            ]
        if not hours and not any(f"hours_{wd}" in self.errors for wd in range(7)):
            self.add_error(None, _("A calendar needs at least one opening interval."))
        cleaned["hours"] = hours
        return cleaned


class HolidayForm(forms.Form):
    """One row of the holidays table: a date, or a range up to ``end_date``; once or yearly."""

    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end_date = forms.DateField(
        label=gettext_lazy("Until (for a range)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    yearly = forms.BooleanField(label=gettext_lazy("Every year"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date"), cleaned.get("end_date")
        if start and end:
            if end < start:
                self.add_error("end_date", _("The range ends before it starts."))
            elif end == start:
                cleaned["end_date"] = None
        return cleaned

    def spec(self) -> HolidaySpec:
        data = self.cleaned_data
        return HolidaySpec(
            date=data["date"],
            end_date=data.get("end_date"),
            name=data.get("name", ""),
            yearly=bool(data.get("yearly")),
        )


HolidayFormSet = forms.formset_factory(HolidayForm, extra=3, can_delete=True, max_num=1000)


def holidays_initial(calendar: BusinessCalendar) -> list[dict[str, Any]]:
    return [
        {"date": h.date, "end_date": h.end_date, "name": h.name, "yearly": h.yearly}
        for h in calendar.holidays.all()
    ]


def holiday_specs(formset: Any) -> list[HolidaySpec]:
    """The rows kept (filled, not ticked for removal) of a valid holidays formset."""
    return [
        form.spec()
        for form in formset.forms
        if not form.cleaned_data.get("DELETE") and form.cleaned_data.get("date")
    ]


class HolidayImportForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country"))
    subdiv = forms.CharField(
        label=gettext_lazy("Subdivision"),
        required=False,
        max_length=10,
        help_text=gettext_lazy("A state or region code, e.g. CA for California; empty: national."),
    )
    years = forms.CharField(
        label=gettext_lazy("Years"),
        max_length=60,
        help_text=gettext_lazy("One or more, separated by commas: 2026, 2027."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *country_choices()]  # type: ignore[attr-defined]

    def clean_subdiv(self) -> str:
        return str(self.cleaned_data.get("subdiv", "")).strip().upper()

    def clean_years(self) -> list[int]:
        text = self.cleaned_data["years"]
        try:
            years = sorted({int(y) for y in re.split(r"[,\s]+", text) if y})
        except ValueError as exc:
            raise ValidationError(_("Give years like 2026, 2027.")) from exc
        if not years or len(years) > 10 or years[0] < 1900 or years[-1] > 2200:
            raise ValidationError(_("Give 1 to 10 years between 1900 and 2200."))
        return years

    def subdivisions(self) -> list[str]:
        country = self.data.get("country") if self.is_bound else None
        return list(holidays_lib.list_supported_countries().get(country or "", []))
