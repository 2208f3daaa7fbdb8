"""Canned responses (per-tenant macros) for the reply box, when the model exists."""

from __future__ import annotations

from typing import Any

from helpdesk.models import Tenant


def _model() -> Any:
    from .. import models

    return getattr(models, "CannedResponse", None)


def macros_for(tenant: Tenant) -> list[Any]:
    model = _model()
    if model is None:
        return []
    return list(model.objects.for_tenant(tenant).filter(is_active=True).order_by("title", "id"))


def macro_body(tenant: Tenant, macro_id: str) -> str:
    """The text of the tenant's canned response ``macro_id`` (the no-JavaScript "insert"), or
    an empty string."""
    model = _model()
    if model is None or not str(macro_id).isdigit():
        return ""
    macro = model.objects.for_tenant(tenant).filter(pk=int(macro_id), is_active=True).first()
    return macro.body if macro is not None else ""
