"""Seed 003: only verified contacts get support; what a pending contact sends is held, not lost."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from helpdesk.services import contact_add, contact_signup, contact_verify
from tests.conftest import World
from tests.factories import UserFactory
from tickets.models import Ticket
from tickets.selectors import tickets_visible_to
from tickets.services import ticket_create


def test_pending_contact_ticket_is_held_then_released(alpha: World) -> None:
    user = UserFactory(email="newbie@alpha.test")
    pending = contact_signup(tenant=alpha.tenant, user=user)
    assert pending.contact_role == "pending"

    ticket = ticket_create(
        tenant=alpha.tenant,
        subject="Our site is slow",
        description="Every page takes 10 s.",
        requester=user,
        requester_email=user.email,
    )
    ticket.refresh_from_db()
    assert ticket.held_for_verification is True
    assert ticket.description == "Every page takes 10 s."  # kept in full
    # The requester still sees what they sent.
    assert list(tickets_visible_to(tenant=alpha.tenant, membership=pending)) == [ticket]

    contact_verify(tenant=alpha.tenant, contact=pending, organization=alpha.org1)
    ticket.refresh_from_db()
    assert ticket.held_for_verification is False
    assert ticket.organization == alpha.org1
    pending.refresh_from_db()
    assert pending.contact_role == "authorized"


def test_verified_contact_ticket_is_not_held(alpha: World) -> None:
    ticket = ticket_create(
        tenant=alpha.tenant,
        subject="Question",
        requester=alpha.contact1.user,
        requester_email=alpha.contact1.user.email,
    )
    assert ticket.held_for_verification is False
    assert ticket.organization == alpha.org1


def test_verify_refuses_other_tenants_contact(alpha: World, beta: World) -> None:
    with pytest.raises(ValidationError):
        contact_verify(tenant=alpha.tenant, contact=beta.contact1, organization=alpha.org1)
    with pytest.raises(ValidationError):
        contact_verify(tenant=alpha.tenant, contact=alpha.contact1, organization=beta.org1)


def test_contact_add_links_existing_user(alpha: World, beta: World) -> None:
    # A global identity can be a contact in two tenants.
    membership = contact_add(
        tenant=beta.tenant, organization=beta.org1, email=alpha.contact1.user.email
    )
    assert membership.user_id == alpha.contact1.user_id
    assert membership.tenant_id == beta.tenant.pk


def test_owner_sees_organization_tickets_contact_sees_own(alpha: World) -> None:
    mine = ticket_create(
        tenant=alpha.tenant,
        subject="Mine",
        requester=alpha.contact1.user,
        requester_email=alpha.contact1.user.email,
    )
    colleague = ticket_create(
        tenant=alpha.tenant,
        subject="Colleague's",
        requester=alpha.owner1.user,
        requester_email=alpha.owner1.user.email,
    )
    other_org = ticket_create(
        tenant=alpha.tenant,
        subject="Other org",
        requester=alpha.contact2.user,
        requester_email=alpha.contact2.user.email,
    )
    assert set(tickets_visible_to(tenant=alpha.tenant, membership=alpha.contact1)) == {mine}
    assert set(tickets_visible_to(tenant=alpha.tenant, membership=alpha.owner1)) == {
        mine,
        colleague,
    }
    assert Ticket.objects.for_tenant(alpha.tenant).count() == 3
    assert other_org not in tickets_visible_to(tenant=alpha.tenant, membership=alpha.owner1)
