"""Writes of the escalation configuration: the tenant's policy and levels, the on-call roster."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from channels.notifications.services import on_commit_robust
from helpdesk.models import Membership, Tenant

from ..models import EscalationPolicy, EscalationRole, EscalationRule, NoticeChannel, OnCallEntry
from .paging import validate_on_call
from .rules import DEFAULT_LEVELS, rules_forget

POLICY_FIELDS = (
    "distribution_emails",
    "quiet_hours_enabled",
    "quiet_hours_start",
    "quiet_hours_end",
    "urgent_max_rank",
    "repage_minutes",
    "max_pages",
    "customer_escalation_enabled",
)


def escalation_policy_get(*, tenant: Tenant) -> tuple[EscalationPolicy, list[EscalationRule]]:
    """The tenant's policy and levels; defaults (unsaved) where it has none."""
    policy = EscalationPolicy.objects.for_tenant(tenant).first() or EscalationPolicy(tenant=tenant)
    rules = list(EscalationRule.objects.for_tenant(tenant).order_by("level"))
    if not rules:
        rules = [
            EscalationRule(
                tenant=tenant,
                level=lv.level,
                offset_minutes=lv.offset_minutes,
                recipients=list(lv.recipients),
                channels=list(lv.channels),
                metrics=list(lv.metrics),
            )
            for lv in DEFAULT_LEVELS
        ]
    return policy, rules


def _validate_levels(levels: Sequence[dict[str, Any]]) -> None:
    errors: list[str] = []
    seen: set[int] = set()
    if len(levels) > 21:
        errors.append("At most 21 levels (the warning and 20 escalation levels).")
    for i, spec in enumerate(levels):
        level = spec.get("level")
        if not isinstance(level, int) or level < 0 or level > 20:
            errors.append(f"levels[{i}]: level must be 0 (warning) to 20.")
            continue
        if level in seen:
            errors.append(f"levels[{i}]: level {level} is listed twice.")
        seen.add(level)
        if level == 0 and spec.get("offset_minutes", 0):
            errors.append("levels: the warning (level 0) fires at the target's warning share.")
        bad_roles = set(spec.get("recipients", [])) - set(EscalationRole.values)
        if bad_roles:
            errors.append(f"levels[{i}]: unknown recipients {sorted(bad_roles)}.")
        bad_channels = set(spec.get("channels", [])) - set(NoticeChannel.values)
        if bad_channels:
            errors.append(f"levels[{i}]: unknown channels {sorted(bad_channels)}.")
    if errors:
        raise ValidationError({"levels": errors})


@transaction.atomic
def escalation_policy_update(
    *, tenant: Tenant, levels: Sequence[dict[str, Any]] | None = None, **fields: Any
) -> EscalationPolicy:
    """Update the tenant's escalation settings (``POLICY_FIELDS``) and, when given, replace its
    levels (each ``{"level", "offset_minutes", "recipients", "channels", "metrics",
    "active"}``). Open clocks' alarms are recomputed after commit when the levels change."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown setting." for name in unknown})
    policy, _ = EscalationPolicy.objects.get_or_create(tenant=tenant)
    for name, value in fields.items():
        setattr(policy, name, value)
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if not (0 <= start <= 1440 and 0 <= end <= 1440):
        raise ValidationError({"quiet_hours_start": "Minutes run from 0 to 1440."})
    if policy.repage_minutes < 1:
        raise ValidationError({"repage_minutes": "At least one minute."})
    policy.distribution_emails = [str(e).strip().lower() for e in policy.distribution_emails]
    policy.updated_at = timezone.now()
    policy.save()
    if levels is not None:
        _validate_levels(levels)
        EscalationRule.objects.for_tenant(tenant).delete()
        EscalationRule.objects.bulk_create(
            [
                EscalationRule(
                    tenant=tenant,
                    level=spec["level"],
                    offset_minutes=spec.get("offset_minutes", 0) if spec["level"] else 0,
                    recipients=list(spec.get("recipients", [])),
                    channels=list(spec.get("channels", [])) or ["email", "inapp"],
                    metrics=list(spec.get("metrics", [])),
                    active=spec.get("active", True),
                )
                for spec in levels
            ]
        )
        from ..tasks import rearm_alarms  # tasks import services, not back

        on_commit_robust(rearm_alarms.delay, tenant.pk)
    rules_forget(tenant.pk)
    return policy


def on_call_entry_create(
    *,
    tenant: Tenant,
    membership: Membership,
    weekdays: Sequence[int] = (),
    start_minute: int = 0,
    end_minute: int = 1440,
    pager_address: str = "",
) -> OnCallEntry:
    """Put a staff member on call (every day by default)."""
    if membership.tenant_id != tenant.pk or not membership.is_staff_member:
        raise ValidationError({"membership": "Only the tenant's agents and admins go on call."})
    validate_on_call(weekdays=list(weekdays), start_minute=start_minute, end_minute=end_minute)
    return OnCallEntry.objects.create(
        tenant=tenant,
        membership=membership,
        weekdays=sorted(set(weekdays)),
        start_minute=start_minute,
        end_minute=end_minute,
        pager_address=pager_address,
    )


def on_call_entry_update(*, entry: OnCallEntry, **fields: Any) -> OnCallEntry:
    allowed = {"weekdays", "start_minute", "end_minute", "pager_address", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: "Unknown field." for name in unknown})
    for name, value in fields.items():
        setattr(entry, name, value)
    validate_on_call(
        weekdays=list(entry.weekdays), start_minute=entry.start_minute, end_minute=entry.end_minute
    )
    entry.save(update_fields=list(fields) or None)
    return entry


def on_call_entry_delete(*, entry: OnCallEntry) -> None:
    entry.delete()
