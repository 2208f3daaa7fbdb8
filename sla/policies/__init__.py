"""Policy templates: the five seed policies as loadable tenant configuration (POLICIES.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from helpdesk.models import Organization, Tenant

from . import apiplatform, officernd, otcommerce, spaceos, webagency
from .base import PolicyTemplate

TEMPLATES: dict[str, PolicyTemplate] = {
    module.TEMPLATE.name: module.TEMPLATE
    for module in (officernd, apiplatform, webagency, otcommerce, spaceos)
}

# template name → loader(tenant).
REGISTRY: dict[str, Callable[[Tenant], None]] = {name: t for name, t in TEMPLATES.items()}


def available_templates() -> list[str]:
    return sorted(REGISTRY)


def load_policy_template(*, tenant: Tenant, template: str) -> None:
    """Load ``template`` into ``tenant``. Raises KeyError for an unknown template; loading the
    same template twice changes nothing; another template on a configured tenant is refused."""
    REGISTRY[template](tenant)


def load_demo_contracts(
    *, tenant: Tenant, template: str, organizations: Sequence[Organization]
) -> None:
    """Demo data: give the demo organizations the template's example contracts."""
    if template in TEMPLATES:
        TEMPLATES[template].load_demo_contracts(tenant, organizations)
