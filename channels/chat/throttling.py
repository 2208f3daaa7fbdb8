"""Throttles on anonymous visitors starting chats, so that the pre-chat form cannot flood the
agents: per address and per tenant (``HELPDESK_CHAT_VISITOR_RATE``,
``HELPDESK_CHAT_VISITOR_TENANT_RATE``; DRF rate strings, defaults below).

The same shape as the phone channel's (``channels.phone.throttling``): DRF's
:class:`SimpleRateThrottle` over the default cache, rates read at request time, 429 with
Retry-After. Only a start that would create a chat counts (a form with errors costs nothing), and
a start refused for its address is not counted against the tenant, so one noisy address cannot
use up everyone's budget.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle

DEFAULT_ADDRESS_RATE = "5/hour"
DEFAULT_TENANT_RATE = "60/hour"


class _VisitorStartThrottle(SimpleRateThrottle):
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


class ChatVisitorAddressThrottle(_VisitorStartThrottle):
    """Per client address (DRF's ``get_ident``, as the other throttles), per tenant."""

    scope = "chat_visitor"
    setting = "HELPDESK_CHAT_VISITOR_RATE"
    default_rate = DEFAULT_ADDRESS_RATE

    def ident_for(self, request: Any) -> str:
        return f"a{self.get_ident(request)}"


class ChatVisitorTenantThrottle(_VisitorStartThrottle):
    """Per tenant: many addresses together cannot flood the agents either."""

    scope = "chat_visitor_tenant"
    setting = "HELPDESK_CHAT_VISITOR_TENANT_RATE"
    default_rate = DEFAULT_TENANT_RATE

    def ident_for(self, request: Any) -> str:
        return "all"


def visitor_start_wait(request: HttpRequest) -> int | None:
    """Count one chat start by this request's visitor: the seconds to wait (for Retry-After) when
    over a limit, else None."""
    for throttle_class in (ChatVisitorAddressThrottle, ChatVisitorTenantThrottle):
        throttle = throttle_class()
        if not throttle.allow_request(request, None):  # type: ignore[arg-type]
            return max(1, round(throttle.wait() or 1))
    return None
