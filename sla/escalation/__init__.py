"""Escalation: warnings and escalation levels on SLA clocks, emergency paging, customer
escalation. What other apps call (importable from here, loaded on first use):

* :func:`escalations_for_tickets` (the ticket resource's ``escalations``), from ``selectors``;
* :func:`needs_emergency_page`, :func:`emergency_ticket_opened`, :func:`emergency_downgrade`
  (ticket services), from ``paging``;
* :func:`ticket_customer_escalate` and :func:`customer_escalation_state` (portal and API),
  from ``customer``.

The names resolve lazily (PEP 562): ``sla.models`` imports ``sla.escalation.models`` while the
app registry is still loading, so this ``__init__`` must not import models itself.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "escalations_for_tickets": "selectors",
    "escalations_prefetch": "selectors",
    "escalation_output": "notify",
    "needs_emergency_page": "paging",
    "emergency_page": "paging",
    "emergency_ticket_opened": "paging",
    "emergency_downgrade": "paging",
    "page_acknowledge": "paging",
    "ticket_customer_escalate": "customer",
    "customer_escalation_state": "customer",
    "CustomerEscalationNotAllowed": "customer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
