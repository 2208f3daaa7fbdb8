"""Writes of business calendars: hours, holidays, and the holiday import from ``holidays``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

import holidays as holidays_lib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from helpdesk.configcache import config_changed
from helpdesk.models import Tenant

from .. import businesstime as bt
from ..models import (
    MINUTES_PER_DAY,
    BusinessCalendar,
    Holiday,
    OpeningInterval,
    validate_timezone,
)
from .recompute import calendar_changed

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class HoursSpec(TypedDict):
    weekday: int
    start: str | dt.time
    end: str | dt.time


class HolidaySpec(TypedDict, total=False):
    date: dt.date
    end_date: dt.date | None
    name: str
    yearly: bool


def parse_clock_minute(value: str | dt.time, *, allow_24: bool) -> int:
    """ "HH:MM" (or a ``time``) as minutes from midnight; "24:00" only where ``allow_24``."""
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute
    parts = str(value).strip().split(":")
    if len(parts) == 2 and all(len(p) == 2 and p.isdigit() for p in parts):
        h, m = int(parts[0]), int(parts[1])
        if m < 60 and (h < 24 or (allow_24 and h == 24 and m == 0)):
            return h * 60 + m
    limit = "24:00" if allow_24 else "23:59"
    raise ValueError(f"'{value}' is not a time HH:MM between 00:00 and {limit}.")


def _parse_hours(hours: Sequence[HoursSpec]) -> list[tuple[int, int, int]]:
    if not hours:
        raise ValidationError({"hours": "A calendar needs at least one opening interval."})
    rows = []
    for i, spec in enumerate(hours):
        weekday = spec.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError({"hours": f"Interval {i + 1}: weekday must be 0-6 (Monday=0)."})
        try:
            start = parse_clock_minute(spec["start"], allow_24=False)
            end = parse_clock_minute(spec["end"], allow_24=True)
        except (KeyError, ValueError) as exc:
            raise ValidationError({"hours": f"Interval {i + 1}: {exc}"}) from exc
        if end == 0 and isinstance(spec["end"], dt.time):
            end = MINUTES_PER_DAY  # a time cannot say 24:00
        if end <= start:
            raise ValidationError(
                {"hours": f"Interval {i + 1} ({_WEEKDAYS[weekday]}): end must be after start."}
            )
        rows.append((weekday, start, end))
    return rows


def _check_holidays(holidays: Sequence[HolidaySpec]) -> None:
    for i, spec in enumerate(holidays):
        end = spec.get("end_date")
        if end is not None and end < spec["date"]:
            raise ValidationError(
                {"holidays": f"Holiday {i + 1}: end_date must not be before date."}
            )


def _check_timezone(value: str) -> None:
    try:
        validate_timezone(value)
    except ValidationError as exc:
        raise ValidationError({"timezone": exc.messages}) from exc


def _check_name(tenant: Tenant | int, name: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A name is required."})
    qs = BusinessCalendar.objects.for_tenant(tenant).filter(name=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError({"name": f"A calendar named '{name}' already exists."})
    return name


def _write_hours(calendar: BusinessCalendar, rows: list[tuple[int, int, int]]) -> None:
    config_changed(calendar.tenant_id)  # bulk_create sends no signal
    OpeningInterval.objects.filter(calendar=calendar).delete()
    OpeningInterval.objects.bulk_create(
        OpeningInterval(
            tenant_id=calendar.tenant_id,
            calendar=calendar,
            weekday=wd,
            start_minute=s,
            end_minute=e,
        )
        for wd, s, e in rows
    )


def _write_holidays(calendar: BusinessCalendar, holidays: Sequence[HolidaySpec]) -> None:
    config_changed(calendar.tenant_id)  # bulk_create sends no signal
    Holiday.objects.filter(calendar=calendar).delete()
    Holiday.objects.bulk_create(
        Holiday(
            tenant_id=calendar.tenant_id,
            calendar=calendar,
            date=spec["date"],
            end_date=spec.get("end_date"),
            name=spec.get("name", "") or "",
            yearly=bool(spec.get("yearly", False)),
        )
        for spec in holidays
    )


def _touch(calendar: BusinessCalendar) -> None:
    calendar.version += 1
    calendar.updated_at = timezone.now()


@transaction.atomic
def calendar_create(
    *,
    tenant: Tenant,
    name: str,
    timezone: str,
    hours: Sequence[HoursSpec],
    holidays: Sequence[HolidaySpec] = (),
) -> BusinessCalendar:
    """Create a calendar. ``hours`` are local wall-time intervals (weekday 0 = Monday, "HH:MM",
    end may be "24:00" and must be after start); ``holidays`` single dates or inclusive ranges,
    one-off or yearly. Raises ValidationError naming the field."""
    _check_timezone(timezone)
    rows = _parse_hours(hours)
    _check_holidays(holidays)
    calendar = BusinessCalendar.objects.create(
        tenant=tenant, name=_check_name(tenant, name), timezone=timezone
    )
    _write_hours(calendar, rows)
    _write_holidays(calendar, holidays)
    return calendar


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    name: str | None = None,
    timezone: str | None = None,
    hours: Sequence[HoursSpec] | None = None,
    holidays: Sequence[HolidaySpec] | None = None,
) -> BusinessCalendar:
    """Change what is given (``hours``/``holidays`` replace the whole list). A change of zone,
    hours or holidays bumps the version and recomputes every running clock on the calendar
    (``calendar_changed``)."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    fields = []
    if name is not None and name.strip() != calendar.name:
        calendar.name = _check_name(calendar.tenant_id, name, exclude=calendar.pk)
        fields.append("name")
    changed = False
    if timezone is not None and timezone != calendar.timezone:
        _check_timezone(timezone)
        calendar.timezone = timezone
        fields.append("timezone")
        changed = True
    if hours is not None:
        _write_hours(calendar, _parse_hours(hours))
        changed = True
    if holidays is not None:
        _check_holidays(holidays)
        _write_holidays(calendar, holidays)
        changed = True
    if changed:
        _touch(calendar)
        fields += ["version", "updated_at"]
    if fields:
        calendar.save(update_fields=fields)
    if changed:
        calendar_changed(calendar=calendar)
    return calendar


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar) -> None:
    """Delete a calendar no target uses (raises django's ProtectedError otherwise). Clocks that
    were computed on it keep their outcome."""
    calendar.delete()


# --- holiday import ------------------------------------------------------------------------------


def _check_years(years: Iterable[int]) -> list[int]:
    out = sorted(set(years))
    if not out:
        raise ValidationError({"years": "Give at least one year."})
    if len(out) > 10 or out[0] < 1900 or out[-1] > 2200:
        raise ValidationError({"years": "Give up to 10 years between 1900 and 2200."})
    return out


def _country_holidays(country: str, subdiv: str, years: list[int]) -> dict[dt.date, str]:
    country = country.strip().upper()
    supported: dict[str, Any] = holidays_lib.list_supported_countries()
    if country not in supported:
        raise ValidationError({"country": f"Unknown country code '{country}' (ISO 3166-1)."})
    subdiv = subdiv.strip()
    try:
        found = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=years)
    except NotImplementedError as exc:
        raise ValidationError(
            {"subdiv": f"'{subdiv}' is not a subdivision of {country}: {exc}"}
        ) from exc
    return {d: str(n) for d, n in sorted(found.items()) if d.year in years}


def calendar_holidays_preview(
    *, calendar: BusinessCalendar, country: str, subdiv: str = "", years: Iterable[int]
) -> list[tuple[dt.date, str]]:
    """The (date, name) pairs the ``holidays`` package lists for ``country``/``subdiv`` in
    ``years`` that the calendar does not already close on: exactly what the import would add.
    Reads only."""
    ys = _check_years(years)
    found = _country_holidays(country, subdiv, ys)
    present = bt.expand_holidays(
        [h.as_rule() for h in Holiday.objects.filter(calendar_id=calendar.pk)], ys
    )
    return [(d, n) for d, n in found.items() if d not in present]


@transaction.atomic
def calendar_holidays_import(
    *, calendar: BusinessCalendar, country: str, subdiv: str = "", years: Iterable[int]
) -> list[tuple[dt.date, str]]:
    """Add exactly the holidays ``calendar_holidays_preview`` lists (as one-off dates: a
    country's holidays move from year to year), bump the version and recompute the clocks.
    Returns what was added."""
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    added = calendar_holidays_preview(
        calendar=calendar, country=country, subdiv=subdiv, years=years
    )
    if not added:
        return []
    Holiday.objects.bulk_create(
        Holiday(tenant_id=calendar.tenant_id, calendar=calendar, date=d, name=n[:200])
        for d, n in added
    )
    _touch(calendar)
    calendar.save(update_fields=["version", "updated_at"])
    calendar_changed(calendar=calendar)
    return added
