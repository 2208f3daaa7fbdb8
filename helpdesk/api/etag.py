"""``ETag`` on reads and ``If-Match`` on writes (optimistic concurrency: 412 on a stale write).

The tag is weak (``W/"<id>-<updated_at in µs>"``): it names a version of the resource, not its
bytes (a representation also carries SLA clocks that move on their own). ``If-Match`` is
optional — a client that sends none writes unconditionally — and is compared on the opaque
part, so a client may echo the tag with or without ``W/``; ``*`` matches any existing resource.
"""

from __future__ import annotations

import datetime as dt

from rest_framework import exceptions
from rest_framework.request import Request


class PreconditionFailed(exceptions.APIException):
    status_code = 412
    default_detail = "The resource changed since you read it (If-Match does not match its ETag)."
    default_code = "precondition-failed"


def version_etag(pk: int, updated_at: dt.datetime) -> str:
    micros = int(updated_at.timestamp() * 1_000_000)
    return f'W/"{pk}-{micros}"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip()


def check_if_match(request: Request, current: str) -> None:
    """Raise 412 when the request carries ``If-Match`` and none of its tags is ``current``."""
    header = request.META.get("HTTP_IF_MATCH", "").strip()
    if not header or header == "*":
        return
    wanted = {_opaque(t) for t in header.split(",") if t.strip()}
    if _opaque(current) not in wanted:
        raise PreconditionFailed()
