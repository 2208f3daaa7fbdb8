"""/manage/organizations/<id>/delete/: a confirmation saying what will happen (contracts deleted,
contacts detached), or why it cannot happen while tickets belong to the organization; admins of
the tenant only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from helpdesk.models import Organization
from sla.models import Contract
from tests.conftest import World
from tests.factories import ContractFactory
from tickets.services import ticket_create


def _url(organization: Organization) -> str:
    return f"/manage/organizations/{organization.pk}/delete/"


def _two_contracts(world: World) -> None:
    ContractFactory(
        tenant=world.tenant,
        organization=world.org1,
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2020, 12, 31),
    )
    ContractFactory(tenant=world.tenant, organization=world.org1, starts_on=dt.date(2021, 1, 1))


def test_detail_page_links_to_the_confirmation(alpha: World) -> None:
    body = alpha.client(alpha.admin).get(f"/manage/organizations/{alpha.org1.pk}/")
    assert f'href="{_url(alpha.org1)}"' in body.content.decode()


def test_admin_confirms_then_deletes(alpha: World) -> None:
    _two_contracts(alpha)
    client = alpha.client(alpha.admin)
    page = client.get(_url(alpha.org1))
    assert page.status_code == 200
    body = page.content.decode()
    assert "2 contracts will be deleted." in body
    assert "2 contacts will be detached and become pending verification" in body
    assert "Delete organization</button>" in body
    assert 'class="card people-confirm people-danger"' in body
    assert "style=" not in body and "<script>" not in body
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()  # GET changes nothing

    response = client.post(_url(alpha.org1))
    assert response.status_code == 302
    assert response["Location"] == "/manage/organizations/"
    assert not Organization.objects.filter(pk=alpha.org1.pk).exists()
    assert not Contract.objects.filter(organization_id=alpha.org1.pk).exists()
    for contact in (alpha.owner1, alpha.contact1):
        contact.refresh_from_db()
        assert (contact.organization_id, contact.contact_role) == (None, "pending")
    listing = client.get("/manage/organizations/").content.decode()
    assert (
        f"Organization {alpha.org1.name} deleted: 2 contracts deleted, 2 contacts detached "
        "(now pending verification)." in listing
    )
    assert client.get(_url(alpha.org1)).status_code == 404


def test_refused_page_when_tickets_belong_to_it(alpha: World) -> None:
    ticket_create(
        tenant=alpha.tenant,
        subject="Still open",
        requester=alpha.contact1.user,
        requester_email=alpha.contact1.user.email,
    )
    client = alpha.client(alpha.admin)
    page = client.get(_url(alpha.org1))
    assert page.status_code == 200
    body = page.content.decode()
    assert "cannot be deleted: 1 ticket belongs to it" in body
    assert "Delete organization</button>" not in body
    assert 'class="card people-confirm people-danger"' not in body  # no delete form at all

    response = client.post(_url(alpha.org1))
    assert response.status_code == 409
    assert "cannot be deleted: 1 ticket belongs to it" in response.content.decode()
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()
    alpha.contact1.refresh_from_db()
    assert alpha.contact1.organization_id == alpha.org1.pk


@pytest.mark.parametrize("who", ["agent", "lead", "owner1", "contact1"])
def test_agents_and_customers_get_404(alpha: World, who: str) -> None:
    client = alpha.client(getattr(alpha, who))
    assert client.get(_url(alpha.org1)).status_code == 404
    assert client.post(_url(alpha.org1)).status_code == 404
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()


def test_anonymous_goes_to_login(alpha: World) -> None:
    response = Client(HTTP_HOST=alpha.host).post(_url(alpha.org1))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()


def test_other_tenants_organization_is_404(alpha: World, beta: World) -> None:
    client = beta.client(beta.admin)
    assert client.get(_url(alpha.org1)).status_code == 404
    assert client.post(_url(alpha.org1)).status_code == 404
    assert Organization.objects.filter(pk=alpha.org1.pk).exists()
