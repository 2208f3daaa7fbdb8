"""Throttles on anonymous visitors starting chats, so that the pre-chat form cannot flood the
agents: per address and per tenant (``HELPDESK_CHAT_VISITOR_RATE``,
``HELPDESK_CHAT_VISITOR_TENANT_RATE``; DRF rate strings, defaults below).

The same shape as the phone channel's (``channels.phone.throttling``): tenant-scoped DRF
throttles over the default cache (``helpdesk.api.throttling``), rates read at request time, 429
with Retry-After. Only a start that would create a chat counts (a form with errors costs
nothing), and a start refused for its address is not counted against the tenant, so one noisy
address cannot use up everyone's budget.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from helpdesk.api.throttling import TenantScopedThrottle, throttle_wait

DEFAULT_ADDRESS_RATE = "5/hour"
DEFAULT_TENANT_RATE = "60/hour"


class ChatVisitorAddressThrottle(TenantScopedThrottle):
    """Per client address (DRF's ``get_ident``, as the other throttles), per tenant."""

    scope = "chat_visitor"
    setting = "HELPDESK_CHAT_VISITOR_RATE"
    default_rate = DEFAULT_ADDRESS_RATE

    def ident_for(self, request: Any) -> str:
        return f"a{self.get_ident(request)}"


class ChatVisitorTenantThrottle(TenantScopedThrottle):
    """Per tenant: many addresses together cannot flood the agents either."""

    scope = "chat_visitor_tenant"
    setting = "HELPDESK_CHAT_VISITOR_TENANT_RATE"
    default_rate = DEFAULT_TENANT_RATE

    def ident_for(self, request: Any) -> str:
        return "all"


def visitor_start_wait(request: HttpRequest) -> int | None:
    """Count one chat start by this request's visitor: the seconds to wait (for Retry-After) when
    over a limit, else None."""
    return throttle_wait(
        request, (ChatVisitorAddressThrottle, ChatVisitorTenantThrottle), first_refusal_stops=True
    )
