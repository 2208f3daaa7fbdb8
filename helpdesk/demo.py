"""The demo tenants that `make run` serves: the five seed providers, each with an admin, two
agents and two customer organizations with contacts. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from sla.policies import available_templates, load_demo_contracts, load_policy_template

from .models import Membership, Organization, Tenant, User
from .services import contact_add, membership_add, organization_create, user_get_or_create

DEMO_PASSWORD = "helpdesk-demo"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    prefix: str
    organizations: tuple[str, str]


DEMO_TENANTS = (
    DemoTenant("officernd", "OfficeRnD", "OR", ("Northwind Workspaces", "Harbor Cowork")),
    DemoTenant("apiplatform", "API Platform", "AP", ("Globex Payments", "Initech Logistics")),
    DemoTenant("webagency", "Web Agency", "WA", ("Bakery Bloom", "Riverside Dental")),
    DemoTenant("otcommerce", "OT Commerce", "OT", ("Taiga Trade", "Volga Goods")),
    DemoTenant("spaceos", "spaceOS", "SO", ("Skyline Offices", "Canal Campus")),
)


def demo_logins(spec: DemoTenant) -> dict[str, str]:
    return {
        "admin": f"admin@{spec.slug}.example",
        "agent": f"agent@{spec.slug}.example",
        "lead": f"lead@{spec.slug}.example",
        "owner": f"owner@customer1.{spec.slug}.example",
        "contact": f"contact@customer1.{spec.slug}.example",
        "owner2": f"owner@customer2.{spec.slug}.example",
        "contact2": f"contact@customer2.{spec.slug}.example",
    }


@transaction.atomic
def demo_load_tenant(spec: DemoTenant) -> Tenant:
    tenant, created = Tenant.objects.get_or_create(
        slug=spec.slug, defaults={"name": spec.name, "ticket_prefix": spec.prefix}
    )
    logins = demo_logins(spec)

    def person(email: str, name: str) -> User:
        return user_get_or_create(email=email, name=name, password=DEMO_PASSWORD)

    membership_add(tenant=tenant, user=person(logins["admin"], "Ada Admin"), role="admin")
    membership_add(
        tenant=tenant,
        user=person(logins["agent"], "Alex Agent"),
        role="agent",
        tier=Membership.Tier.AGENT,
    )
    membership_add(
        tenant=tenant,
        user=person(logins["lead"], "Lee Lead"),
        role="agent",
        tier=Membership.Tier.TEAM_LEAD,
    )
    organizations = []
    for index, org_name in enumerate(spec.organizations, start=1):
        org = Organization.objects.for_tenant(tenant).filter(name=org_name).first()
        if org is None:
            org = organization_create(
                tenant=tenant,
                name=org_name,
                domains=[f"customer{index}.{spec.slug}.example"],
                account_executive_email=f"ae@{spec.slug}.example",
            )
        organizations.append(org)
        suffix = "" if index == 1 else str(index)
        for key, role, name in (
            ("owner", Membership.ContactRole.OWNER, "Olive Owner"),
            ("contact", Membership.ContactRole.AUTHORIZED, "Casey Contact"),
        ):
            contact_add(
                tenant=tenant,
                organization=org,
                email=logins[key + suffix],
                name=f"{name} {index}",
                role=role,
                password=DEMO_PASSWORD,
            )
    if created and spec.slug in available_templates():
        load_policy_template(tenant=tenant, template=spec.slug)
        load_demo_contracts(tenant=tenant, template=spec.slug, organizations=organizations)
        _demo_team_members(tenant, [logins["agent"], logins["lead"]])
    return tenant


def _demo_team_members(tenant: Tenant, emails: list[str]) -> None:
    """The template's teams (tickets.catalog_templates) get the demo agents as members."""
    from tickets.models import Team
    from tickets.services import team_members_set

    staff = list(Membership.objects.for_tenant(tenant).filter(user__email__in=emails))
    for team in Team.objects.for_tenant(tenant):
        team_members_set(team=team, members=staff)
