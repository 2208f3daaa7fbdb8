"""A policy template as data, and the one loader that turns it into a tenant's configuration
through the SLA services (so a template is validated like an admin's API call)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk.models import Organization, Tenant

from ..models import BusinessCalendar, Severity, SLAPolicy, SupportPackage
from ..services import (
    TargetSpec,
    calendar_create,
    contract_create,
    package_create,
    severity_create,
    sla_policy_update,
)

WEEKDAYS_MON_FRI = range(5)
EVERY_DAY = range(7)


def hours(days: Sequence[int] | range, start: str, end: str) -> tuple[tuple[int, str, str], ...]:
    return tuple((d, start, end) for d in days)


@dataclass(frozen=True)
class CalendarDef:
    name: str
    timezone: str | None  # None: the tenant's own time zone
    hours: tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class SeverityDef:
    key: str
    name: str
    rank: int
    description: str
    escalation_eligible: bool = True


@dataclass(frozen=True)
class TargetDef:
    severity: str  # key
    metric: str
    calendar: str  # name
    minutes: int | None = None
    business_days: int | None = None
    condition: str = ""
    condition_calendar: str | None = None
    escalation_eligible: bool | None = None  # None: the severity's
    warn_at_percent: int = 75


@dataclass(frozen=True)
class PackageDef:
    name: str
    description: str
    channels: tuple[str, ...]
    severities: tuple[str, ...]
    targets: tuple[TargetDef, ...]


@dataclass(frozen=True)
class PolicyTemplate:
    name: str
    description: str
    calendars: tuple[CalendarDef, ...]
    severities: tuple[SeverityDef, ...]
    packages: tuple[PackageDef, ...]
    no_contract_rule: str
    default_package: str | None = None
    no_contract_note: str = ""
    pause_on_hold: bool = False
    # What belongs to other parts of the desk (teams, product areas, ticket types ...): kept
    # here as data until those models exist.
    data: dict[str, Any] = field(default_factory=dict)
    # Demo tenants: organization index (0, 1) -> package name.
    demo_contracts: tuple[tuple[int, str], ...] = ()

    def __call__(self, tenant: Tenant) -> None:
        self.load(tenant)

    @transaction.atomic
    def load(self, tenant: Tenant) -> bool:
        """Load into ``tenant``. Loading the same template again changes nothing and returns
        False; a tenant that already has other SLA configuration is refused (ValidationError)."""
        policy = SLAPolicy.objects.for_tenant(tenant).select_for_update().first()
        if policy is not None and policy.template == self.name:
            return False
        if policy is not None and policy.template:
            raise ValidationError(
                {"template": f"This tenant already uses the '{policy.template}' template."}
            )
        if (
            BusinessCalendar.objects.for_tenant(tenant).exists()
            or Severity.objects.for_tenant(tenant).exists()
            or SupportPackage.objects.for_tenant(tenant).exists()
        ):
            raise ValidationError(
                {"template": "This tenant already has calendars, severities or packages."}
            )
        calendars = {
            c.name: calendar_create(
                tenant=tenant,
                name=c.name,
                timezone=c.timezone or tenant.time_zone or "UTC",
                hours=[{"weekday": d, "start": s, "end": e} for d, s, e in c.hours],
            )
            for c in self.calendars
        }
        severities = {
            s.key: severity_create(
                tenant=tenant,
                key=s.key,
                name=s.name,
                rank=s.rank,
                description=s.description,
                escalation_eligible=s.escalation_eligible,
            )
            for s in self.severities
        }
        eligible = {s.key: s.escalation_eligible for s in self.severities}
        packages = {}
        for p in self.packages:
            targets = [
                TargetSpec(
                    metric=t.metric,
                    severity=severities[t.severity],
                    target_minutes=t.minutes,
                    target_business_days=t.business_days,
                    calendar=calendars[t.calendar],
                    escalation_eligible=(
                        eligible[t.severity]
                        if t.escalation_eligible is None
                        else t.escalation_eligible
                    ),
                    warn_at_percent=t.warn_at_percent,
                    condition=t.condition,
                    condition_calendar=(
                        calendars[t.condition_calendar] if t.condition_calendar else None
                    ),
                )
                for t in p.targets
            ]
            packages[p.name] = package_create(
                tenant=tenant,
                name=p.name,
                description=p.description,
                channels=p.channels,
                severities=[severities[k] for k in p.severities],
                targets=targets,
            )
        policy = sla_policy_update(
            tenant=tenant,
            no_contract_rule=self.no_contract_rule,
            default_package=packages[self.default_package] if self.default_package else None,
            no_contract_note=self.no_contract_note,
            pause_on_hold=self.pause_on_hold,
            description=self.description,
        )
        policy.template = self.name
        policy.save(update_fields=["template"])
        # The ticket side of the seed (types, impacts, product areas, teams, routing): tickets
        # owns those catalogs, so it reads what it needs from ``data``.
        from tickets.catalog_templates import catalog_template_load

        catalog_template_load(tenant=tenant, template=self.name, data=self.data)
        return True

    def load_demo_contracts(self, tenant: Tenant, organizations: Sequence[Organization]) -> None:
        """Give the demo organizations the contracts listed in ``demo_contracts`` (once)."""
        today = dt.date.today()
        for index, package_name in self.demo_contracts:
            organization = organizations[index]
            if organization.contracts.exists():
                continue
            package = SupportPackage.objects.for_tenant(tenant).get(name=package_name)
            contract_create(
                tenant=tenant,
                organization=organization,
                package=package,
                starts_on=today.replace(month=1, day=1) - dt.timedelta(days=365),
            )
