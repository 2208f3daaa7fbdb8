"""Deleting an organization: refused while tickets belong to it; otherwise its contracts go, its
contacts stay (detached and pending), everything else is untouched; the service and
DELETE /api/v1/organizations/{id}/ (admins only; 409 while in use; another tenant's id is 404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client

from channels.chat.models import ChatSession
from channels.phone.models import PhoneCode
from helpdesk.models import Membership, Organization, Tenant
from helpdesk.selectors import organizations_visible_to
from helpdesk.services import (
    api_token_create,
    contact_signup,
    contact_verify,
    organization_delete,
    organization_delete_impact,
)
from sla.models import Contract
from tests.conftest import World
from tests.factories import ContactFactory, ContractFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create


def _ticket(world: World, contact: Membership) -> Ticket:
    return ticket_create(
        tenant=world.tenant,
        subject="Printer on fire",
        requester=contact.user,
        requester_email=contact.user.email,
    )


def _contracts(world: World, organization: Organization) -> list[Contract]:
    first: Contract = ContractFactory(
        tenant=world.tenant,
        organization=organization,
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2020, 12, 31),
    )
    second: Contract = ContractFactory(
        tenant=world.tenant, organization=organization, starts_on=dt.date(2021, 1, 1)
    )
    return [first, second]


def _stamp(tenant: Tenant) -> object:
    return Tenant.objects.values_list("config_stamp", flat=True).get(pk=tenant.pk)


# --- the service ----------------------------------------------------------------------------


def test_refused_while_tickets_belong_to_it_and_nothing_changes(alpha: World) -> None:
    contracts = _contracts(alpha, alpha.org1)
    ticket = _ticket(alpha, alpha.contact1)
    assert ticket.organization_id == alpha.org1.pk
    stamp = _stamp(alpha.tenant)

    with pytest.raises(ValidationError) as caught:
        organization_delete(organization=alpha.org1)
    assert "cannot be deleted: 1 ticket belongs to it" in " ".join(caught.value.messages)
    assert alpha.org1.name in " ".join(caught.value.messages)

    assert Organization.objects.filter(pk=alpha.org1.pk).exists()
    assert Contract.objects.filter(pk__in=[c.pk for c in contracts]).count() == 2
    ticket.refresh_from_db()
    assert ticket.organization_id == alpha.org1.pk
    for contact in (alpha.owner1, alpha.contact1):
        contact.refresh_from_db()
        assert contact.organization_id == alpha.org1.pk
        assert contact.contact_role in ("owner", "authorized")
    assert _stamp(alpha.tenant) == stamp


def test_refusal_names_how_many_tickets(alpha: World) -> None:
    _ticket(alpha, alpha.contact1)
    _ticket(alpha, alpha.owner1)
    _ticket(alpha, alpha.owner1)
    impact = organization_delete_impact(organization=alpha.org1)
    assert (impact.tickets, impact.blocked) == (3, True)
    with pytest.raises(ValidationError, match="3 tickets belong to it"):
        organization_delete(organization=alpha.org1)


def test_contracts_go_contacts_stay_detached_and_pending(alpha: World, beta: World) -> None:
    _contracts(alpha, alpha.org1)
    kept_contract = ContractFactory(tenant=alpha.tenant, organization=alpha.org2)
    beta_contract = ContractFactory(tenant=beta.tenant, organization=beta.org1)
    gone: Membership = ContactFactory(
        tenant=alpha.tenant, organization=alpha.org1, is_active=False, user__email="x@alpha.test"
    )
    signed_up = contact_signup(tenant=alpha.tenant, user=UserFactory(email="new@alpha.test"))
    signed_up.organization = alpha.org1  # a pending sign-up matched by domain
    signed_up.save(update_fields=["organization"])
    token, _key = api_token_create(tenant=alpha.tenant, membership=alpha.owner1)
    code = PhoneCode.objects.create(
        tenant=alpha.tenant, membership=alpha.owner1, code="12345678", code_digest="d" * 64
    )
    chat = ChatSession.objects.create(
        tenant=alpha.tenant, customer=alpha.contact1, organization=alpha.org1
    )
    impact = organization_delete_impact(organization=alpha.org1)
    assert (impact.tickets, impact.contracts, impact.contacts) == (0, 2, 4)

    organization_delete(organization=alpha.org1)

    assert not Organization.objects.filter(pk=alpha.org1.pk).exists()
    assert not Contract.objects.filter(organization_id=alpha.org1.pk).exists()
    assert Contract.objects.filter(pk__in=[kept_contract.pk, beta_contract.pk]).count() == 2
    for contact, active in (
        (alpha.owner1, True),
        (alpha.contact1, True),
        (gone, False),
        (signed_up, True),
    ):
        contact.refresh_from_db()  # the membership is kept …
        assert contact.organization_id is None, contact
        assert contact.contact_role == Membership.ContactRole.PENDING, contact
        assert contact.is_active is active, contact
        assert not contact.is_verified_contact
        # … and sees no organization until staff verify it into one again.
        assert not organizations_visible_to(tenant=alpha.tenant, membership=contact).exists()
    # Tokens, phone codes and chats stay (the chat without its organization).
    token.refresh_from_db()
    assert token.is_usable()
    assert PhoneCode.objects.filter(pk=code.pk, membership=alpha.owner1).exists()
    chat.refresh_from_db()
    assert chat.organization_id is None and chat.customer_id == alpha.contact1.pk
    # The other organization and the other tenant are untouched.
    for contact in (alpha.owner2, alpha.contact2, beta.owner1, beta.contact1):
        contact.refresh_from_db()
        assert contact.organization_id is not None and contact.is_verified_contact
    assert Organization.objects.filter(pk__in=[alpha.org2.pk, beta.org1.pk]).count() == 2


def test_detached_contact_is_verified_into_another_organization(alpha: World) -> None:
    organization_delete(organization=alpha.org1)
    alpha.contact1.refresh_from_db()
    contact_verify(tenant=alpha.tenant, contact=alpha.contact1, organization=alpha.org2)
    alpha.contact1.refresh_from_db()
    assert alpha.contact1.organization_id == alpha.org2.pk
    assert alpha.contact1.contact_role == "authorized"


def test_delete_renews_the_configuration_stamp(alpha: World, beta: World) -> None:
    stamp, beta_stamp = _stamp(alpha.tenant), _stamp(beta.tenant)
    organization_delete(organization=alpha.org1)
    assert _stamp(alpha.tenant) != stamp
    assert _stamp(beta.tenant) == beta_stamp


def test_an_organization_deleted_meanwhile_is_left_gone(alpha: World) -> None:
    stale = Organization.objects.get(pk=alpha.org1.pk)
    organization_delete(organization=alpha.org1)
    organization_delete(organization=stale)  # no error: it is already gone
    assert not Organization.objects.filter(pk=alpha.org1.pk).exists()


HANDLED = {
    ("helpdesk.Membership", "organization"),  # detached, pending
    ("tickets.Ticket", "organization"),  # refusal
    ("sla.Contract", "organization"),  # deleted
    ("helpdesk_chat.ChatSession", "organization"),  # set to null
}


def test_every_foreign_key_to_organization_is_handled_by_the_service() -> None:
    found = {
        (model._meta.label, field.name)
        for model in apps.get_models(include_auto_created=True)  # many-to-many tables too
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is Organization
    }
    # A new reference to Organization must be dealt with in helpdesk.services.
    # organization_delete (refused, deleted, detached …) and then listed here.
    assert found == HANDLED


# --- DELETE /api/v1/organizations/{id}/ -----------------------------------------------------


def _api(world: World, membership: Membership) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership, name="orgdel")
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


def _url(organization: Organization) -> str:
    return f"/api/v1/organizations/{organization.pk}/"


def test_api_admin_deletes(alpha: World) -> None:
    _contracts(alpha, alpha.org1)
    stamp = _stamp(alpha.tenant)
    response = _api(alpha, alpha.admin).delete(_url(alpha.org1))
    assert response.status_code == 204, response.content
    assert response.content == b""
    assert not Organization.objects.filter(pk=alpha.org1.pk).exists()
    assert not Contract.objects.filter(organization_id=alpha.org1.pk).exists()
    alpha.owner1.refresh_from_db()
    assert (alpha.owner1.organization_id, alpha.owner1.contact_role) == (None, "pending")
    assert _stamp(alpha.tenant) != stamp
    again = _api(alpha, alpha.admin).delete(_url(alpha.org1))
    assert again.status_code == 404
    assert again["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("who", ["agent", "lead", "owner1", "contact1"])
def test_api_agents_and_customers_are_refused(alpha: World, who: str) -> None:
    response = _api(alpha, getattr(alpha, who)).delete(_url(alpha.org1))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()
    alpha.owner1.refresh_from_db()
    assert alpha.owner1.organization_id == alpha.org1.pk


def test_api_other_tenants_organization_is_404(alpha: World, beta: World) -> None:
    response = _api(beta, beta.admin).delete(_url(alpha.org1))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()


def test_api_in_use_is_409_problem(alpha: World) -> None:
    _ticket(alpha, alpha.contact1)
    _ticket(alpha, alpha.contact1)
    response = _api(alpha, alpha.admin).delete(_url(alpha.org1))
    assert response.status_code == 409, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 409 and body["title"] == "Conflict"
    assert body["type"].endswith("/conflict")
    assert "2 tickets belong to it" in body["detail"]
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()
