from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from helpdesk.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Per token (or per session user, or per address for anonymous calls); 429 + Retry-After."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"t{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"u{request.user.pk}"
        else:
            ident = f"a{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TenantScopedThrottle(SimpleRateThrottle):
    """A throttle counted within the request's tenant, its rate read from the setting named
    ``setting`` at request time (``default_rate`` when unset): subclasses say who is counted
    (``ident_for``). Without a tenant nothing is counted. Used by pages as well as API views,
    through :func:`throttle_wait`."""

    setting = ""
    default_rate = ""

    def get_rate(self) -> str | None:
        return str(getattr(settings, self.setting, self.default_rate))

    def ident_for(self, request: Any) -> str:
        raise NotImplementedError

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return None
        ident = f"{tenant.pk}:{self.ident_for(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def throttle_wait(
    request: HttpRequest,
    throttles: Sequence[type[SimpleRateThrottle]],
    *,
    first_refusal_stops: bool = False,
) -> int | None:
    """For pages: count one attempt of this request against each of ``throttles``; the seconds to
    wait (for Retry-After) when over a limit, else None. ``first_refusal_stops``: a request
    refused by one throttle is not counted by the later ones (so that one noisy caller does not
    use up a shared budget)."""
    waits = []
    for throttle_class in throttles:
        throttle = throttle_class()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            waits.append(throttle.wait() or 1)
            if first_refusal_stops:
                break
    if not waits:
        return None
    return max(1, round(max(waits)))
