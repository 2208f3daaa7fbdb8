"""Deleting a tenant removes everything it owns and nothing of anyone else's."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from helpdesk.demo import DEMO_TENANTS, demo_load_tenant
from helpdesk.models import Membership, Tenant
from helpdesk.tenancy import TenantOwned
from tickets.models import Ticket
from tickets.services import attachment_add, ticket_create, ticket_note, ticket_reply


def _owned_counts(tenant_id: int) -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        if issubclass(model, TenantOwned):
            n = model._base_manager.filter(tenant_id=tenant_id).count()
            if n:
                counts[model._meta.label] = n
    return counts


def _busy_tenant(slug: str) -> tuple[Tenant, str]:
    spec = next(s for s in DEMO_TENANTS if s.slug == slug)
    tenant = demo_load_tenant(spec)
    owner = Membership.objects.filter(tenant=tenant, contact_role="owner").select_related(
        "user", "organization"
    )[0]
    agent = Membership.objects.filter(tenant=tenant, role="agent").first()
    ticket = ticket_create(
        tenant=tenant,
        subject="Printer on fire",
        description="Smoke",
        requester=owner.user,
        requester_email=owner.user.email,
        organization=owner.organization,
    )
    attachment = attachment_add(
        ticket=ticket, upload=io.BytesIO(b"smoke"), filename="smoke.txt", by=owner.user
    )
    ticket_reply(ticket=ticket, body="On it", author=agent.user, attachments=[attachment])
    ticket_note(ticket=ticket, body="internal", by=agent)
    assert attachment.file.name
    return tenant, attachment.file.name


@pytest.mark.django_db(transaction=True)
def test_delete_tenant_command_removes_all_it_owns() -> None:
    doomed, doomed_file = _busy_tenant("officernd")
    kept, kept_file = _busy_tenant("otcommerce")
    default_storage.save(f"branding/{doomed.pk}/logo-x.png", ContentFile(b"png"))
    kept_before = _owned_counts(kept.pk)
    assert len(_owned_counts(doomed.pk)) > 15  # catalogs, calendars, contracts, tickets, clocks…
    assert default_storage.exists(doomed_file)

    with pytest.raises(CommandError):
        call_command("delete_tenant", "officernd")  # no --yes: nothing happens
    assert Tenant.objects.filter(pk=doomed.pk).exists()

    call_command("delete_tenant", "officernd", "--yes", stdout=io.StringIO())

    assert not Tenant.objects.filter(pk=doomed.pk).exists()
    assert _owned_counts(doomed.pk) == {}
    assert _owned_counts(kept.pk) == kept_before
    assert not default_storage.exists(doomed_file)
    assert not default_storage.exists(f"branding/{doomed.pk}/logo-x.png")
    assert default_storage.exists(kept_file)
    assert Ticket.objects.filter(tenant=kept).count() == 1
