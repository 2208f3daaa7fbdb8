"""Every page of the portal and the agent workspace, for every role: anonymous visitors are
sent to the login, customers never reach the workspace, staff reach everything, and every
page a person gets is CSP-clean (no inline script or style, no on*= handlers)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import World
from tests.routes import Route, tenant_routes
from tests.tickets.page_helpers import assert_csp_clean, file_ticket, officernd

ROUTES = [
    r
    for r in tenant_routes()
    if r.path.startswith(("tickets/", "agent/tickets/", "agent/queue/"))
    and "attachment_id" not in r.kwargs  # the download view: tested with the attachments
]


def url_for(route: Route, world: World) -> str:
    """The route's URL on a ticket of ``world``'s org1 (with SLA clocks)."""
    ticket = world.extra.get("ticket")
    if ticket is None:
        severities = officernd(world)
        ticket = file_ticket(world, world.contact1, "Roles", severities["sev2"])
        world.extra["ticket"] = ticket
    return route.url(reference=ticket.reference)


def test_the_routes_are_found() -> None:
    names = {r.name for r in ROUTES}
    assert {"portal-new", "portal-tickets", "portal-ticket", "agent-queue", "agent-ticket"} <= names


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.path)
def test_anonymous_is_sent_to_the_login(route: Route, alpha: World) -> None:
    response = Client(HTTP_HOST=alpha.host).get(url_for(route, alpha))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.path)
def test_customer_and_staff(route: Route, alpha: World) -> None:
    url = url_for(route, alpha)
    customer = alpha.client(alpha.contact1).get(url)
    if route.path.startswith("agent/"):
        assert customer.status_code == 404
    else:
        assert customer.status_code == 200
        assert_csp_clean(customer.content.decode())
    for member in (alpha.agent, alpha.admin):
        response = alpha.client(member).get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert_csp_clean(response.content.decode())


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.path)
def test_other_organizations_contact_gets_404(route: Route, alpha: World) -> None:
    if not route.kwargs:
        pytest.skip("no object in the URL")
    url = url_for(route, alpha)
    assert alpha.client(alpha.contact2).get(url).status_code == 404
