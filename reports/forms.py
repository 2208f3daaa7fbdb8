"""The report's query: one form read by the page (``/manage/reports/``) and the API
(``/api/v1/reports/sla/``) alike, so both accept and refuse exactly the same parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from helpdesk.models import Organization, Tenant
from helpdesk.selectors import tenant_today
from sla.models import Severity, SupportPackage
from tickets.models import Team, Ticket

from .selectors import BREACHES_LIMIT, BREACHES_MAX_LIMIT
from .shapes import DEFAULT_GOAL_PERCENT, ReportFilters

DEFAULT_DAYS = 30
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
DATE_FORMATS = ["%Y-%m-%d"]


def _date_field(label: str, help_text: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=DATE_FORMATS,
        help_text=help_text,
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _choice_of(model_label: str, plural: str, queryset: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=queryset,
        required=False,
        empty_label=f"All {plural}",
        error_messages={"invalid_choice": f"Unknown {model_label}."},
    )


class ReportForm(forms.Form):
    """``start``/``end`` are days in the tenant's time zone, both included (default: the last
    30 days up to today). Filter ids must be the tenant's: another tenant's id is unknown."""

    start = _date_field("From", "First day, in the desk's time zone.")
    end = _date_field("To", "Last day (included).")
    granularity = forms.ChoiceField(
        label="Per",
        required=False,
        choices=[("", "Automatic"), ("day", "Day"), ("week", "Week"), ("month", "Month")],
        error_messages={"invalid_choice": "Use day, week or month."},
    )
    package = _choice_of("package", "packages", SupportPackage.objects.none())
    severity = _choice_of("severity", "severities", Severity.objects.none())
    team = _choice_of("team", "teams", Team.objects.none())
    organization = _choice_of("organization", "organizations", Organization.objects.none())
    channel = forms.ChoiceField(
        required=False,
        choices=[("", "All channels"), *Ticket.Channel.choices],
        error_messages={"invalid_choice": "Unknown channel."},
    )
    goal = forms.IntegerField(
        label="Goal %",
        required=False,
        min_value=1,
        max_value=100,
        help_text="The achievement the charts draw their goal line at.",
    )
    breaches_limit = forms.IntegerField(required=False, min_value=1, max_value=BREACHES_MAX_LIMIT)
    breaches_offset = forms.IntegerField(required=False, min_value=0)

    # Shown on the page's filter form; the paging fields travel in links only.
    VISIBLE = (
        "start",
        "end",
        "granularity",
        "package",
        "severity",
        "team",
        "organization",
        "channel",
    )

    def __init__(self, data: Any, *, tenant: Tenant, today: dt.date | None = None) -> None:
        super().__init__(data)
        self.tenant = tenant
        self.today = today or tenant_today(tenant)
        fields = self.fields
        fields["package"].queryset = SupportPackage.objects.for_tenant(tenant).order_by("name")  # type: ignore[attr-defined]
        fields["severity"].queryset = Severity.objects.for_tenant(tenant).order_by("rank")  # type: ignore[attr-defined]
        fields["team"].queryset = Team.objects.for_tenant(tenant).order_by("name")  # type: ignore[attr-defined]
        fields["organization"].queryset = Organization.objects.for_tenant(tenant).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "start" in self.errors or "end" in self.errors:
            return data
        start: dt.date | None = data.get("start")
        end: dt.date | None = data.get("end")
        if end is None:
            end = max(self.today, start) if start is not None else self.today
        if start is None:
            start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
        for name, value in (("start", start), ("end", end)):
            if not EARLIEST <= value <= LATEST:
                self.add_error(name, f"Give a date from {EARLIEST} to {LATEST}.")
        if start > end and "end" not in self.errors:
            self.add_error("end", "The end date is before the start date.")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> ReportFilters:
        data = self.cleaned_data
        return ReportFilters(
            package_id=data["package"].pk if data.get("package") else None,
            severity_id=data["severity"].pk if data.get("severity") else None,
            team_id=data["team"].pk if data.get("team") else None,
            organization_id=data["organization"].pk if data.get("organization") else None,
            channel=data.get("channel") or "",
        )

    def report_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`reports.selectors.sla_report` (a valid form only)."""
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "filters": self.filters(),
            "granularity": data.get("granularity") or "",
            "goal_percent": data.get("goal") or DEFAULT_GOAL_PERCENT,
            "breaches_limit": data.get("breaches_limit") or BREACHES_LIMIT,
            "breaches_offset": data.get("breaches_offset") or 0,
        }
