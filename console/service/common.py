"""What the service-level pages share: rendering inside the console, a service's ValidationError
on a form, clock times ("HH:MM") both ways, and the reasons a calendar or package is in use."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.models import Tenant
from sla.models import BusinessCalendar, Metric, SLATarget, minute_label
from sla.services.calendars import parse_clock_minute

DASH = "\u2013"  # between the ends of an interval: 08:00\u201317:00

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)


def clock_minute(value: str, *, allow_24: bool) -> int:
    """ "HH:MM" (also "H:MM") as minutes from midnight, or a form ValidationError."""
    value = value.strip()
    if len(value) == 4 and value[1] == ":":
        value = "0" + value
    try:
        return parse_clock_minute(value, allow_24=allow_24)
    except ValueError as exc:
        limit = "24:00" if allow_24 else "23:59"
        raise ValidationError(
            _("'%(value)s' is not a time HH:MM between 00:00 and %(limit)s."),
            params={"value": value, "limit": limit},
        ) from exc


class ClockField(forms.CharField):
    """A local wall time "HH:MM" as minutes from midnight; ``allow_24`` lets "24:00" end a day."""

    def __init__(self, *, allow_24: bool = False, **kwargs: Any) -> None:
        self.allow_24 = allow_24
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "numeric", "size": 5, "maxlength": 5, "placeholder": "HH:MM"}
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return minute_label(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        return clock_minute(text, allow_24=self.allow_24)


def calendar_uses(calendar: BusinessCalendar) -> list[dict[str, Any]]:
    """Which packages' targets run on ``calendar`` or read it in a condition, grouped by package:
    ``[{"package": p, "cells": ["SEV 1 · First response", …]}]``."""
    targets = (
        SLATarget.objects.for_tenant(calendar.tenant_id)
        .filter(calendar=calendar)
        .select_related("package", "severity")
        .order_by("package__name", "severity__rank", "metric", "position")
    )
    conditioned = (
        SLATarget.objects.for_tenant(calendar.tenant_id)
        .filter(condition_calendar=calendar)
        .exclude(calendar=calendar)
        .select_related("package", "severity")
        .order_by("package__name", "severity__rank", "metric", "position")
    )
    labels = dict(Metric.choices)
    grouped: dict[int, dict[str, Any]] = {}
    for target, how in [(t, "") for t in targets] + [(t, _(" (condition)")) for t in conditioned]:
        entry = grouped.setdefault(target.package_id, {"package": target.package, "cells": []})
        cell = f"{target.severity.name} · {labels[target.metric]}{how}"
        if cell not in entry["cells"]:
            entry["cells"].append(cell)
    return sorted(grouped.values(), key=lambda e: e["package"].name)


def calendar_use_counts(tenant: Tenant) -> dict[int, set[str]]:
    """calendar id → names of the packages whose targets use it (one query)."""
    out: dict[int, set[str]] = defaultdict(set)
    rows = SLATarget.objects.for_tenant(tenant).values_list(
        "calendar_id", "condition_calendar_id", "package__name"
    )
    for calendar_id, condition_id, package in rows:
        out[calendar_id].add(package)
        if condition_id is not None:
            out[condition_id].add(package)
    return out
