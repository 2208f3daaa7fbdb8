"""Writes of the SLA engine (a package: calendars, catalog, recompute scheduling). The clock
events live in :mod:`sla.clocks`."""

from .calendars import (
    HolidaySpec,
    HoursSpec,
    calendar_create,
    calendar_delete,
    calendar_holidays_import,
    calendar_holidays_preview,
    calendar_update,
)
from .catalog import (
    TargetSpec,
    contract_create,
    contract_delete,
    contract_update,
    package_create,
    package_delete,
    package_update,
    severity_create,
    severity_delete,
    severity_update,
    sla_policy_get_or_create,
    sla_policy_update,
)
from .recompute import (
    calendar_changed,
    contract_changed,
    package_changed,
    policy_changed,
    sla_recompute_schedule,
)

__all__ = [
    "HolidaySpec",
    "HoursSpec",
    "TargetSpec",
    "calendar_changed",
    "calendar_create",
    "calendar_delete",
    "calendar_holidays_import",
    "calendar_holidays_preview",
    "calendar_update",
    "contract_changed",
    "contract_create",
    "contract_delete",
    "contract_update",
    "package_changed",
    "package_create",
    "package_delete",
    "package_update",
    "policy_changed",
    "severity_create",
    "severity_delete",
    "severity_update",
    "sla_policy_get_or_create",
    "sla_policy_update",
    "sla_recompute_schedule",
]
