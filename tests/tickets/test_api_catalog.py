"""Catalog endpoints (members read, admins write), teams, agents, contacts and organizations:
wrong roles are 403, invalid bodies 400 problems, rows in use 409, lists flat in queries."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import Membership
from helpdesk.services import contact_signup
from tests.conftest import World
from tests.factories import (
    BusinessImpactFactory,
    CustomFieldFactory,
    PriorityFactory,
    ProductAreaFactory,
    TeamFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import Team, Ticket

from .conftest import api, new_ticket
from .test_api_tickets import problem

CATALOGS: dict[str, tuple[dict[str, Any], Any]] = {
    "priorities": ({"key": "urgent", "name": "Urgent", "rank": 1}, PriorityFactory),
    "ticket-types": (
        {"key": "incident", "name": "Incident", "pages_on_call_out_of_hours": True},
        TicketTypeFactory,
    ),
    "business-impacts": (
        {"key": "other", "name": "Other", "rank": 5, "requires_text": True},
        BusinessImpactFactory,
    ),
    "product-areas": ({"key": "api", "name": "API"}, ProductAreaFactory),
    "custom-fields": (
        {
            "key": "where",
            "label": "Where does it happen?",
            "kind": "select",
            "options": [{"value": "browser", "label": "Browser"}, {"value": "app"}],
        },
        CustomFieldFactory,
    ),
}


@pytest.mark.parametrize("name", list(CATALOGS))
def test_catalog_roles_and_crud(alpha: World, name: str) -> None:
    body, factory = CATALOGS[name]
    url = f"/api/v1/{name}/"
    for member in (alpha.contact1, alpha.agent):
        assert api(alpha, member).get(url).status_code == 200
        problem(api(alpha, member).post(url, body), 403)
    admin = api(alpha, alpha.admin)
    created = admin.post(url, body)
    assert created.status_code == 201, created.content
    row = created.json()
    assert {k: row[k] for k in body if k != "options"} == {
        k: v for k, v in body.items() if k != "options"
    }
    detail = f"{url}{row['id']}/"
    assert api(alpha, alpha.contact1).get(detail).json() == row
    problem(api(alpha, alpha.agent).patch(detail, {"key": "x"}), 403)
    again = admin.post(url, body)
    assert "key" in problem(again, 400)["errors"]  # keys are unique per tenant
    assert "key" in problem(admin.post(url, {**body, "key": "not a slug!"}), 400)["errors"]
    assert list(problem(admin.post(url, {**body, "key": "k2", "bogus": 1}), 400)["errors"]) == [
        "bogus"
    ]
    renamed = admin.patch(detail, {"key": "renamed"})
    assert renamed.status_code == 200 and renamed.json()["key"] == "renamed"
    assert admin.delete(detail).status_code == 204
    problem(admin.get(detail), 404)
    # The list stays flat in queries.
    for _ in range(12):
        factory(tenant=alpha.tenant)
    counts = []
    admin.get(url)
    for size in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            response = admin.get(url, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_custom_field_shapes(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    bug = TicketTypeFactory(tenant=alpha.tenant)
    body = {"key": "where", "label": "Where?", "kind": "select", "options": [{"value": "web"}]}
    made = admin.post("/api/v1/custom-fields/", {**body, "ticket_types": [bug.pk]}).json()
    assert made["options"] == [{"value": "web", "label": "web"}]
    assert made["ticket_types"] == [bug.pk]
    no_options = admin.post("/api/v1/custom-fields/", {**body, "key": "w2", "options": []})
    assert "options" in problem(no_options, 400)["errors"]
    text_with_options = admin.post("/api/v1/custom-fields/", {**body, "key": "w3", "kind": "text"})
    assert "options" in problem(text_with_options, 400)["errors"]
    bad_kind = admin.post("/api/v1/custom-fields/", {**body, "key": "w4", "kind": "colour"})
    assert "kind" in problem(bad_kind, 400)["errors"]


def test_catalog_rows_in_use_are_409(alpha: World) -> None:
    ticket_type = TicketTypeFactory(tenant=alpha.tenant)
    new_ticket(alpha, ticket_type=ticket_type)
    response = api(alpha, alpha.admin).delete(f"/api/v1/ticket-types/{ticket_type.pk}/")
    problem(response, 409)


def test_product_area_team_must_be_the_tenants(alpha: World, beta: World) -> None:
    admin = api(alpha, alpha.admin)
    foreign = TeamFactory(tenant=beta.tenant)
    response = admin.post("/api/v1/product-areas/", {"key": "a", "name": "A", "team": foreign.pk})
    assert "team" in problem(response, 400)["errors"]
    own = TeamFactory(tenant=alpha.tenant)
    area = admin.post("/api/v1/product-areas/", {"key": "a", "name": "A", "team": own.pk}).json()
    assert area["team"] == own.pk
    cleared = admin.patch(f"/api/v1/product-areas/{area['id']}/", {"team": None}).json()
    assert cleared["team"] is None


# --- teams and agents --------------------------------------------------------------------------


def test_teams(alpha: World) -> None:
    url = "/api/v1/teams/"
    problem(api(alpha, alpha.contact1).get(url), 403)
    assert api(alpha, alpha.agent).get(url).status_code == 200
    problem(api(alpha, alpha.agent).post(url, {"name": "Ops"}), 403)
    admin = api(alpha, alpha.admin)
    created = admin.post(
        url,
        {
            "name": "Ops",
            "assignment_strategy": "round_robin",
            "members": [alpha.agent.pk, alpha.lead.pk],
            "escalation_emails": ["Ops-List@alpha.test"],
        },
    )
    assert created.status_code == 201, created.content
    team = created.json()
    assert team["members"] == sorted([alpha.agent.pk, alpha.lead.pk])
    assert team["escalation_emails"] == ["ops-list@alpha.test"]
    detail = f"{url}{team['id']}/"
    bad = admin.patch(detail, {"members": [alpha.contact1.pk]})
    assert "members" in problem(bad, 400)["errors"]
    assert admin.patch(detail, {"members": [alpha.lead.pk]}).json()["members"] == [alpha.lead.pk]
    assert "name" in problem(admin.post(url, {"name": "Ops"}), 400)["errors"]
    ticket = new_ticket(alpha, team=Team.objects.get(pk=team["id"]))
    assert admin.delete(detail).status_code == 204
    assert Ticket.objects.get(pk=ticket.pk).team is None


def test_agents(alpha: World) -> None:
    url = "/api/v1/agents/"
    problem(api(alpha, alpha.contact1).get(url), 403)
    listed = api(alpha, alpha.agent).get(url).json()["results"]
    assert {a["id"] for a in listed} == {alpha.admin.pk, alpha.agent.pk, alpha.lead.pk}
    assert set(listed[0]) == {
        "id",
        "email",
        "name",
        "role",
        "tier",
        "is_available",
        "is_active",
        "teams",
    }
    detail = f"{url}{alpha.agent.pk}/"
    problem(api(alpha, alpha.lead).patch(detail, {"is_available": False}), 403)
    admin = api(alpha, alpha.admin)
    changed = admin.patch(detail, {"tier": "manager", "is_available": False}).json()
    assert (changed["tier"], changed["is_available"]) == ("manager", False)
    assert (
        "tier"
        in problem(admin.patch(f"{url}{alpha.admin.pk}/", {"tier": "manager"}), 400)["errors"]
    )
    assert "tier" in problem(admin.patch(detail, {"tier": "boss"}), 400)["errors"]
    problem(admin.get(f"{url}{alpha.contact1.pk}/"), 404)  # a customer is no agent


# --- contacts ------------------------------------------------------------------------------


def test_contacts_by_role(alpha: World) -> None:
    url = "/api/v1/contacts/"
    staff = {c["id"] for c in api(alpha, alpha.agent).get(url).json()["results"]}
    assert staff == {alpha.owner1.pk, alpha.contact1.pk, alpha.owner2.pk, alpha.contact2.pk}
    owner = api(alpha, alpha.owner1).get(url).json()["results"]
    assert {c["id"] for c in owner} == {alpha.owner1.pk, alpha.contact1.pk}
    assert set(owner[0]) >= {"id", "organization", "email", "name", "role"}
    problem(api(alpha, alpha.contact1).get(url), 403)
    problem(api(alpha, alpha.owner1).get(f"{url}{alpha.contact2.pk}/"), 404)


def test_owner_adds_and_verifies_contacts_of_their_organization(alpha: World) -> None:
    url = "/api/v1/contacts/"
    owner = api(alpha, alpha.owner1)
    added = owner.post(
        url, {"organization": alpha.org1.pk, "email": "New.Person@alpha.test", "name": "New"}
    )
    assert added.status_code == 201, added.content
    assert (added.json()["email"], added.json()["role"]) == ("new.person@alpha.test", "authorized")
    other_org = owner.post(url, {"organization": alpha.org2.pk, "email": "x@alpha.test"})
    assert "organization" in problem(other_org, 400)["errors"]
    as_owner = owner.post(
        url, {"organization": alpha.org1.pk, "email": "y@a.test", "role": "owner"}
    )
    assert "role" in problem(as_owner, 400)["errors"]

    # A pending sign-up of the organization's domain, with a held ticket, verified by the owner.
    alpha.org1.domains = ["org1.test"]
    alpha.org1.save()
    user = UserFactory(email="pending@org1.test")
    pending = contact_signup(tenant=alpha.tenant, user=user)
    held = new_ticket(alpha, requester=pending)
    assert held.held_for_verification
    verified = owner.patch(f"{url}{pending.pk}/", {"role": "authorized"})
    assert verified.status_code == 200, verified.content
    assert verified.json()["role"] == "authorized"
    held.refresh_from_db()
    assert held.held_for_verification is False
    problem(owner.patch(f"{url}{alpha.owner1.pk}/", {"role": "pending"}), 400)


def test_staff_contact_crud_and_api_tokens_for_customers(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    made = admin.post(
        "/api/v1/contacts/",
        {"organization": alpha.org2.pk, "email": "integrator@org2.test", "role": "owner"},
    )
    assert made.status_code == 201, made.content
    out = StringIO()
    call_command(
        "create_api_token",
        "--tenant",
        alpha.tenant.slug,
        "--email",
        "integrator@org2.test",
        stdout=out,
    )
    assert "hd_" in out.getvalue()
    contact_id = made.json()["id"]
    moved = admin.patch(f"/api/v1/contacts/{contact_id}/", {"organization": alpha.org1.pk})
    assert moved.json()["organization"] == alpha.org1.pk
    assert admin.delete(f"/api/v1/contacts/{contact_id}/").status_code == 204
    assert Membership.objects.get(pk=contact_id).is_active is False
    staff = admin.post(
        "/api/v1/contacts/", {"organization": alpha.org1.pk, "email": alpha.agent.user.email}
    )
    assert "email" in problem(staff, 400)["errors"]


# --- organizations -------------------------------------------------------------------------


def test_organizations_create_and_update(alpha: World) -> None:
    url = "/api/v1/organizations/"
    problem(api(alpha, alpha.agent).post(url, {"name": "Initech"}), 403)
    problem(api(alpha, alpha.contact1).post(url, {"name": "Initech"}), 403)
    admin = api(alpha, alpha.admin)
    made = admin.post(url, {"name": "Initech", "domains": ["@Initech.test"]})
    assert made.status_code == 201, made.content
    assert made.json()["domains"] == ["initech.test"]
    assert "name" in problem(admin.post(url, {"name": "Initech"}), 400)["errors"]
    org_url = f"{url}{made.json()['id']}/"
    updated = admin.patch(org_url, {"account_executive_email": "AE@initech.test"})
    assert updated.json()["account_executive_email"] == "ae@initech.test"
    problem(api(alpha, alpha.agent).patch(org_url, {"name": "X"}), 403)
    own = api(alpha, alpha.contact1).get(url).json()["results"]
    assert [o["id"] for o in own] == [alpha.org1.pk]


@pytest.mark.parametrize("url", ["/api/v1/teams/", "/api/v1/agents/", "/api/v1/contacts/"])
def test_people_lists_keep_a_flat_query_count(alpha: World, url: str) -> None:
    for i in range(12):
        member = Membership.objects.create(
            tenant=alpha.tenant,
            user=UserFactory(email=f"staff{i}@people.test"),
            role="agent",
            tier="agent",
        )
        team = TeamFactory(tenant=alpha.tenant)
        team.members.create(tenant=alpha.tenant, membership=member)
        Membership.objects.create(
            tenant=alpha.tenant,
            user=UserFactory(email=f"cust{i}@people.test"),
            role="customer",
            organization=alpha.org1,
            contact_role="authorized",
        )
    client: Any = api(alpha, alpha.admin)
    client.get(url)
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
