"""The ticket side of the policy templates: the catalogs, teams and routing rules each seed
describes (POLICIES.md), created through the catalog services when a template is loaded
(``sla.policies.base.PolicyTemplate.load`` calls :func:`catalog_template_load`).

Every template gets the same four priorities (the agents' working order) and a priority matrix
that follows the severity rank (rank 1 → Urgent, 2 → High, 3 → Normal, 4 and below → Low).
Then, per seed:

* officernd (000): product areas API, Mobile Apps, Integrations, Data Analytics and Core Product,
  each with a team of its subject-matter experts (skills routing).
* webagency (002): ticket types "Normal request" (subject, description, screenshots) and
  "Emergency" (the emergency form: pages the whole team at any hour; without a contract the
  ticket is billable).
* otcommerce (003): teams Customer Support and Technical Support on their own calendars; the
  rule "severity 1 goes to Technical Support only", and everything else to Customer Support.
* spaceos (004): ticket types feature request, bug, question, incident (out of hours it alerts
  the on-call engineers) and translation request with the seed's form hints; business impacts
  single user … everyone, and "other" with a text; the custom field "Where does it happen?"
  (browser, mobile app, merchant app) on bugs and incidents; impact "everyone" or "all end
  users" raises the matrix's priority one step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from helpdesk.models import Tenant
from sla.models import BusinessCalendar, Severity

from .models import (
    BusinessImpact,
    CustomField,
    Priority,
    PriorityMatrixEntry,
    ProductArea,
    RoutingRule,
    Team,
    TicketType,
)
from .services import (
    business_impact_create,
    custom_field_create,
    priority_create,
    priority_matrix_set,
    product_area_create,
    routing_rule_create,
    team_create,
    ticket_type_create,
)

PRIORITIES = (
    ("urgent", "Urgent", 1),
    ("high", "High", 2),
    ("normal", "Normal", 3),
    ("low", "Low", 4),
)

SPACEOS_HINTS = (
    "Please include: a description of the problem, the symptoms, the steps you already took, "
    "how to reproduce it, and screenshots or videos."
)
SPACEOS_TYPES = (
    ("feature_request", "Feature request", False),
    ("bug", "Bug", False),
    ("question", "Question", False),
    ("incident", "Incident", True),
    ("translation", "Translation / language request", False),
)
SPACEOS_IMPACTS = (
    ("everyone", "Everyone", 1, False),
    ("all_end_users", "All end users", 2, False),
    ("all_admin_users", "All admin users", 3, False),
    ("single_user", "Single user", 4, False),
    ("other", "Other", 5, True),
)
SPACEOS_WHERE = (
    ("browser", "Browser"),
    ("mobile_app", "Mobile app"),
    ("merchant_app", "Merchant app"),
)
OFFICERND_AREAS = ("API", "Mobile Apps", "Integrations", "Data Analytics", "Core Product")
WEBAGENCY_EMERGENCY = (
    "Use this form only when your website is offline/down, seems to be hacked, or its main "
    "functionality is not working. It pages the whole team at any hour."
)


def _missing(model: type[Any], tenant: Tenant, **lookup: Any) -> bool:
    """A tenant's own rows win: a template only adds what is not there yet."""
    return not model.objects.for_tenant(tenant).filter(**lookup).exists()


def _priorities(tenant: Tenant) -> dict[str, Priority]:
    for key, name, rank in PRIORITIES:
        if _missing(Priority, tenant, key=key):
            priority_create(tenant=tenant, key=key, name=name, rank=rank)
    return {p.key: p for p in Priority.objects.for_tenant(tenant)}


def _matrix(tenant: Tenant, priorities: Mapping[str, Priority]) -> None:
    order = [priorities[k] for k, _, _ in PRIORITIES]
    for severity in Severity.objects.for_tenant(tenant):
        if not _missing(PriorityMatrixEntry, tenant, severity=severity, business_impact=None):
            continue
        index = min(max(severity.rank, 1), len(order)) - 1
        priority_matrix_set(
            tenant=tenant, severity=severity, business_impact=None, priority=order[index]
        )


def _officernd(tenant: Tenant, data: Mapping[str, Any]) -> None:
    for name in data.get("product_areas") or OFFICERND_AREAS:
        key = name.lower().replace(" ", "_")
        if not _missing(ProductArea, tenant, key=key):
            continue
        team = Team.objects.for_tenant(tenant).filter(name=f"{name} experts").first()
        if team is None:
            team = team_create(
                tenant=tenant,
                name=f"{name} experts",
                description=f"Subject-matter experts for {name}.",
            )
        product_area_create(tenant=tenant, key=key, name=name, team=team)


def _webagency(tenant: Tenant, data: Mapping[str, Any]) -> None:
    if not _missing(TicketType, tenant, key__in=["request", "emergency"]):
        return
    ticket_type_create(
        tenant=tenant,
        key="request",
        name="Normal request",
        description="Everything that is not an emergency, however urgent.",
        form_hints="Give a subject, a description, and screenshots where they help.",
        position=1,
    )
    cases = data.get("emergency_cases") or []
    ticket_type_create(
        tenant=tenant,
        key="emergency",
        name="Emergency",
        description="; ".join(cases),
        form_hints=WEBAGENCY_EMERGENCY,
        is_emergency=True,
        position=2,
    )


def _otcommerce(tenant: Tenant, data: Mapping[str, Any]) -> None:
    if not _missing(RoutingRule, tenant):
        return
    teams: dict[str, Team] = {}
    for spec in data.get("teams") or []:
        calendar = BusinessCalendar.objects.for_tenant(tenant).filter(name=spec["calendar"]).first()
        existing = Team.objects.for_tenant(tenant).filter(name=spec["name"]).first()
        teams[spec["name"]] = existing or team_create(
            tenant=tenant,
            name=spec["name"],
            description=spec.get("scope", ""),
            calendar=calendar,
        )
    sev1_team = teams.get(data.get("severity_1_team", ""))
    critical = Severity.objects.for_tenant(tenant).order_by("rank").first()
    if sev1_team is not None and critical is not None:
        routing_rule_create(
            tenant=tenant,
            team=sev1_team,
            position=10,
            name="Severity 1 goes to Technical Support only",
            severity=critical,
        )
    rest = next((t for name, t in teams.items() if t is not sev1_team), None)
    if rest is not None:
        routing_rule_create(tenant=tenant, team=rest, position=100, name="Everything else")


def _spaceos(tenant: Tenant, data: Mapping[str, Any], priorities: Mapping[str, Priority]) -> None:
    if not (
        _missing(TicketType, tenant)
        and _missing(BusinessImpact, tenant)
        and _missing(CustomField, tenant)
    ):
        return
    types: dict[str, TicketType] = {}
    for position, (key, name, incident) in enumerate(SPACEOS_TYPES, start=1):
        types[key] = ticket_type_create(
            tenant=tenant,
            key=key,
            name=name,
            form_hints=SPACEOS_HINTS,
            pages_on_call_out_of_hours=incident
            and bool(data.get("incident_out_of_hours_alerts_on_call", True)),
            position=position,
        )
    impacts = {
        key: business_impact_create(
            tenant=tenant, key=key, name=name, rank=rank, requires_text=needs_text
        )
        for key, name, rank, needs_text in SPACEOS_IMPACTS
    }
    custom_field_create(
        tenant=tenant,
        key="where_does_it_happen",
        label="Where does it happen?",
        kind="select",
        options=[{"value": v, "label": label} for v, label in SPACEOS_WHERE],
        ticket_types=[types["bug"], types["incident"]],
    )
    order = [priorities[k] for k, _, _ in PRIORITIES]
    for severity in Severity.objects.for_tenant(tenant):
        index = min(max(severity.rank, 1), len(order)) - 1
        for wide in ("everyone", "all_end_users"):
            priority_matrix_set(
                tenant=tenant,
                severity=severity,
                business_impact=impacts[wide],
                priority=order[max(index - 1, 0)],
            )


def catalog_template_load(*, tenant: Tenant, template: str, data: Mapping[str, Any]) -> None:
    """Create the ticket catalogs of ``template`` in ``tenant`` (inside the template loader's
    transaction; the loader runs once per tenant). ``data`` is the template's ``data``."""
    priorities = _priorities(tenant)
    _matrix(tenant, priorities)
    if template == "officernd":
        _officernd(tenant, data)
    elif template == "webagency":
        _webagency(tenant, data)
    elif template == "otcommerce":
        _otcommerce(tenant, data)
    elif template == "spaceos":
        _spaceos(tenant, data, priorities)
