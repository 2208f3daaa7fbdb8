"""Reads of the phone channel. Every selector scopes to the tenant before it fetches.

Entitlement follows the SLA engine's own rule for which package covers an organization
(:mod:`sla.coverage`): the organization's active contract on the tenant's today, else — when
the tenant's no-contract rule says so — the default package. Phone support is included when that
package lists the ``phone`` channel (seed 000: Ultimate only).
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Membership, Organization, Tenant
from helpdesk.selectors import tenant_today
from sla.models import Contract, SLAPolicy, SupportPackage
from sla.selectors import package_for_organization, sla_policy_for
from tickets.models import Ticket
from tickets.selectors import tickets_visible_to

from .models import CODE_LENGTH, PhoneCode, code_digest

PHONE = Ticket.Channel.PHONE.value


@dataclass(frozen=True)
class Entitlement:
    """Whether a contact may use phone support, and why not when they may not."""

    organization: Organization | None
    package: SupportPackage | None
    entitled: bool
    reason: str | Promise = ""


@dataclass(frozen=True)
class Caller:
    """A verified caller: the contact whose personal code was given, and their entitlement."""

    contact: Membership
    entitlement: Entitlement


def phone_entitlement_for(*, membership: Membership, on: dt.date | None = None) -> Entitlement:
    """May ``membership`` (a contact) use phone support on ``on`` (default: the tenant's today)?

    Only active, verified contacts of an organization whose package includes phone are."""
    organization = membership.organization
    if membership.role != Membership.Role.CUSTOMER or not membership.is_active:
        return Entitlement(organization, None, False, _("Only active customer contacts."))
    if not membership.is_verified_contact or organization is None:
        return Entitlement(organization, None, False, _("The contact is waiting for verification."))
    tenant = membership.tenant
    package = package_for_organization(
        tenant=tenant, organization=organization, on=on or tenant_today(tenant)
    ).package
    if package is None:
        return Entitlement(organization, None, False, _("No active support contract."))
    if PHONE not in (package.channels or []):
        return Entitlement(
            organization,
            package,
            False,
            _("The %(package)s package does not include phone support.")
            % {"package": package.name},
        )
    return Entitlement(organization, package, True)


def phone_code_of(*, membership: Membership) -> PhoneCode | None:
    return PhoneCode.objects.for_tenant(membership.tenant_id).filter(membership=membership).first()


def code_normalise(raw: str) -> str | None:
    """A code as typed or spoken ("1234 5678", "1234-5678") → its digits; None when it cannot
    be a code (wrong length, other characters)."""
    code = "".join(ch for ch in (raw or "") if ch not in " -\t")
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        return None
    return code


def phone_caller_for_code(*, tenant: Tenant, code: str) -> Caller | None:
    """The active contact of ``tenant`` whose personal code is ``code``, with their entitlement;
    None for an unknown code (another tenant's code is unknown here).

    Callers must throttle this (``channels.phone.throttling``): it answers whether a guess
    was right."""
    normalised = code_normalise(code)
    if normalised is None:
        return None
    row = (
        PhoneCode.objects.for_tenant(tenant)
        .select_related("membership__user", "membership__organization", "membership__tenant")
        .filter(
            code_digest=code_digest(tenant.pk, normalised),
            membership__is_active=True,
            membership__role=Membership.Role.CUSTOMER,
        )
        .first()
    )
    if row is None or not hmac.compare_digest(row.code.encode(), normalised.encode()):
        return None
    contact = row.membership
    return Caller(contact=contact, entitlement=phone_entitlement_for(membership=contact))


def caller_get(*, tenant: Tenant, membership_id: int) -> Membership | None:
    """An active customer contact of ``tenant`` by id (a caller verified earlier in the call)."""
    return (
        Membership.objects.for_tenant(tenant)
        .select_related("user", "organization", "tenant")
        .filter(pk=membership_id, role=Membership.Role.CUSTOMER, is_active=True)
        .first()
    )


def phone_contacts_entitled(*, tenant: Tenant, on: dt.date | None = None) -> QuerySet[Membership]:
    """The tenant's active, verified contacts whose organization's package includes phone,
    each annotated with ``phone_code`` (None until made) and ``phone_regenerated_at``; ordered
    by organization and email. A handful of queries whatever the number of contacts."""
    on = on or tenant_today(tenant)
    phone_packages = [
        p.pk
        for p in SupportPackage.objects.for_tenant(tenant).only("id", "channels")
        if PHONE in (p.channels or [])
    ]
    active = Contract.objects.for_tenant(tenant).filter(starts_on__lte=on).exclude(ends_on__lt=on)
    with_phone = set(
        active.filter(package_id__in=phone_packages).values_list("organization_id", flat=True)
    )
    policy = sla_policy_for(tenant=tenant)
    contacts = Membership.objects.for_tenant(tenant).filter(
        role=Membership.Role.CUSTOMER,
        is_active=True,
        contact_role__in=[Membership.ContactRole.OWNER, Membership.ContactRole.AUTHORIZED],
    )
    default_has_phone = (
        policy is not None
        and policy.no_contract_rule == SLAPolicy.NoContractRule.DEFAULT_PACKAGE
        and policy.default_package is not None
        and policy.default_package.pk in phone_packages
    )
    if default_has_phone:
        covered = set(active.values_list("organization_id", flat=True))
        contacts = contacts.filter(organization_id__isnull=False).exclude(
            organization_id__in=covered - with_phone
        )
    else:
        contacts = contacts.filter(organization_id__in=with_phone)
    codes = PhoneCode.objects.for_tenant(tenant).filter(membership=OuterRef("pk"))
    return (
        contacts.select_related("user", "organization")
        .annotate(
            phone_code=Subquery(codes.values("code")[:1]),
            phone_regenerated_at=Subquery(codes.values("regenerated_at")[:1]),
        )
        .order_by("organization__name", "user__email", "pk")
    )


def _caller_tickets(*, tenant: Tenant, agent: Membership, caller: Membership) -> QuerySet[Ticket]:
    qs = tickets_visible_to(tenant=tenant, membership=agent).exclude(
        status__in=[Ticket.Status.SOLVED, Ticket.Status.CLOSED]
    )
    if caller.organization_id is not None:
        return qs.filter(organization_id=caller.organization_id)
    return qs.filter(requester=caller.user)


def caller_open_tickets(
    *, tenant: Tenant, agent: Membership, caller: Membership, limit: int = 20
) -> list[Ticket]:
    """The caller's organization's tickets still in progress (the caller's own first) that
    ``agent`` may see: what a call is most often about."""
    qs = _caller_tickets(tenant=tenant, agent=agent, caller=caller)
    rows = list(qs.select_related("tenant").order_by("-updated_at", "-pk")[:limit])
    rows.sort(key=lambda t: t.requester_id != caller.user_id)
    return rows


def caller_ticket_get(
    *, tenant: Tenant, agent: Membership, caller: Membership, ticket_id: int
) -> Ticket | None:
    """One of the caller's organization's tickets in progress, by id; None otherwise."""
    return (
        _caller_tickets(tenant=tenant, agent=agent, caller=caller)
        .select_related("tenant")
        .filter(pk=ticket_id)
        .first()
    )
