"""Writes of the tenant's branding: name, colour, logo, support address, time zone, ticket
prefix and whether customers may sign up. The tenant row is the helpdesk's core, so these
services check everything the model's validators would, and more (time zones, logo files)."""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from functools import cache
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.urls import reverse

from helpdesk.models import Tenant, color_validator
from tickets.sniff import sniff

LOGO_MAX_BYTES = 512 * 1024
# Raster formats only, recognised from their first bytes: SVG can carry script, and a name or a
# declared content type proves nothing.
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
LOGO_NAME = re.compile(r"^logo-[0-9a-f]{32}\.(png|jpg|webp)$")
PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
NAME_MAX = Tenant._meta.get_field("name").max_length or 200
URL_MAX = Tenant._meta.get_field("logo_url").max_length or 200
_https = URLValidator(schemes=["https"])


@cache
def time_zones() -> list[str]:
    """The IANA names zoneinfo knows (sorted)."""
    return sorted(zoneinfo.available_timezones())


def logo_path(tenant: Tenant | int, name: str) -> str:
    """Where an uploaded logo lives in the default storage (one folder per tenant)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return f"branding/{tenant_id}/{name}"


def logo_url_for(name: str) -> str:
    return reverse("console-brand-logo", kwargs={"logo_name": name})


def uploaded_logo_name(tenant: Tenant, url: str) -> str | None:
    """The stored file's name when ``url`` is this tenant's uploaded logo, else None."""
    prefix = logo_url_for("x").rsplit("x", 1)[0]
    if not url.startswith(prefix):
        return None
    name = url[len(prefix) :].rstrip("/")
    if not LOGO_NAME.match(name) or not default_storage.exists(logo_path(tenant, name)):
        return None
    return name


def branding_logo_store(*, tenant: Tenant, upload: IO[bytes]) -> str:
    """Store an uploaded logo under ``branding/<tenant id>/logo-<hash>.<ext>`` and return its
    public URL. Only PNG, JPEG and WebP (told by their bytes) up to 512 KiB; the same bytes
    stored twice are one file."""
    size = getattr(upload, "size", None)
    too_large = ValidationError({"logo_file": "The logo must be at most 512 KiB."})
    if isinstance(size, int) and size > LOGO_MAX_BYTES:
        raise too_large
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(LOGO_MAX_BYTES + 1)
    if len(data) > LOGO_MAX_BYTES:
        raise too_large
    if not data:
        raise ValidationError({"logo_file": "The file is empty."})
    ext = LOGO_TYPES.get(sniff(data[:8192]))
    if ext is None:
        raise ValidationError(
            {"logo_file": "Upload a PNG, JPEG or WebP image (SVG is not accepted)."}
        )
    name = f"logo-{hashlib.sha256(data).hexdigest()[:32]}.{ext}"
    path = logo_path(tenant, name)
    if not default_storage.exists(path):
        stored = default_storage.save(path, ContentFile(data))
        if stored != path:  # a concurrent upload of the same bytes won the name
            default_storage.delete(stored)
    return logo_url_for(name)


def _check_logo_url(tenant: Tenant, url: str) -> str:
    url = url.strip()
    if not url:
        return ""
    if url.startswith("/"):
        if uploaded_logo_name(tenant, url) is None:
            raise ValidationError({"logo_url": "Unknown logo."})
        return url
    if len(url) > URL_MAX:
        raise ValidationError({"logo_url": f"At most {URL_MAX} characters."})
    try:
        _https(url)
    except ValidationError:
        raise ValidationError({"logo_url": "Enter an https:// address of an image."}) from None
    return url


def _clean(tenant: Tenant, field: str, value: Any) -> Any:
    if field == "name":
        value = " ".join(str(value).split())
        if not value:
            raise ValidationError({"name": "A name is required."})
        if len(value) > NAME_MAX:
            raise ValidationError({"name": f"At most {NAME_MAX} characters."})
    elif field == "brand_color":
        value = str(value).strip().lower()
        try:
            color_validator(value)
        except ValidationError:
            raise ValidationError({"brand_color": "Use a colour like #1f6feb."}) from None
    elif field == "logo_url":
        value = _check_logo_url(tenant, str(value))
    elif field == "support_email":
        value = str(value).strip().lower()
        if value:
            try:
                validate_email(value)
            except ValidationError:
                raise ValidationError({"support_email": "Enter an email address."}) from None
    elif field == "ticket_prefix":
        value = str(value).strip().upper()
        if not PREFIX.match(value):
            raise ValidationError(
                {"ticket_prefix": "1-10 capital letters and digits, starting with a letter."}
            )
    elif field == "time_zone":
        value = str(value).strip()
        if value not in time_zones():
            raise ValidationError({"time_zone": f"Unknown time zone '{value}'."})
    elif field == "allow_signup":
        value = bool(value)
    return value


@transaction.atomic
def tenant_branding_update(
    *,
    tenant: Tenant,
    name: str | None = None,
    brand_color: str | None = None,
    logo_url: str | None = None,
    support_email: str | None = None,
    ticket_prefix: str | None = None,
    time_zone: str | None = None,
    allow_signup: bool | None = None,
) -> Tenant:
    """Change what is given (``""`` clears the logo and the support address). ``logo_url`` is an
    https address or this tenant's uploaded logo (:func:`branding_logo_store`). A new
    ``ticket_prefix`` shows on every ticket, old ones included: references under the old prefix
    no longer resolve. Raises ValidationError naming the field; nothing is saved then."""
    given = {
        "name": name,
        "brand_color": brand_color,
        "logo_url": logo_url,
        "support_email": support_email,
        "ticket_prefix": ticket_prefix,
        "time_zone": time_zone,
        "allow_signup": allow_signup,
    }
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field, value in given.items():
        if value is None:
            continue
        try:
            cleaned[field] = _clean(tenant, field, value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    changed = [f for f, v in cleaned.items() if getattr(tenant, f) != v]
    if not changed:
        return tenant
    old_logo = uploaded_logo_name(tenant, tenant.logo_url) if "logo_url" in changed else None
    for field in changed:
        setattr(tenant, field, cleaned[field])
    tenant.save(update_fields=changed)
    if old_logo is not None:
        # The replaced upload is nobody's logo any more (names are per tenant and per content).
        transaction.on_commit(lambda: default_storage.delete(logo_path(tenant, old_logo)))
    return tenant
