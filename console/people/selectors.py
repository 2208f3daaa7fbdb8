"""Reads of the console's people area. Every selector scopes to the tenant before it fetches; a
row of another tenant is, from here, a row that does not exist (404)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.http import Http404

from channels.webhooks.models import WebhookDelivery, WebhookSubscription
from helpdesk.models import ApiToken, Membership, Organization, Tenant
from helpdesk.tenancy import TenantOwned
from sla.models import Contract
from tickets.models import ProductArea, RoutingRule, Team, TeamMember, Ticket

M = TypeVar("M", bound=Model)


def tenant_object_or_404(queryset: QuerySet[M], *, tenant: Tenant, pk: object) -> M:
    """``pk`` among ``queryset``'s rows of ``tenant``; 404 for a missing row and for another
    tenant's alike."""
    model = queryset.model
    assert issubclass(model, TenantOwned), model
    try:
        pk = int(str(pk))
    except ValueError:
        raise Http404 from None
    obj = queryset.filter(tenant_id=tenant.pk, pk=pk).first()
    if obj is None:
        raise Http404(f"No such {model._meta.verbose_name}")
    return obj


def organizations_search(*, tenant: Tenant, query: str = "") -> QuerySet[Organization]:
    """The tenant's organizations, by name, with their active contact count; ``query`` matches
    the name, a domain or the account executive's address."""
    qs = Organization.objects.for_tenant(tenant)
    query = query.strip()
    if query:
        qs = qs.filter(
            Q(name__icontains=query)
            | Q(domains__icontains=query)
            | Q(account_executive_email__icontains=query)
        )
    return qs.annotate(
        contact_count=Count(
            "contacts",
            filter=Q(contacts__is_active=True, contacts__role=Membership.Role.CUSTOMER),
        )
    ).order_by("name", "id")


def organization_contracts(*, tenant: Tenant, organization: Organization) -> QuerySet[Contract]:
    return (
        Contract.objects.for_tenant(tenant)
        .filter(organization=organization)
        .select_related("package")
        .order_by("-starts_on", "-id")
    )


def contacts_search(
    *,
    tenant: Tenant,
    query: str = "",
    role: str = "",
    organization: Organization | None = None,
    include_inactive: bool = False,
) -> QuerySet[Membership]:
    """The tenant's contacts (customer memberships), filtered by contact role, organization and
    a search over email and name."""
    qs = (
        Membership.objects.for_tenant(tenant)
        .filter(role=Membership.Role.CUSTOMER)
        .select_related("user", "organization")
    )
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if role:
        qs = qs.filter(contact_role=role)
    if organization is not None:
        qs = qs.filter(organization=organization)
    query = query.strip()
    if query:
        qs = qs.filter(Q(user__email__icontains=query) | Q(user__name__icontains=query))
    return qs.order_by("user__email", "id")


def held_ticket_count(*, tenant: Tenant, contact: Membership) -> int:
    """How many tickets a pending contact sent that wait for their verification."""
    return (
        Ticket.objects.for_tenant(tenant)
        .filter(requester_id=contact.user_id, held_for_verification=True)
        .count()
    )


def staff_of(*, tenant: Tenant, active: bool = True) -> QuerySet[Membership]:
    """The tenant's admins and agents with their teams (one query for the teams)."""
    teams = TeamMember.objects.for_tenant(tenant).select_related("team").order_by("team__name")
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=[Membership.Role.ADMIN, Membership.Role.AGENT], is_active=active)
        .select_related("user")
        .prefetch_related(Prefetch("team_memberships", queryset=teams))
        .order_by("user__email", "id")
    )


def teams_of(*, tenant: Tenant) -> QuerySet[Team]:
    members = (
        TeamMember.objects.for_tenant(tenant)
        .select_related("membership__user")
        .order_by("membership__user__email")
    )
    return (
        Team.objects.for_tenant(tenant)
        .prefetch_related(
            Prefetch("members", queryset=members),
            Prefetch("areas", queryset=ProductArea.objects.for_tenant(tenant).order_by("name")),
        )
        .order_by("name", "id")
    )


def team_rules(*, tenant: Tenant, team: Team) -> QuerySet[RoutingRule]:
    return (
        RoutingRule.objects.for_tenant(tenant)
        .filter(team=team)
        .select_related("severity", "product_area", "ticket_type")
        .order_by("position", "id")
    )


def webhook_deliveries(
    *, tenant: Tenant, subscription: WebhookSubscription
) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.for_tenant(tenant)
        .filter(subscription=subscription)
        .only(
            "id",
            "uuid",
            "event_type",
            "status",
            "attempts",
            "status_code",
            "error",
            "created_at",
            "delivered_at",
            "next_attempt_at",
            "subscription_id",
            "tenant_id",
        )
        .order_by("-created_at", "-id")
    )


def api_tokens_of(*, tenant: Tenant) -> QuerySet[ApiToken]:
    return (
        ApiToken.objects.for_tenant(tenant)
        .select_related("membership__user")
        .order_by("-created_at", "-id")
    )


def members_for_tokens(*, tenant: Tenant) -> QuerySet[Membership]:
    """Who may be given a token: the tenant's active members, staff first."""
    return (
        Membership.objects.for_tenant(tenant)
        .filter(is_active=True)
        .select_related("user")
        .order_by("role", "user__email")
    )
