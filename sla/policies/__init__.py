"""Policy templates: the five seed policies as loadable tenant configuration (POLICIES.md)."""

from __future__ import annotations

from collections.abc import Callable

from helpdesk.models import Tenant

# template name → loader(tenant). Filled by the SLA engine's policy modules.
REGISTRY: dict[str, Callable[[Tenant], None]] = {}


def available_templates() -> list[str]:
    return sorted(REGISTRY)


def load_policy_template(*, tenant: Tenant, template: str) -> None:
    """Load ``template`` into ``tenant``. Raises KeyError for an unknown template."""
    REGISTRY[template](tenant)
