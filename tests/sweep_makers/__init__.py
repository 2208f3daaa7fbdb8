"""Makers for the cross-tenant sweep, one module per area (``tests/sweep_makers/<area>.py``).

A module may define any of ``MODEL_MAKERS`` (model → maker for ``<pk>``), ``KWARG_MAKERS``
(kwarg name → maker), ``ROUTE_MAKERS`` (route name → maker for ``<pk>``) and ``ROUTE_QUERY``
(route name → query string its GET needs). A maker takes the tenant's ``World`` and returns
the kwarg's value for an object of that tenant. ``tests/test_isolation_sweep.py`` merges them
all; a name defined twice is an error, so two areas never silently disagree.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

NAMES = ("MODEL_MAKERS", "KWARG_MAKERS", "ROUTE_MAKERS", "ROUTE_QUERY")


def collected() -> dict[str, dict[Any, Any]]:
    merged: dict[str, dict[Any, Any]] = {name: {} for name in NAMES}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name in NAMES:
            for key, value in getattr(module, name, {}).items():
                if key in merged[name]:
                    raise RuntimeError(f"{name}[{key!r}] is defined twice (in {info.name})")
                merged[name][key] = value
    return merged
