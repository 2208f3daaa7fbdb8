"""Tenant isolation by construction.

Every tenant-owned model inherits :class:`TenantOwned`: it carries ``tenant`` and is reached through
``Model.objects.for_tenant(tenant)``, which scopes before anything is fetched. A row of tenant A can
never point at a row of tenant B:

* in Python, :func:`check_same_tenant` runs on every save of a tenant-owned row (one place that
  every service goes through) and raises :class:`CrossTenantReference`;
* in PostgreSQL, :func:`same_tenant_foreign_key` adds a composite foreign key
  ``(tenant_id, x_id) → target(tenant_id, id)`` so that even raw SQL cannot create such a row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.migrations import RunPython

if TYPE_CHECKING:
    from .models import Tenant


class CrossTenantReference(ValueError):
    """A tenant-owned row was about to reference a row of another tenant."""


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> Self:
        tenant_id = tenant if isinstance(tenant, int) else tenant.pk
        return self.filter(tenant_id=tenant_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    pass


class TenantOwned(models.Model):
    tenant = models.ForeignKey("helpdesk.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        check_same_tenant(self)
        super().save(*args, **kwargs)


def check_same_tenant(obj: TenantOwned) -> None:
    """Raise CrossTenantReference if any foreign key of ``obj`` points into another tenant.

    Uses the related instance when it is already loaded (the usual case in services) and one
    indexed lookup otherwise.
    """
    for field in obj._meta.concrete_fields:
        if not (field.many_to_one and field.name != "tenant"):
            continue
        related_model = field.related_model
        if not (isinstance(related_model, type) and issubclass(related_model, TenantOwned)):
            continue
        value_id = getattr(obj, field.attname)
        if value_id is None:
            continue
        cache = getattr(field, "is_cached", None)
        cached = field.get_cached_value(obj, default=None) if cache and cache(obj) else None  # type: ignore[attr-defined]
        if cached is not None and cached.pk == value_id:
            tenant_id = cached.tenant_id
        else:
            tenant_id = (
                related_model._base_manager.filter(pk=value_id)
                .values_list("tenant_id", flat=True)
                .first()
            )
        if tenant_id != obj.tenant_id:
            raise CrossTenantReference(
                f"{obj._meta.label}.{field.name} must belong to the same tenant"
            )


def same_tenant_foreign_key(app_label: str, model_name: str, field_name: str) -> RunPython:
    """Migration operation: on PostgreSQL, make ``model.field`` a same-tenant composite FK."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
        target = field.related_model._meta.db_table
        table = model._meta.db_table
        name = f"{table}_{field.column}_same_tenant"[:63]
        qn = schema_editor.quote_name
        schema_editor.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {qn(target + '_tenant_pk')} "
            f"ON {qn(target)} (tenant_id, id)"
        )
        schema_editor.execute(
            f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} FOREIGN KEY "
            f"(tenant_id, {qn(field.column)}) REFERENCES {qn(target)} (tenant_id, id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
        table = model._meta.db_table
        name = f"{table}_{field.column}_same_tenant"[:63]
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} DROP CONSTRAINT IF EXISTS "
            f"{schema_editor.quote_name(name)}"
        )

    return RunPython(forwards, backwards, elidable=False)
