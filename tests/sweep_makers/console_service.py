"""Sweep makers of the console's service-level pages (function views: keyed by route name)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sla.models import OnCallEntry
from tests.factories import BusinessCalendarFactory, SupportPackageFactory


def _calendar(world: Any) -> int:
    return BusinessCalendarFactory(tenant=world.tenant, name="ALPHA-SECRET calendar").pk


def _package(world: Any) -> int:
    return SupportPackageFactory(tenant=world.tenant, name="ALPHA-SECRET package").pk


def _on_call(world: Any) -> int:
    return OnCallEntry.objects.create(
        tenant=world.tenant, membership=world.agent, pager_address="ALPHA-SECRET pager"
    ).pk


ROUTE_MAKERS: dict[str, Callable[[Any], Any]] = {
    "console-calendar-edit": _calendar,
    "console-calendar-delete": _calendar,
    "console-calendar-holidays-import": _calendar,
    "console-package-edit": _package,
    "console-package-delete": _package,
    "console-escalation-oncall-edit": _on_call,
    "console-escalation-oncall-delete": _on_call,
}

# The import page's GET with a query previews the dates (it answers 200 without one too).
ROUTE_QUERY: dict[str, str] = {"console-calendar-holidays-import": "?country=US&years=2026"}
