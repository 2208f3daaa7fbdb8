"""Enumerate the tenant URL conf so that no route can be added without isolation coverage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# Third-party routes that carry no tenant data in their kwargs (allauth's confirmation keys,
# MFA flows) are covered by allauth's own tests and by the session-binding tests.
THIRD_PARTY_PREFIXES = ("accounts/",)
PUBLIC_ROUTES = {"api-schema", "api-docs", "portal-home", "brand-css"}


@dataclass(frozen=True)
class Route:
    path: str  # with <converter:name> placeholders
    name: str | None
    callback: Any
    kwargs: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")

    @property
    def view_class(self) -> Any:
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    def url(self, **values: object) -> str:
        def sub(match: re.Match[str]) -> str:
            return str(values[match.group(2)])

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, self.path)


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            path = prefix + str(entry.pattern)
            kwargs = tuple(re.findall(r"<(?:\w+:)?(\w+)>", path))
            yield Route(path=path, name=entry.name, callback=entry.callback, kwargs=kwargs)


def tenant_routes() -> list[Route]:
    """Every route of the tenant URL conf that is ours (not a third party's)."""
    return [
        r
        for r in _walk(get_resolver("helpdesk.urls").url_patterns)
        if not r.path.startswith(THIRD_PARTY_PREFIXES)
    ]
