"""Throttles against guessing personal codes: per caller (API token, or signed-in user) and per
tenant, shared by the API (``POST /api/v1/phone/verify/``) and the agent's "Log a call" page, so a
guess costs the same budget whichever door it comes through.

Tenant-scoped DRF throttles over the default cache (``helpdesk.api.throttling``), like the
API's :class:`~helpdesk.api.throttling.TokenRateThrottle`; the rates are read from settings at
request time (``PHONE_VERIFY_RATE``, ``PHONE_VERIFY_TENANT_RATE``) with the defaults below.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from helpdesk.api.throttling import TenantScopedThrottle, throttle_wait
from helpdesk.models import ApiToken

DEFAULT_CALLER_RATE = "10/min"
DEFAULT_TENANT_RATE = "60/min"


class PhoneVerifyCallerThrottle(TenantScopedThrottle):
    """Per API token, else per signed-in user, else per address."""

    scope = "phone_verify"
    setting = "PHONE_VERIFY_RATE"
    default_rate = DEFAULT_CALLER_RATE

    def ident_for(self, request: Any) -> str:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiToken):
            return f"t{auth.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"u{user.pk}"
        return f"a{self.get_ident(request)}"


class PhoneVerifyTenantThrottle(TenantScopedThrottle):
    """Per tenant: many tokens together cannot sweep the code space either."""

    scope = "phone_verify_tenant"
    setting = "PHONE_VERIFY_TENANT_RATE"
    default_rate = DEFAULT_TENANT_RATE

    def ident_for(self, request: Any) -> str:
        return "all"


def phone_verify_wait(request: HttpRequest) -> int | None:
    """For pages: count one verification attempt by this request's caller; the seconds to wait
    (for Retry-After) when over a limit, else None."""
    return throttle_wait(request, (PhoneVerifyCallerThrottle, PhoneVerifyTenantThrottle))
