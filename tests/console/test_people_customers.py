"""/manage/organizations/ and /manage/contacts/: who may enter, organizations, contracts and
contacts round trips, form errors that keep the input, verification releasing held tickets,
isolation and query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpdesk.models import Membership, Organization
from sla.models import Contract
from tests.conftest import World
from tests.factories import ContactFactory, ContractFactory, OrganizationFactory
from tests.factories import SupportPackageFactory as PackageFactory
from tickets.models import Ticket
from tickets.services import ticket_create

LISTS = [
    "/manage/organizations/",
    "/manage/organizations/new/",
    "/manage/contacts/",
    "/manage/teams/",
    "/manage/teams/new/",
    "/manage/agents/",
    "/manage/agents/invite/",
    "/manage/webhooks/",
    "/manage/webhooks/new/",
    "/manage/tokens/",
    "/manage/tokens/new/",
]


def html(response: object) -> str:
    return response.content.decode()


@pytest.mark.parametrize("url", LISTS)
def test_pages_render_for_admin_and_no_one_else(url: str, alpha: World) -> None:
    response = alpha.client(alpha.admin).get(url)
    assert response.status_code == 200
    body = html(response)
    assert 'class="console-nav"' in body
    assert "<script>" not in body and "style=" not in body
    for member in (alpha.agent, alpha.owner1, alpha.contact1):
        client = alpha.client(member)
        assert client.get(url).status_code == 404, member
        assert client.post(url, {}).status_code == 404, member
    anonymous = Client(HTTP_HOST=alpha.host).get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"/accounts/login/?next={url}")


def test_detail_pages_are_admin_only(alpha: World) -> None:
    urls = [
        f"/manage/organizations/{alpha.org1.pk}/",
        f"/manage/organizations/{alpha.org1.pk}/edit/",
        f"/manage/contacts/{alpha.contact1.pk}/edit/",
        f"/manage/contacts/{alpha.contact1.pk}/deactivate/",
    ]
    admin = alpha.client(alpha.admin)
    for url in urls:
        assert admin.get(url).status_code == 200, url
        assert alpha.client(alpha.agent).get(url).status_code == 404, url
        assert alpha.client(alpha.owner1).post(url, {}).status_code == 404, url
        assert Client(HTTP_HOST=alpha.host).get(url).status_code == 302, url
    # Nothing was deactivated by the refused posts.
    alpha.contact1.refresh_from_db()
    assert alpha.contact1.is_active


def test_another_tenants_rows_are_404_and_invalid_choices(alpha: World, beta: World) -> None:
    admin = alpha.client(alpha.admin)
    assert admin.get(f"/manage/organizations/{beta.org1.pk}/").status_code == 404
    assert admin.post(f"/manage/contacts/{beta.contact1.pk}/deactivate/").status_code == 404
    contract = ContractFactory(tenant=beta.tenant, organization=beta.org1)
    assert admin.post(f"/manage/organizations/contracts/{contract.pk}/delete/").status_code == 404
    assert Contract.objects.filter(pk=contract.pk).exists()
    # Beta's package posted by hand onto alpha's organization: an invalid choice, not a contract.
    response = admin.post(
        f"/manage/organizations/{alpha.org1.pk}/contracts/new/",
        {"package": contract.package_id, "starts_on": "2026-01-01"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in html(response)
    assert not Contract.objects.filter(organization=alpha.org1).exists()
    beta.contact1.refresh_from_db()
    assert beta.contact1.is_active


# --- organizations ------------------------------------------------------------------------------


def test_organization_create_edit_and_search(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/organizations/new/",
        {
            "name": " Initech ",
            "domains": "initech.example, @INITECH.test",
            "account_executive_email": "AE@Provider.test",
            "notes": "Pays late.",
        },
    )
    org = Organization.objects.get(tenant=alpha.tenant, name="Initech")
    assert (
        response.status_code == 302 and response["Location"] == f"/manage/organizations/{org.pk}/"
    )
    assert org.domains == ["initech.example", "initech.test"]
    assert org.account_executive_email == "ae@provider.test"
    assert org.notes == "Pays late."
    detail = html(admin.get(response["Location"]))
    assert "initech.example, initech.test" in detail and "Pays late." in detail

    response = admin.post(
        f"/manage/organizations/{org.pk}/edit/",
        {"name": "Initech Corp", "domains": "", "account_executive_email": "", "notes": ""},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.domains, org.account_executive_email, org.notes) == (
        "Initech Corp",
        [],
        "",
        "",
    )

    found = html(admin.get("/manage/organizations/", {"q": "initech"}))
    assert "Initech Corp" in found and alpha.org1.name not in found
    assert "No organization matches." in html(admin.get("/manage/organizations/", {"q": "zzz"}))


def test_organization_form_errors_keep_the_input(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/organizations/new/",
        {"name": "", "domains": "good.example, not a domain!", "notes": "Keep me"},
    )
    assert response.status_code == 400
    body = html(response)
    assert "This field is required." in body
    assert "Not a domain: not, a, domain!." in body
    assert "Keep me" in body and "good.example, not a domain!" in body
    # The service's refusal (a taken name) lands on the name field, input kept.
    response = admin.post(
        "/manage/organizations/new/", {"name": alpha.org1.name, "notes": "Second try"}
    )
    assert response.status_code == 400
    assert "An organization with this name already exists." in html(response)
    assert "Second try" in html(response)
    assert Organization.objects.filter(tenant=alpha.tenant).count() == 2


def test_organization_list_paginates_with_a_fixed_query_count(alpha: World) -> None:
    for n in range(30):
        OrganizationFactory(tenant=alpha.tenant, name=f"Zeta {n:02d}")
    admin = alpha.client(alpha.admin)
    first = html(admin.get("/manage/organizations/", {"q": "Zeta"}))
    assert "Zeta 00" in first and "Zeta 25" not in first
    assert "page=2" in first and "q=Zeta" in first
    second = html(admin.get("/manage/organizations/", {"q": "Zeta", "page": "2"}))
    assert "Zeta 29" in second and "Zeta 00" not in second

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get("/manage/organizations/", {"q": "Zeta"}).status_code == 200
        return len(ctx)

    many = count()
    Organization.objects.filter(name__startswith="Zeta").exclude(name="Zeta 00").delete()
    assert count() == many


# --- contracts ----------------------------------------------------------------------------------


def test_contract_round_trip_and_overlap_errors(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    gold = PackageFactory(tenant=alpha.tenant, name="Gold")
    silver = PackageFactory(tenant=alpha.tenant, name="Silver")
    url = f"/manage/organizations/{alpha.org1.pk}/contracts/new/"
    response = admin.post(
        url, {"package": gold.pk, "starts_on": "2025-01-01", "ends_on": "2025-12-31"}
    )
    assert response.status_code == 302
    first = Contract.objects.get(organization=alpha.org1)

    # Overlapping: refused on the form, with the input kept.
    response = admin.post(url, {"package": silver.pk, "starts_on": "2025-06-01", "ends_on": ""})
    assert response.status_code == 400
    body = html(response)
    assert f"Overlaps contract {first.pk}" in body
    assert 'value="2025-06-01"' in body
    assert f'<option value="{silver.pk}" selected>' in body
    assert Contract.objects.filter(organization=alpha.org1).count() == 1
    # Ending before it starts: a field error.
    response = admin.post(
        url, {"package": silver.pk, "starts_on": "2026-06-01", "ends_on": "2026-01-01"}
    )
    assert "A contract cannot end before it starts." in html(response)

    # The next year, open-ended; then edit the first one into an overlap (refused) and back.
    assert admin.post(url, {"package": silver.pk, "starts_on": "2026-01-01"}).status_code == 302
    second = Contract.objects.get(organization=alpha.org1, package=silver)
    assert second.ends_on is None
    edit = f"/manage/organizations/contracts/{first.pk}/edit/"
    response = admin.post(
        edit, {"package": gold.pk, "starts_on": "2025-01-01", "ends_on": "2026-02-01"}
    )
    assert response.status_code == 400
    assert f"Overlaps contract {second.pk}" in html(response)
    first.refresh_from_db()
    assert first.ends_on == dt.date(2025, 12, 31)
    response = admin.post(
        edit, {"package": silver.pk, "starts_on": "2025-02-01", "ends_on": "2025-12-31"}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.package_id, first.starts_on) == (silver.pk, dt.date(2025, 2, 1))

    # End the open one today; delete the old one.
    end = f"/manage/organizations/contracts/{second.pk}/end/"
    assert "End the contract today" in html(admin.get(end))
    assert admin.post(end).status_code == 302
    second.refresh_from_db()
    assert second.ends_on is not None and second.ends_on >= second.starts_on
    delete = f"/manage/organizations/contracts/{first.pk}/delete/"
    assert admin.post(delete).status_code == 302
    assert not Contract.objects.filter(pk=first.pk).exists()


def test_ending_a_future_contract_explains_why_not(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    future = ContractFactory(
        tenant=alpha.tenant, organization=alpha.org1, starts_on=dt.date(2099, 1, 1)
    )
    response = admin.post(f"/manage/organizations/contracts/{future.pk}/end/")
    assert response.status_code == 400
    assert "cannot end before it starts" in html(response)
    assert "Delete the contract instead" in html(response)
    future.refresh_from_db()
    assert future.ends_on is None


# --- contacts -----------------------------------------------------------------------------------


def _held_ticket(world: World, contact: Membership, subject: str) -> Ticket:
    ticket = ticket_create(
        tenant=world.tenant,
        subject=subject,
        requester=contact.user,
        requester_email=contact.user.email,
    )
    assert ticket.held_for_verification, "a pending contact's ticket is held"
    return ticket


def test_contact_add_change_role_and_deactivate(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    url = f"/manage/organizations/{alpha.org1.pk}/contacts/new/"
    response = admin.post(
        url, {"email": "New.Person@Customer.test", "name": "New", "role": "owner"}
    )
    assert response.status_code == 302
    contact = Membership.objects.get(tenant=alpha.tenant, user__email="new.person@customer.test")
    assert (contact.role, contact.contact_role, contact.organization_id) == (
        "customer",
        "owner",
        alpha.org1.pk,
    )
    detail = html(admin.get(f"/manage/organizations/{alpha.org1.pk}/"))
    assert "new.person@customer.test" in detail
    assert "/manage/phone/" in detail

    # Staff cannot be made a contact; the input stays.
    response = admin.post(url, {"email": alpha.agent.user.email, "name": "Kept", "role": "owner"})
    assert response.status_code == 400
    assert "already a member of staff" in html(response)
    assert "Kept" in html(response)
    response = admin.post(url, {"email": "not-an-email", "role": "owner"})
    assert response.status_code == 400 and "Enter a valid email address." in html(response)

    # Role change, and moving to another organization.
    edit = f"/manage/contacts/{contact.pk}/edit/"
    response = admin.post(
        edit, {"name": "Renamed", "organization": alpha.org2.pk, "role": "authorized"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    contact.user.refresh_from_db()
    assert (contact.contact_role, contact.organization_id, contact.user.name) == (
        "authorized",
        alpha.org2.pk,
        "Renamed",
    )
    # A verified role without an organization: refused on the form.
    response = admin.post(edit, {"name": "Renamed", "organization": "", "role": "owner"})
    assert response.status_code == 400
    assert "An owner or authorized contact needs one." in html(response)

    response = admin.post(f"/manage/contacts/{contact.pk}/deactivate/", follow=True)
    assert "new.person@customer.test can no longer sign in here." in html(response)
    contact.refresh_from_db()
    assert not contact.is_active
    assert "new.person@customer.test" not in html(admin.get("/manage/contacts/"))


def test_verifying_a_pending_contact_releases_their_held_tickets(alpha: World) -> None:
    pending = ContactFactory(
        tenant=alpha.tenant, organization=None, contact_role="pending", user__email="p@new.test"
    )
    tickets = [_held_ticket(alpha, pending, f"Held {n}") for n in range(2)]
    admin = alpha.client(alpha.admin)
    url = f"/manage/contacts/{pending.pk}/verify/"
    page = html(admin.get(url))
    assert "Held tickets to release" in page and "<dd>2</dd>" in page
    # No organization chosen: a form error, nothing released.
    response = admin.post(url, {"organization": "", "role": "authorized"})
    assert response.status_code == 400
    assert "This field is required." in html(response)
    assert all(Ticket.objects.get(pk=t.pk).held_for_verification for t in tickets)

    response = admin.post(url, {"organization": alpha.org2.pk, "role": "owner"}, follow=True)
    assert "2 held tickets were released into the queue." in html(response)
    pending.refresh_from_db()
    assert (pending.contact_role, pending.organization_id) == ("owner", alpha.org2.pk)
    for ticket in tickets:
        ticket.refresh_from_db()
        assert not ticket.held_for_verification
        assert ticket.organization_id == alpha.org2.pk
    # Verified already: the page sends back with a note instead of verifying twice.
    assert admin.get(url).status_code == 302


def test_leaving_pending_on_the_edit_form_also_releases(alpha: World) -> None:
    pending = ContactFactory(tenant=alpha.tenant, organization=alpha.org1, contact_role="pending")
    ticket = _held_ticket(alpha, pending, "Waiting")
    response = alpha.client(alpha.admin).post(
        f"/manage/contacts/{pending.pk}/edit/",
        {"name": "", "organization": alpha.org1.pk, "role": "authorized"},
        follow=True,
    )
    assert "1 held ticket was released into the queue." in html(response)
    ticket.refresh_from_db()
    assert not ticket.held_for_verification


def test_adding_a_pending_sign_up_as_authorized_releases_their_tickets(alpha: World) -> None:
    pending = ContactFactory(
        tenant=alpha.tenant, organization=None, contact_role="pending", user__email="s@up.test"
    )
    ticket = _held_ticket(alpha, pending, "Sent while pending")
    response = alpha.client(alpha.admin).post(
        f"/manage/organizations/{alpha.org1.pk}/contacts/new/",
        {"email": "s@up.test", "role": "authorized"},
        follow=True,
    )
    assert "1 held ticket was released into the queue." in html(response)
    ticket.refresh_from_db()
    assert not ticket.held_for_verification


def test_contacts_list_filters_searches_and_paginates(alpha: World, beta: World) -> None:
    admin = alpha.client(alpha.admin)
    body = html(admin.get("/manage/contacts/"))
    for contact in (alpha.owner1, alpha.contact1, alpha.owner2, alpha.contact2):
        assert contact.user.email in body
    assert alpha.agent.user.email not in body and beta.contact1.user.email not in body

    owners = html(admin.get("/manage/contacts/", {"role": "owner"}))
    assert alpha.owner1.user.email in owners and alpha.contact1.user.email not in owners
    org2 = html(admin.get("/manage/contacts/", {"organization": alpha.org2.pk}))
    assert alpha.contact2.user.email in org2 and alpha.contact1.user.email not in org2
    found = html(admin.get("/manage/contacts/", {"q": "c1@"}))
    assert alpha.contact1.user.email in found and alpha.owner1.user.email not in found
    # Another tenant's organization id is an invalid filter, not a way in.
    other = admin.get("/manage/contacts/", {"organization": beta.org1.pk})
    assert other.status_code == 200 and beta.contact1.user.email not in html(other)

    for n in range(30):
        ContactFactory(
            tenant=alpha.tenant, organization=alpha.org1, user__email=f"zz{n:02d}@x.test"
        )

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = admin.get("/manage/contacts/", {"q": "zz"})
        assert response.status_code == 200
        return len(ctx)

    page1 = html(admin.get("/manage/contacts/", {"q": "zz"}))
    assert "zz00@x.test" in page1 and "zz29@x.test" not in page1 and "page=2" in page1
    page2 = html(admin.get("/manage/contacts/", {"q": "zz", "page": "2"}))
    assert "zz29@x.test" in page2
    many = count()
    Membership.objects.filter(user__email__startswith="zz").exclude(
        user__email="zz00@x.test"
    ).update(is_active=False)
    assert count() == many
