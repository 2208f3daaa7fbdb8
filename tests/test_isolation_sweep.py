"""The cross-tenant sweep: every route of tenant A, tried from tenant B, answers 404 — or, for a
list, shows none of A's rows. Routes are enumerated from the URL conf, so a new route without a
way to build its object here fails this file until it is covered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from channels.notifications.models import Notification
from channels.webhooks.models import WebhookSubscription
from helpdesk.models import Organization
from helpdesk.services import api_token_create
from kb.models import Article
from kb.services import article_create
from sla.models import (
    BusinessCalendar,
    Contract,
    EmergencyPage,
    OnCallEntry,
    Severity,
    SupportPackage,
)
from tests import sweep_makers
from tests.conftest import World
from tests.factories import (
    BusinessCalendarFactory,
    BusinessImpactFactory,
    ContractFactory,
    CustomFieldFactory,
    PriorityFactory,
    ProductAreaFactory,
    SeverityFactory,
    SupportPackageFactory,
    TeamFactory,
    TicketTypeFactory,
)
from tests.routes import PUBLIC_ROUTES, Route, tenant_routes
from tickets.models import (
    BusinessImpact,
    CustomField,
    Priority,
    ProductArea,
    Team,
    Ticket,
    TicketType,
)
from tickets.services import attachment_add, ticket_create

# kwarg name → (how to make an object of tenant A) → the URL value.
Maker = Callable[[World], Any]


def _ticket(world: World) -> Ticket:
    # One ticket per world: a route's kwargs (ticket and attachment) must fit together.
    ticket = world.extra.get("sweep_ticket")
    if ticket is None:
        ticket = world.extra["sweep_ticket"] = ticket_create(
            tenant=world.tenant,
            subject="ALPHA-SECRET ticket",
            requester=world.contact1.user,
            requester_email=world.contact1.user.email,
        )
    return ticket  # type: ignore[return-value]


def _attachment(world: World) -> int:
    upload = ContentFile(b"ALPHA-SECRET attachment", name="alpha-secret.txt")
    return attachment_add(ticket=_ticket(world), upload=upload, by=world.contact1.user).pk


def _article(world: World) -> Article:
    return article_create(
        tenant=world.tenant,
        author=world.admin.user,
        title="ALPHA-SECRET article",
        body_markdown="ALPHA-SECRET answer.",
        status=Article.Status.PUBLISHED,
    )


def _emergency_page(world: World) -> int:
    page = EmergencyPage.objects.create(tenant=world.tenant, ticket=_ticket(world))
    return page.pk


def _notification(world: World) -> int:
    return Notification.objects.create(
        tenant=world.tenant,
        recipient=world.admin,
        kind=Notification.Kind.SLA_WARNING,
        text="ALPHA-SECRET notification",
        source_key="sweep",
    ).pk


def _webhook(world: World) -> int:
    return WebhookSubscription.objects.create(
        tenant=world.tenant, url="http://127.0.0.1:9/alpha-secret", events=["ticket.created"]
    ).pk


# How to make tenant A's object for a route, keyed by model (for `pk` on a model view) or by
# kwarg name (for nested and portal routes).
MODEL_MAKERS: dict[type, Maker] = {
    Ticket: lambda w: _ticket(w).pk,
    Organization: lambda w: w.org1.pk,
    BusinessCalendar: lambda w: BusinessCalendarFactory(tenant=w.tenant).pk,
    Severity: lambda w: SeverityFactory(tenant=w.tenant).pk,
    SupportPackage: lambda w: SupportPackageFactory(tenant=w.tenant).pk,
    Contract: lambda w: ContractFactory(tenant=w.tenant, organization=w.org1).pk,
    Article: lambda w: _article(w).pk,
    Priority: lambda w: PriorityFactory(tenant=w.tenant).pk,
    TicketType: lambda w: TicketTypeFactory(tenant=w.tenant).pk,
    BusinessImpact: lambda w: BusinessImpactFactory(tenant=w.tenant).pk,
    ProductArea: lambda w: ProductAreaFactory(tenant=w.tenant).pk,
    CustomField: lambda w: CustomFieldFactory(tenant=w.tenant).pk,
    Team: lambda w: TeamFactory(tenant=w.tenant).pk,
    EmergencyPage: _emergency_page,
    Notification: _notification,
    OnCallEntry: lambda w: OnCallEntry.objects.create(tenant=w.tenant, membership=w.agent).pk,
    WebhookSubscription: _webhook,
}
KWARG_MAKERS: dict[str, Maker] = {
    "reference": lambda w: _ticket(w).reference,
    "ticket_pk": lambda w: _ticket(w).pk,
    "organization_pk": lambda w: w.org1.pk,
    "article_pk": lambda w: _article(w).pk,
    "article_slug": lambda w: _article(w).slug,
    "attachment_id": _attachment,
    "page_id": _emergency_page,
}


# Routes whose GET needs a query string to answer 200 on their own tenant.
ROUTE_QUERY: dict[str, str] = {
    "api-calendar-deadline": "?start=2026-03-02T09:00:00Z&minutes=60",
    "api-calendar-elapsed": "?start=2026-03-02T09:00:00Z&end=2026-03-02T10:00:00Z",
    "api-calendar-holidays-import": "?country=US&years=2026",
}


# Routes whose `pk` model serves several resources (memberships: agents and contacts).
ROUTE_MAKERS: dict[str, Maker] = {
    "api-agent": lambda w: w.agent.pk,
    "api-contact": lambda w: w.contact1.pk,
}


def _merge_area_makers() -> None:
    for name, entries in sweep_makers.collected().items():
        target = globals()[name]
        clash = set(target) & set(entries)
        if clash:
            raise RuntimeError(f"{name}: {clash} defined here and in tests/sweep_makers")
        target.update(entries)


_merge_area_makers()


def value_for(route: Route, kwarg: str, world: World) -> Any:
    if kwarg == "pk" and route.name in ROUTE_MAKERS:
        return ROUTE_MAKERS[route.name](world)
    if kwarg in KWARG_MAKERS:
        return KWARG_MAKERS[kwarg](world)
    model = getattr(route.view_class, "model", None) or getattr(
        getattr(route.view_class, "queryset", None), "model", None
    )
    if kwarg == "pk" and model in MODEL_MAKERS:
        return MODEL_MAKERS[model](world)
    raise LookupError(f"no maker for <{kwarg}> of route {route.path} ({model})")


ROUTES = tenant_routes()
DETAIL_ROUTES = [r for r in ROUTES if r.kwargs]
LIST_ROUTES = [r for r in ROUTES if not r.kwargs and r.name not in PUBLIC_ROUTES]


def token_client(world: World) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=world.admin)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")


@pytest.mark.parametrize("route", DETAIL_ROUTES, ids=lambda r: r.path)
def test_other_tenants_object_is_404(route: Route, alpha: World, beta: World) -> None:
    url = route.url(**{k: value_for(route, k, alpha) for k in route.kwargs})
    url += ROUTE_QUERY.get(route.name or "", "")
    beta_admin = token_client(beta) if route.is_api else beta.client(beta.admin)
    for method in ("get", "patch", "put", "delete", "post"):
        response = getattr(beta_admin, method)(url, data={}, content_type="application/json")
        assert response.status_code in (404, 405), (method, url, response.status_code)
        if response.status_code == 404 and route.is_api:
            assert response["Content-Type"] == "application/problem+json"
    # The same URL on its own tenant exists (else this test would prove nothing).
    alpha_admin = token_client(alpha) if route.is_api else alpha.client(alpha.admin)
    assert alpha_admin.get(url).status_code == 200, url


@pytest.mark.parametrize("route", LIST_ROUTES, ids=lambda r: r.path)
def test_lists_show_nothing_of_other_tenant(route: Route, alpha: World, beta: World) -> None:
    _ticket(alpha)
    _article(alpha)
    beta_admin = token_client(beta) if route.is_api else beta.client(beta.admin)
    response = beta_admin.get(route.url())
    assert response.status_code == 200, route.path
    body = response.content.decode()
    for marker in ("ALPHA-SECRET", alpha.org1.name, alpha.contact1.user.email, "alpha.test"):
        assert marker not in body, (route.path, marker)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.is_api and r.name not in PUBLIC_ROUTES], ids=lambda r: r.path
)
def test_anonymous_api_call_is_401(route: Route, alpha: World) -> None:
    url = route.url(**{k: 1 for k in route.kwargs})
    response = Client(HTTP_HOST=alpha.host).get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_sweep_covers_routes() -> None:
    # Guards against the enumeration silently finding nothing.
    names = {r.name for r in ROUTES}
    assert {"api-tickets", "api-ticket", "api-organizations"} <= names
