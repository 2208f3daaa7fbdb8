"""Writes of the ticket catalogs (priorities, types, business impacts, product areas, custom
fields, the priority matrix, ticket settings), and the two rules tickets take from them: custom
field values checked against the catalog, and the default priority from the matrix."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk import configcache
from helpdesk.configcache import config_changed
from helpdesk.models import Tenant
from sla.models import Severity

from ..models import (
    BusinessImpact,
    CustomField,
    CustomFieldTicketType,
    Priority,
    PriorityMatrixEntry,
    ProductArea,
    Team,
    TicketSettings,
    TicketType,
)

M = TypeVar("M", bound=models.Model)
TEXT_MAX = 2000


def check_tenant(tenant: Tenant | int, **rows: models.Model | None) -> None:
    """Every given row belongs to ``tenant`` (else a ValidationError naming the field: another
    tenant's row is, from here, a row that does not exist)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    errors = {
        name: "Unknown value."
        for name, row in rows.items()
        if row is not None and getattr(row, "tenant_id", None) != tenant_id
    }
    if errors:
        raise ValidationError(errors)


def _key(model: type[models.Model], tenant: Tenant | int, key: str, exclude: int | None) -> str:
    key = (key or "").strip()
    if not key:
        raise ValidationError({"key": "A key is required."})
    qs = model._default_manager.filter(tenant=tenant, key=key)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationError({"key": f"'{key}' is already used."})
    return key


def _text(name: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({name: "This field is required."})
    return value


def _create(model: type[M], tenant: Tenant, **values: Any) -> M:
    if "key" in values:
        values["key"] = _key(model, tenant, values["key"], None)
    row = model(tenant=tenant, **values)
    row.save()
    return row


def _update(row: M, **values: Any) -> M:
    """Set the given (not None) values and save just those fields."""
    changed = []
    for name, value in values.items():
        if value is None:
            continue
        if name == "key":
            value = _key(type(row), row.tenant_id, value, row.pk)  # type: ignore[attr-defined]
        if name in ("name", "label"):
            value = _text(name, value)
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    if changed:
        row.save(update_fields=changed)
    return row


def catalog_delete(*, row: models.Model) -> None:
    """Delete a catalog row. One that tickets still use raises ``RestrictedError`` (the API
    answers 409)."""
    row.delete()


# --- priorities, types, impacts, areas ---------------------------------------------------------


def priority_create(*, tenant: Tenant, key: str, name: str, rank: int) -> Priority:
    return _create(Priority, tenant, key=key, name=_text("name", name), rank=rank)


def priority_update(
    *, priority: Priority, key: str | None = None, name: str | None = None, rank: int | None = None
) -> Priority:
    return _update(priority, key=key, name=name, rank=rank)


def ticket_type_create(
    *,
    tenant: Tenant,
    key: str,
    name: str,
    description: str = "",
    form_hints: str = "",
    is_emergency: bool = False,
    pages_on_call_out_of_hours: bool = False,
    position: int = 0,
) -> TicketType:
    return _create(
        TicketType,
        tenant,
        key=key,
        name=_text("name", name),
        description=description,
        form_hints=form_hints,
        is_emergency=is_emergency,
        pages_on_call_out_of_hours=pages_on_call_out_of_hours,
        position=position,
    )


def ticket_type_update(*, ticket_type: TicketType, **values: Any) -> TicketType:
    """Change what is given (key, name, description, form_hints, is_emergency,
    pages_on_call_out_of_hours, position)."""
    allowed = {
        "key",
        "name",
        "description",
        "form_hints",
        "is_emergency",
        "pages_on_call_out_of_hours",
        "position",
    }
    return _update(ticket_type, **{k: v for k, v in values.items() if k in allowed})


def business_impact_create(
    *, tenant: Tenant, key: str, name: str, rank: int, requires_text: bool = False
) -> BusinessImpact:
    return _create(
        BusinessImpact,
        tenant,
        key=key,
        name=_text("name", name),
        rank=rank,
        requires_text=requires_text,
    )


def business_impact_update(
    *,
    business_impact: BusinessImpact,
    key: str | None = None,
    name: str | None = None,
    rank: int | None = None,
    requires_text: bool | None = None,
) -> BusinessImpact:
    return _update(business_impact, key=key, name=name, rank=rank, requires_text=requires_text)


def product_area_create(
    *, tenant: Tenant, key: str, name: str, team: Team | None = None
) -> ProductArea:
    check_tenant(tenant, team=team)
    return _create(ProductArea, tenant, key=key, name=_text("name", name), team=team)


def product_area_update(
    *,
    product_area: ProductArea,
    key: str | None = None,
    name: str | None = None,
    team: Team | None = None,
    clear_team: bool = False,
) -> ProductArea:
    check_tenant(product_area.tenant_id, team=team)
    _update(product_area, key=key, name=name)
    if clear_team and product_area.team_id is not None:
        product_area.team = None
        product_area.save(update_fields=["team"])
    elif team is not None and product_area.team_id != team.pk:
        product_area.team = team
        product_area.save(update_fields=["team"])
    return product_area


# --- custom fields ----------------------------------------------------------------------------


def _options(kind: str, options: Iterable[Any] | None) -> list[dict[str, str]]:
    """Options as ``[{"value", "label"}]`` (plain strings are both value and label)."""
    out: list[dict[str, str]] = []
    for option in options or []:
        if isinstance(option, str):
            value, label = option, option
        elif isinstance(option, Mapping) and str(option.get("value", "")).strip():
            value = str(option["value"])
            label = str(option.get("label") or value)
        else:
            raise ValidationError({"options": "Each option is a string or {value, label}."})
        value = value.strip()
        if not value or any(o["value"] == value for o in out):
            raise ValidationError({"options": f"Option values must be unique: '{value}'."})
        out.append({"value": value, "label": label.strip() or value})
    if kind == CustomField.Kind.SELECT and not out:
        raise ValidationError({"options": "A select field needs at least one option."})
    if kind != CustomField.Kind.SELECT and out:
        raise ValidationError({"options": "Only select fields have options."})
    return out


def _set_field_types(field: CustomField, ticket_types: Sequence[TicketType]) -> None:
    for ticket_type in ticket_types:
        if ticket_type.tenant_id != field.tenant_id:
            raise ValidationError({"ticket_types": "Unknown ticket type."})
    config_changed(field.tenant_id)  # bulk_create sends no signal
    CustomFieldTicketType.objects.filter(custom_field=field).delete()
    CustomFieldTicketType.objects.bulk_create(
        [
            CustomFieldTicketType(tenant_id=field.tenant_id, custom_field=field, ticket_type=t)
            for t in dict.fromkeys(ticket_types)
        ]
    )


@transaction.atomic
def custom_field_create(
    *,
    tenant: Tenant,
    key: str,
    label: str,
    kind: str,
    options: Iterable[Any] | None = None,
    required: bool = False,
    help_text: str = "",
    position: int = 0,
    ticket_types: Sequence[TicketType] = (),
) -> CustomField:
    """A tenant's custom ticket field; ``ticket_types`` empty means every type."""
    if kind not in CustomField.Kind.values:
        raise ValidationError({"kind": f"One of: {', '.join(CustomField.Kind.values)}."})
    field = _create(
        CustomField,
        tenant,
        key=key,
        label=_text("label", label),
        kind=kind,
        options=_options(kind, options),
        required=required,
        help_text=help_text,
        position=position,
    )
    _set_field_types(field, ticket_types)
    return field


@transaction.atomic
def custom_field_update(
    *,
    custom_field: CustomField,
    key: str | None = None,
    label: str | None = None,
    kind: str | None = None,
    options: Iterable[Any] | None = None,
    required: bool | None = None,
    help_text: str | None = None,
    position: int | None = None,
    ticket_types: Sequence[TicketType] | None = None,
) -> CustomField:
    """Change what is given. Values already on tickets are kept as they are (they are checked
    again when a ticket's custom fields are next changed)."""
    if kind is not None and kind not in CustomField.Kind.values:
        raise ValidationError({"kind": f"One of: {', '.join(CustomField.Kind.values)}."})
    new_kind = kind or custom_field.kind
    if options is not None:
        new_options = _options(new_kind, options)
    elif kind is not None and kind != custom_field.kind:
        keep = custom_field.options if new_kind == CustomField.Kind.SELECT else []
        new_options = _options(new_kind, keep)
    else:
        new_options = custom_field.options
    _update(
        custom_field,
        key=key,
        label=label,
        kind=kind,
        required=required,
        help_text=help_text,
        position=position,
    )
    if new_options != custom_field.options:
        custom_field.options = new_options
        custom_field.save(update_fields=["options"])
    if ticket_types is not None:
        _set_field_types(custom_field, ticket_types)
    return custom_field


def custom_fields_for(*, tenant: Tenant | int, ticket_type: TicketType | None) -> list[CustomField]:
    """The custom fields that apply to tickets of ``ticket_type`` (fields without types apply
    to every ticket, including one without a type)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk

    def load() -> list[tuple[CustomField, frozenset[int]]]:
        fields = CustomField.objects.for_tenant(tenant_id).prefetch_related("ticket_types")
        return [(f, frozenset(t.pk for t in f.ticket_types.all())) for f in fields]

    return [
        field
        for field, type_ids in configcache.cached(tenant_id, "custom_fields", load)
        if not type_ids or (ticket_type is not None and ticket_type.pk in type_ids)
    ]


def _clean_value(field: CustomField, value: Any) -> Any:
    kind = field.kind
    if kind == CustomField.Kind.SELECT:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError("Choose one of: " + ", ".join(field.option_values) + ".")
        if str(value) not in field.option_values:
            raise ValueError("Choose one of: " + ", ".join(field.option_values) + ".")
        return str(value)
    if kind == CustomField.Kind.TEXT:
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError("Enter text.")
        if len(value) > TEXT_MAX:
            raise ValueError(f"At most {TEXT_MAX} characters.")
        return value.strip()
    if kind == CustomField.Kind.NUMBER:
        if isinstance(value, str):
            try:
                value = int(value) if value.strip().lstrip("-").isdigit() else float(value)
            except ValueError:
                raise ValueError("Enter a number.") from None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError("Enter a number.")
        return value
    if kind == CustomField.Kind.DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat() if isinstance(value, str) else None
        except ValueError:
            pass
        raise ValueError("Enter a date as YYYY-MM-DD.")
    raise ValueError("Unknown field kind.")


def custom_fields_clean(
    *, tenant: Tenant | int, ticket_type: TicketType | None, values: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``values`` checked against the catalog for ``ticket_type``. Unknown keys (or keys of
    fields that do not apply to the type), values of the wrong kind, options not in the list
    and missing required fields raise a ValidationError naming ``custom_fields.<key>``. Empty
    values of optional fields are dropped."""
    if values is not None and not isinstance(values, Mapping):
        raise ValidationError({"custom_fields": "An object of field key → value."})
    values = dict(values or {})
    fields = {f.key: f for f in custom_fields_for(tenant=tenant, ticket_type=ticket_type)}
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for key in values:
        if key not in fields:
            errors[f"custom_fields.{key}"] = "Unknown field for this ticket type."
    for key, field in fields.items():
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                errors[f"custom_fields.{key}"] = "This field is required."
            continue
        try:
            cleaned[key] = _clean_value(field, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- the priority matrix ----------------------------------------------------------------------


def priority_default(
    *, tenant: Tenant | int, severity: Severity | None, business_impact: BusinessImpact | None
) -> Priority | None:
    """The matrix's priority for severity x impact: the exact cell, else the severity's row for
    any impact, else none."""
    if severity is None:
        return None
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    impact_q = Q(business_impact__isnull=True)
    if business_impact is not None:
        impact_q |= Q(business_impact=business_impact)

    def load() -> Priority | None:
        entries = list(
            PriorityMatrixEntry.objects.for_tenant(tenant_id)
            .filter(impact_q, severity=severity)
            .select_related("priority")
        )
        entries.sort(key=lambda e: e.business_impact_id is None)
        return entries[0].priority if entries else None

    impact_id = business_impact.pk if business_impact is not None else None
    return configcache.cached_row(tenant_id, ("priority", severity.pk, impact_id), load)


def priority_matrix_set(
    *,
    tenant: Tenant,
    severity: Severity,
    business_impact: BusinessImpact | None,
    priority: Priority | None,
) -> PriorityMatrixEntry | None:
    """Set (or, with ``priority=None``, clear) one cell. Tickets keep their priority; new and
    re-classified tickets get the new default."""
    check_tenant(tenant, severity=severity, business_impact=business_impact, priority=priority)
    cell = PriorityMatrixEntry.objects.for_tenant(tenant).filter(
        severity=severity, business_impact=business_impact
    )
    if priority is None:
        cell.delete()
        return None
    entry = cell.first()
    if entry is None:
        return PriorityMatrixEntry.objects.create(
            tenant=tenant, severity=severity, business_impact=business_impact, priority=priority
        )
    if entry.priority_id != priority.pk:
        entry.priority = priority
        entry.save(update_fields=["priority"])
    return entry


# --- settings ---------------------------------------------------------------------------------


def ticket_settings_for(*, tenant: Tenant | int) -> TicketSettings:
    """The tenant's settings row, or an unsaved one with the defaults."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    found = TicketSettings.objects.for_tenant(tenant_id).first()
    return found or TicketSettings(tenant_id=tenant_id)


def ticket_settings_update(
    *,
    tenant: Tenant,
    max_attachment_bytes: int | None = None,
    allowed_content_types: Sequence[str] | None = None,
) -> TicketSettings:
    settings, _ = TicketSettings.objects.for_tenant(tenant).get_or_create(tenant=tenant)
    if max_attachment_bytes is not None:
        if max_attachment_bytes < 1:
            raise ValidationError({"max_attachment_bytes": "Must be positive."})
        settings.max_attachment_bytes = max_attachment_bytes
    if allowed_content_types is not None:
        settings.allowed_content_types = sorted(
            {t.strip().lower() for t in allowed_content_types if t.strip()}
        )
    settings.updated_at = timezone.now()
    settings.save()
    return settings
