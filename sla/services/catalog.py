"""Writes of the SLA catalog: severities, support packages with their targets, contracts and the
tenant's SLA policy. Every change that can move a clock schedules a recompute."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from channels.webhooks.services import webhook_emit
from helpdesk.configcache import config_changed
from helpdesk.models import Organization, Tenant

from ..models import (
    BusinessCalendar,
    Channel,
    Contract,
    Metric,
    PackageSeverity,
    Severity,
    SLAPolicy,
    SLATarget,
    SupportPackage,
)
from .recompute import contract_changed, package_changed, policy_changed

# --- severities -----------------------------------------------------------------------------


def _check_severity_key(tenant: Tenant | int, key: str, exclude: int | None = None) -> str:
    key = key.strip()
    if not key:
        raise ValidationError({"key": "A key is required."})
    qs = Severity.objects.for_tenant(tenant).filter(key=key)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError({"key": f"A severity with key '{key}' already exists."})
    return key


def severity_create(
    *,
    tenant: Tenant,
    key: str,
    name: str,
    rank: int,
    description: str = "",
    escalation_eligible: bool = True,
) -> Severity:
    """Add a severity to the tenant's catalog. ``key`` is unique per tenant; rank 1 is the most
    severe."""
    if not name.strip():
        raise ValidationError({"name": "A name is required."})
    return Severity.objects.create(
        tenant=tenant,
        key=_check_severity_key(tenant, key),
        name=name.strip(),
        rank=rank,
        description=description,
        escalation_eligible=escalation_eligible,
    )


def severity_update(
    *,
    severity: Severity,
    key: str | None = None,
    name: str | None = None,
    rank: int | None = None,
    description: str | None = None,
    escalation_eligible: bool | None = None,
) -> Severity:
    """Change what is given. Names and descriptions do not move clocks; nothing is recomputed."""
    fields = []
    if key is not None and key != severity.key:
        severity.key = _check_severity_key(severity.tenant_id, key, exclude=severity.pk)
        fields.append("key")
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": "A name is required."})
        severity.name = name.strip()
        fields.append("name")
    for field, value in (
        ("rank", rank),
        ("description", description),
        ("escalation_eligible", escalation_eligible),
    ):
        if value is not None:
            setattr(severity, field, value)
            fields.append(field)
    if fields:
        severity.save(update_fields=fields)
    return severity


def severity_delete(*, severity: Severity) -> None:
    """Delete a severity no ticket, package or target uses (ProtectedError otherwise)."""
    severity.delete()


# --- packages and targets ---------------------------------------------------------------------


class TargetSpec(TypedDict, total=False):
    metric: str
    severity: Severity
    target_minutes: int | None
    target_business_days: int | None
    calendar: BusinessCalendar
    escalation_eligible: bool
    warn_at_percent: int
    condition: str
    condition_calendar: BusinessCalendar | None
    position: int | None


def _check_channels(channels: Sequence[str]) -> list[str]:
    known = set(Channel.values)
    bad = [c for c in channels if c not in known]
    if bad:
        raise ValidationError(
            {"channels": f"Unknown channel(s): {', '.join(bad)}. Use {', '.join(Channel.values)}."}
        )
    return list(dict.fromkeys(channels))


def _check_package_name(tenant: Tenant | int, name: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A name is required."})
    qs = SupportPackage.objects.for_tenant(tenant).filter(name=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError({"name": f"A package named '{name}' already exists."})
    return name


def _same_tenant(tenant_id: int, obj: object, field: str) -> None:
    if obj is not None and getattr(obj, "tenant_id", None) != tenant_id:
        raise ValidationError({field: "Unknown object."})


def _normalise_targets(
    tenant_id: int, severities: Sequence[Severity], targets: Sequence[TargetSpec]
) -> list[TargetSpec]:
    """Validate targets and number them: positions follow the list order within each
    package x severity x metric unless given."""
    covered = {s.pk for s in severities}
    seen: dict[tuple[int, str], set[int]] = {}
    out = []
    for i, spec in enumerate(targets):
        where = f"Target {i + 1}"
        metric, severity = spec.get("metric"), spec.get("severity")
        if metric not in Metric.values:
            raise ValidationError({"targets": f"{where}: unknown metric '{metric}'."})
        if severity is None:
            raise ValidationError({"targets": f"{where}: a severity is required."})
        _same_tenant(tenant_id, severity, "targets")
        if severity.pk not in covered:
            raise ValidationError(
                {"targets": f"{where}: the package does not cover {severity.name}."}
            )
        minutes, days = spec.get("target_minutes"), spec.get("target_business_days")
        if (minutes is None) == (days is None):
            raise ValidationError(
                {"targets": f"{where}: give exactly one of target_minutes, target_business_days."}
            )
        if (minutes is not None and minutes < 1) or (days is not None and days < 1):
            raise ValidationError({"targets": f"{where}: the duration must be positive."})
        calendar = spec.get("calendar")
        if calendar is None:
            raise ValidationError({"targets": f"{where}: a calendar is required."})
        _same_tenant(tenant_id, calendar, "targets")
        warn = spec.get("warn_at_percent", 75)
        if not 1 <= warn <= 100:
            raise ValidationError({"targets": f"{where}: warn_at_percent must be 1-100."})
        condition = spec.get("condition", "") or ""
        condition_calendar = spec.get("condition_calendar")
        if condition not in SLATarget.Condition.values:
            raise ValidationError({"targets": f"{where}: unknown condition '{condition}'."})
        if bool(condition) != (condition_calendar is not None):
            raise ValidationError(
                {"targets": f"{where}: a condition needs a calendar, and only a condition does."}
            )
        _same_tenant(tenant_id, condition_calendar, "targets")
        used = seen.setdefault((severity.pk, metric), set())
        position = spec.get("position")
        if position is None:
            position = max(used, default=-1) + 1
        if position in used:
            raise ValidationError({"targets": f"{where}: position {position} is taken."})
        used.add(position)
        out.append(
            TargetSpec(
                metric=metric,
                severity=severity,
                target_minutes=minutes,
                target_business_days=days,
                calendar=calendar,
                escalation_eligible=spec.get("escalation_eligible", True),
                warn_at_percent=warn,
                condition=condition,
                condition_calendar=condition_calendar,
                position=position,
            )
        )
    return out


def _write_targets(package: SupportPackage, targets: list[TargetSpec]) -> None:
    """Replace the package's targets, keeping the rows (and so the clocks' links) of targets
    whose severity, metric and position stay."""
    existing = {
        (t.severity_id, t.metric, t.position): t for t in SLATarget.objects.filter(package=package)
    }
    keep = set()
    for spec in targets:
        key = (spec["severity"].pk, spec["metric"], spec["position"])
        target = existing.get(key) or SLATarget(tenant_id=package.tenant_id, package=package)
        for field in (
            "metric",
            "severity",
            "target_minutes",
            "target_business_days",
            "calendar",
            "escalation_eligible",
            "warn_at_percent",
            "condition",
            "condition_calendar",
            "position",
        ):
            setattr(target, field, spec.get(field))
        target.save()
        keep.add(target.pk)
    SLATarget.objects.filter(package=package).exclude(pk__in=keep).delete()


def _write_coverage(package: SupportPackage, severities: Sequence[Severity]) -> None:
    config_changed(package.tenant_id)  # bulk_create sends no signal
    wanted = {s.pk for s in severities}
    PackageSeverity.objects.filter(package=package).exclude(severity_id__in=wanted).delete()
    have = set(
        PackageSeverity.objects.filter(package=package).values_list("severity_id", flat=True)
    )
    PackageSeverity.objects.bulk_create(
        PackageSeverity(tenant_id=package.tenant_id, package=package, severity_id=pk)
        for pk in sorted(wanted - have)
    )


@transaction.atomic
def package_create(
    *,
    tenant: Tenant,
    name: str,
    description: str = "",
    channels: Sequence[str] = (),
    severities: Sequence[Severity] = (),
    targets: Sequence[TargetSpec] = (),
) -> SupportPackage:
    """Create a package with the severities it covers and its targets (each target's severity
    must be covered). Raises ValidationError naming the field."""
    for severity in severities:
        _same_tenant(tenant.pk, severity, "severities")
    specs = _normalise_targets(tenant.pk, severities, targets)
    package = SupportPackage.objects.create(
        tenant=tenant,
        name=_check_package_name(tenant, name),
        description=description,
        channels=_check_channels(channels),
    )
    _write_coverage(package, severities)
    _write_targets(package, specs)
    return package


@transaction.atomic
def package_update(
    *,
    package: SupportPackage,
    name: str | None = None,
    description: str | None = None,
    channels: Sequence[str] | None = None,
    severities: Sequence[Severity] | None = None,
    targets: Sequence[TargetSpec] | None = None,
) -> SupportPackage:
    """Change what is given (``severities`` and ``targets`` replace the lists). A change of
    coverage or targets recomputes the tenant's open tickets."""
    package = SupportPackage.objects.select_for_update().get(pk=package.pk)
    fields = []
    if name is not None and name.strip() != package.name:
        package.name = _check_package_name(package.tenant_id, name, exclude=package.pk)
        fields.append("name")
    if description is not None:
        package.description = description
        fields.append("description")
    if channels is not None:
        package.channels = _check_channels(channels)
        fields.append("channels")
    if fields:
        package.save(update_fields=fields)
    if severities is None and targets is None:
        return package
    if severities is None:
        severities = list(package.severities.all())
    for severity in severities:
        _same_tenant(package.tenant_id, severity, "severities")
    if targets is None:
        kept = [t for t in SLATarget.objects.filter(package=package) if t.severity_id]
        covered = {s.pk for s in severities}
        if any(t.severity_id not in covered for t in kept):
            raise ValidationError(
                {"severities": "Some targets are for severities no longer covered: send targets."}
            )
    else:
        specs = _normalise_targets(package.tenant_id, severities, targets)
        _write_targets(package, specs)
    _write_coverage(package, severities)
    package_changed(tenant=package.tenant)
    return package


@transaction.atomic
def package_delete(*, package: SupportPackage) -> None:
    """Delete a package no contract or policy uses (ProtectedError otherwise)."""
    tenant = package.tenant
    package.delete()
    package_changed(tenant=tenant)


# --- contracts ----------------------------------------------------------------------------------


def _check_contract(
    *,
    tenant_id: int,
    organization: Organization,
    package: SupportPackage,
    starts_on: dt.date,
    ends_on: dt.date | None,
    exclude: int | None = None,
) -> None:
    _same_tenant(tenant_id, organization, "organization")
    _same_tenant(tenant_id, package, "package")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": "A contract cannot end before it starts."})
    # Serialise contract writes per organization so two overlapping contracts cannot both pass.
    Organization.objects.select_for_update().filter(pk=organization.pk).first()
    overlapping = Contract.objects.for_tenant(tenant_id).filter(organization=organization)
    if ends_on is not None:
        overlapping = overlapping.filter(starts_on__lte=ends_on)
    overlapping = overlapping.exclude(ends_on__lt=starts_on)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude)
    other = overlapping.first()
    if other is not None:
        until = other.ends_on.isoformat() if other.ends_on else "open-ended"
        raise ValidationError(
            {
                "starts_on": f"Overlaps contract {other.pk} ({other.starts_on.isoformat()} to "
                f"{until}): an organization holds one contract at a time."
            }
        )


@transaction.atomic
def contract_create(
    *,
    tenant: Tenant,
    organization: Organization,
    package: SupportPackage,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
) -> Contract:
    """Give ``organization`` ``package`` from ``starts_on`` to ``ends_on`` (inclusive; open when
    None). Refuses a range overlapping another contract of the organization. Recomputes the
    organization's open tickets."""
    _check_contract(
        tenant_id=tenant.pk,
        organization=organization,
        package=package,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    contract = Contract.objects.create(
        tenant=tenant,
        organization=organization,
        package=package,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    contract_changed(organization=organization)
    _contract_event(contract, "created")
    return contract


@transaction.atomic
def contract_update(
    *,
    contract: Contract,
    package: SupportPackage | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    clear_ends_on: bool = False,
) -> Contract:
    """Change package or dates (``clear_ends_on`` makes it open-ended). Same checks and
    recompute as ``contract_create``."""
    contract.package = package or contract.package
    contract.starts_on = starts_on or contract.starts_on
    if clear_ends_on:
        contract.ends_on = None
    elif ends_on is not None:
        contract.ends_on = ends_on
    _check_contract(
        tenant_id=contract.tenant_id,
        organization=contract.organization,
        package=contract.package,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        exclude=contract.pk,
    )
    contract.save(update_fields=["package", "starts_on", "ends_on"])
    contract_changed(organization=contract.organization)
    _contract_event(contract, "updated")
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract) -> None:
    organization = contract.organization
    _contract_event(contract, "deleted")  # while it still has its id
    contract.delete()
    contract_changed(organization=organization)


def _contract_event(contract: Contract, change: str) -> None:
    """The ``contract.changed`` webhook of a contract created, updated or deleted, recorded in
    the change's transaction (sent once it commits; a rollback sends nothing)."""
    webhook_emit(
        tenant=contract.tenant_id,
        event="contract.changed",
        payload={
            "change": change,
            "contract": {
                "id": contract.pk,
                "organization": contract.organization_id,
                "package": contract.package_id,
                "starts_on": contract.starts_on,
                "ends_on": contract.ends_on,
            },
        },
    )


# --- the tenant's SLA policy ---------------------------------------------------------------------


def sla_policy_get_or_create(*, tenant: Tenant) -> SLAPolicy:
    policy, _ = SLAPolicy.objects.for_tenant(tenant).get_or_create(tenant=tenant)
    return policy


@transaction.atomic
def sla_policy_update(
    *,
    tenant: Tenant,
    no_contract_rule: str | None = None,
    default_package: SupportPackage | None = None,
    no_contract_note: str | None = None,
    pause_on_hold: bool | None = None,
    description: str | None = None,
) -> SLAPolicy:
    """Change the tenant's SLA settings. The ``default_package`` rule needs a package; the
    ``none`` rule drops it. Recomputes the tenant's open tickets when a rule changes."""
    policy = sla_policy_get_or_create(tenant=tenant)
    before = (
        policy.no_contract_rule,
        policy.default_package_id,
        policy.pause_on_hold,
        policy.no_contract_note,
    )
    if no_contract_rule is not None:
        if no_contract_rule not in SLAPolicy.NoContractRule.values:
            raise ValidationError({"no_contract_rule": f"Unknown rule '{no_contract_rule}'."})
        policy.no_contract_rule = no_contract_rule
    if default_package is not None:
        _same_tenant(tenant.pk, default_package, "default_package")
        policy.default_package = default_package
    if policy.no_contract_rule == SLAPolicy.NoContractRule.NONE:
        policy.default_package = None
    elif policy.default_package is None:
        raise ValidationError(
            {"default_package": "The default-package rule needs a default package."}
        )
    if no_contract_note is not None:
        policy.no_contract_note = no_contract_note
    if pause_on_hold is not None:
        policy.pause_on_hold = pause_on_hold
    if description is not None:
        policy.description = description
    policy.updated_at = timezone.now()
    policy.save()
    after = (
        policy.no_contract_rule,
        policy.default_package_id,
        policy.pause_on_hold,
        policy.no_contract_note,
    )
    if after != before:
        policy_changed(tenant=tenant)
    return policy
