"""Reads of the core domain. Every selector scopes to the tenant before it fetches."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from .models import ApiToken, Membership, Organization, Tenant, User, hash_token


def tenant_zone(tenant: Tenant) -> ZoneInfo:
    """The tenant's time zone (UTC when unset or unknown)."""
    try:
        return ZoneInfo(tenant.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def tenant_today(tenant: Tenant, at: dt.datetime | None = None) -> dt.date:
    """The tenant's local date at ``at`` (default now): contracts run by dates in that zone."""
    return (at or timezone.now()).astimezone(tenant_zone(tenant)).date()


def tenant_for_slug(slug: str) -> Tenant | None:
    return Tenant.objects.filter(slug=slug).first()


def membership_for(*, tenant: Tenant, user: User) -> Membership | None:
    """The user's active membership in ``tenant``, or None."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.for_tenant(tenant)
        .select_related("organization")
        .filter(user=user, is_active=True)
        .first()
    )


def organizations_visible_to(*, tenant: Tenant, membership: Membership) -> QuerySet[Organization]:
    """Staff see every organization of the tenant; a contact sees only their own."""
    qs = Organization.objects.for_tenant(tenant)
    if membership.is_staff_member:
        return qs
    if membership.organization_id is None:
        return qs.none()
    return qs.filter(pk=membership.organization_id)


def organization_get(*, tenant: Tenant, organization_id: int) -> Organization:
    """The tenant's organization; 404 for a missing id and for another tenant's alike."""
    org = Organization.objects.for_tenant(tenant).filter(pk=organization_id).first()
    if org is None:
        raise Http404("No such organization")
    return org


def contacts_of(*, tenant: Tenant, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.for_tenant(tenant)
        .filter(organization=organization, role=Membership.Role.CUSTOMER)
        .select_related("user")
    )


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The token whose hash matches ``key`` (any tenant: the caller compares the tenant)."""
    return (
        ApiToken.objects.select_related("membership__user").filter(key_hash=hash_token(key)).first()
    )
