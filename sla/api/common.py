"""Pieces the SLA API (and the ticket API) share: instants with offsets, tenant-scoped primary
keys, role-by-method permissions, 409 for rows still in use."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission

from helpdesk import configcache
from helpdesk.api.permissions import IsTenantAdmin

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass

    PermissionClasses: TypeAlias = Sequence[_PermissionClass]

_PLUS_AS_SPACE = re.compile(r"^(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The resource is in use."
    default_code = "conflict"


@extend_schema_field(OpenApiTypes.DATETIME)
class InstantField(serializers.Field):
    """An ISO 8601 date-time that must carry a UTC offset ("Z" or "+01:00"). A "+" turned into
    a space by an unencoded query string is read back as "+"."""

    default_error_messages = {
        "invalid": "Not an ISO 8601 date-time (e.g. 2026-03-02T09:00:00+01:00).",
        "naive": "Give a UTC offset (e.g. 2026-03-02T09:00:00+01:00 or 2026-03-02T08:00:00Z).",
    }

    def to_internal_value(self, data: Any) -> dt.datetime:
        text = str(data).strip()
        match = _PLUS_AS_SPACE.match(text)
        if match:
            text = f"{match.group(1)}+{match.group(2)}"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        if not 1900 <= value.year <= 2200:
            self.fail("invalid")
        return value

    def to_representation(self, value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).isoformat()


@extend_schema_field(OpenApiTypes.INT)
class TenantPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key among the request tenant's rows of ``model``: another tenant's id reads as
    an id that does not exist (400 naming the field)."""

    def __init__(self, model: type[Model], **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        tenant = self.context["tenant"]
        return self.model._default_manager.filter(tenant=tenant)

    def to_internal_value(self, data: Any) -> Any:
        # A configuration row (a catalog entry, an organization…) named by a JSON integer comes
        # from memory while the tenant's configuration is unchanged (helpdesk.configcache).
        if type(data) is not int or not configcache.is_watched(self.model):
            return super().to_internal_value(data)
        tenant = self.context["tenant"]
        row = configcache.cached_row(
            tenant.pk,
            ("pk", self.model._meta.label, data),
            lambda: self.get_queryset().filter(pk=data).first(),
        )
        if row is None:
            self.fail("does_not_exist", pk_value=data)
        return row


class ReadMembersWriteAdmins(BasePermission):
    """Members (of the host's tenant) read; admins write. Pair with the view's read
    permission class when reads are narrower."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return IsTenantAdmin().has_permission(request, view)


def utc_iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def require(attrs: dict[str, Any], *names: str) -> None:
    """Nested items are whole even in a PATCH (DRF relaxes "required" for the whole tree)."""
    missing = {name: "This field is required." for name in names if attrs.get(name) is None}
    if missing:
        raise serializers.ValidationError(missing)
