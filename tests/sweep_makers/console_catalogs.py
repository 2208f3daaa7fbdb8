"""Sweep makers for the console's catalogs area: ``/manage/catalogs/<kind>/<pk>/…`` (function
views, so keyed by route name), ``/manage/canned-responses/<pk>/…`` and the public logo route
``/manage/branding/logo/<logo_name>/``."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile

from console.catalogs.services import branding_logo_store
from tests.factories import (
    BusinessImpactFactory,
    CustomFieldFactory,
    PriorityFactory,
    ProductAreaFactory,
    SeverityFactory,
    TicketTypeFactory,
)
from tickets.models import CannedResponse

Maker = Callable[[Any], Any]


def tiny_png(text: bytes = b"") -> bytes:
    """A real 1x1 PNG; ``text`` goes into a tEXt chunk so that two images can differ."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    extra = chunk(b"tEXt", b"Comment\x00" + text) if text else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


def _logo_name(world: Any) -> str:
    upload = ContentFile(tiny_png(b"ALPHA-SECRET " + world.tenant.slug.encode()), name="logo.png")
    url = branding_logo_store(tenant=world.tenant, upload=upload)
    return url.rstrip("/").rsplit("/", 1)[1]


def _canned(world: Any) -> int:
    return CannedResponse.objects.create(
        tenant=world.tenant, title="ALPHA-SECRET macro", body="ALPHA-SECRET text"
    ).pk


_CATALOG: dict[str, Maker] = {
    "severity": lambda w: SeverityFactory(tenant=w.tenant).pk,
    "priority": lambda w: PriorityFactory(tenant=w.tenant).pk,
    "ticket-type": lambda w: TicketTypeFactory(tenant=w.tenant).pk,
    "business-impact": lambda w: BusinessImpactFactory(tenant=w.tenant).pk,
    "product-area": lambda w: ProductAreaFactory(tenant=w.tenant).pk,
    "custom-field": lambda w: CustomFieldFactory(tenant=w.tenant).pk,
}

ROUTE_MAKERS: dict[str, Maker] = {
    **{
        f"console-catalog-{kind}-{action}": maker
        for kind, maker in _CATALOG.items()
        for action in ("edit", "delete")
    },
    "console-canned-response-edit": _canned,
    "console-canned-response-delete": _canned,
}
KWARG_MAKERS: dict[str, Maker] = {"logo_name": _logo_name}
