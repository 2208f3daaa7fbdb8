"""Canned responses (per-tenant macros) for the agent's reply box."""

from __future__ import annotations

from helpdesk.models import Tenant

from ..models import CannedResponse


def macros_for(tenant: Tenant) -> list[CannedResponse]:
    return list(
        CannedResponse.objects.for_tenant(tenant).filter(is_active=True).order_by("title", "id")
    )


def macro_body(tenant: Tenant, macro_id: str) -> str:
    """The text of the tenant's active canned response ``macro_id`` (the no-JavaScript
    "insert"), or an empty string (a missing id, or another tenant's, inserts nothing)."""
    if not str(macro_id).isdigit():
        return ""
    macro = (
        CannedResponse.objects.for_tenant(tenant).filter(pk=int(macro_id), is_active=True).first()
    )
    return macro.body if macro is not None else ""
