"""The base fixture (healthchecks' alice/bob, Zulip's seeded realms): two tenants, each with an
admin, two agents and customers of two organizations."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client

from helpdesk.models import Membership, Organization, Tenant
from tests.factories import ContactFactory, MembershipFactory, OrganizationFactory, TenantFactory

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    tenant: Tenant
    admin: Membership
    agent: Membership
    lead: Membership
    org1: Organization
    org2: Organization
    owner1: Membership
    contact1: Membership
    owner2: Membership
    contact2: Membership
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return f"{self.tenant.slug}.localhost"

    def client(self, membership: Membership | None = None) -> Client:
        """A test client on this tenant's host, logged in as ``membership`` if given."""
        client = Client(HTTP_HOST=self.host)
        if membership is not None:
            response = client.post(
                "/accounts/login/", {"login": membership.user.email, "password": PASSWORD}
            )
            assert response.status_code == 302, response.content[:500]
        return client


def build_world(slug: str) -> World:
    tenant = TenantFactory(slug=slug, name=slug.title(), ticket_prefix=slug[:2].upper())
    org1 = OrganizationFactory(tenant=tenant, name=f"{slug} Org One")
    org2 = OrganizationFactory(tenant=tenant, name=f"{slug} Org Two")
    return World(
        tenant=tenant,
        admin=MembershipFactory(tenant=tenant, role="admin", user__email=f"admin@{slug}.test"),
        agent=MembershipFactory(
            tenant=tenant, role="agent", tier="agent", user__email=f"agent@{slug}.test"
        ),
        lead=MembershipFactory(
            tenant=tenant, role="agent", tier="team_lead", user__email=f"lead@{slug}.test"
        ),
        org1=org1,
        org2=org2,
        owner1=ContactFactory(
            tenant=tenant, organization=org1, contact_role="owner", user__email=f"o1@{slug}.test"
        ),
        contact1=ContactFactory(tenant=tenant, organization=org1, user__email=f"c1@{slug}.test"),
        owner2=ContactFactory(
            tenant=tenant, organization=org2, contact_role="owner", user__email=f"o2@{slug}.test"
        ),
        contact2=ContactFactory(tenant=tenant, organization=org2, user__email=f"c2@{slug}.test"),
    )


@pytest.fixture
def alpha(db: None) -> World:
    return build_world("alpha")


@pytest.fixture
def beta(db: None) -> World:
    return build_world("beta")
