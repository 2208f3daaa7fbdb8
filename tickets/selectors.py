"""Reads of tickets, scoped to the tenant and to what the viewer may see."""

from __future__ import annotations

from django.db.models import QuerySet

from helpdesk.models import Membership, Tenant

from .models import Ticket


def tickets_visible_to(*, tenant: Tenant, membership: Membership) -> QuerySet[Ticket]:
    """Staff see every ticket of the tenant. An organization's owner sees all of the
    organization's tickets; other contacts see the tickets they requested."""
    qs = Ticket.objects.for_tenant(tenant).select_related("tenant")
    if membership.is_staff_member:
        return qs
    if (
        membership.contact_role == Membership.ContactRole.OWNER
        and membership.organization_id is not None
    ):
        return qs.filter(organization_id=membership.organization_id)
    return qs.filter(requester_id=membership.user_id)
