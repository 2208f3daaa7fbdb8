"""/api/v1/tickets/: visibility by role, filters, create with the catalogs, ETag / If-Match,
transitions, merge, similar, and query counts that do not grow with the page."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.factories import (
    BusinessImpactFactory,
    PriorityFactory,
    ProductAreaFactory,
    TeamFactory,
    TicketTypeFactory,
)
from tickets.models import Ticket, TicketType
from tickets.services import custom_field_create, priority_matrix_set, ticket_assign

from .conftest import Setup, api, new_ticket, utc


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {t["id"] for t in response.json()["results"]}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


# --- visibility -------------------------------------------------------------------------------


def test_customers_see_only_what_their_role_allows(alpha: World) -> None:
    mine = new_ticket(alpha, requester=alpha.contact1)
    colleague = new_ticket(alpha, requester=alpha.owner1)
    other_org = new_ticket(alpha, requester=alpha.contact2)
    assert ids(api(alpha, alpha.contact1).get("/api/v1/tickets/")) == {mine.pk}
    assert ids(api(alpha, alpha.owner1).get("/api/v1/tickets/")) == {mine.pk, colleague.pk}
    assert ids(api(alpha, alpha.owner2).get("/api/v1/tickets/")) == {other_org.pk}
    assert ids(api(alpha, alpha.agent).get("/api/v1/tickets/")) == {
        mine.pk,
        colleague.pk,
        other_org.pk,
    }
    # Org A's customers cannot open org B's ticket: 404, like a ticket that does not exist.
    for member in (alpha.contact1, alpha.owner1):
        problem(api(alpha, member).get(f"/api/v1/tickets/{other_org.pk}/"), 404)
    assert api(alpha, alpha.owner2).get(f"/api/v1/tickets/{other_org.pk}/").status_code == 200


def test_other_tenants_ticket_is_404_for_every_method(alpha: World, beta: World) -> None:
    ticket = new_ticket(alpha)
    client = api(beta, beta.admin)
    url = f"/api/v1/tickets/{ticket.pk}/"
    problem(client.get(url), 404)
    problem(client.patch(url, {"subject": "x"}), 404)
    assert client.delete(url).status_code in (404, 405)
    for child in ("transitions", "merge", "similar", "messages", "attachments", "events"):
        problem(client.get(f"{url}{child}/"), 404)
        posted = client.post(f"{url}{child}/", {"status": "open", "body": "x"})
        assert posted.status_code == (405 if child in ("similar", "events") else 404)


# --- filters ------------------------------------------------------------------------------------


def test_filters(alpha: World, setup: Setup) -> None:
    team = TeamFactory(tenant=alpha.tenant)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        old = new_ticket(alpha, subject="Old printer problem", severity=setup.high)
    with time_machine.travel(utc(2026, 3, 2, 12), tick=False):
        other = new_ticket(alpha, requester=alpha.contact2, subject="No contract here")
        fresh = new_ticket(
            alpha,
            requester=alpha.owner1,
            subject="Password reset",
            description="The printer password",
            severity=setup.low,
        )
        ticket_assign(ticket=fresh, assignee=alpha.agent, team=team, by=alpha.admin)
        client = api(alpha, alpha.agent)

        def q(**params: Any) -> set[int]:
            return ids(client.get("/api/v1/tickets/", params))

        assert q(status="new") == {old.pk, fresh.pk, other.pk}
        assert q(status="open") == set()
        assert q(severity=setup.high.pk) == {old.pk}
        assert q(organization=alpha.org2.pk) == {other.pk}
        assert q(assignee=alpha.agent.pk) == {fresh.pk}
        assert q(team=team.pk) == {fresh.pk}
        assert q(updated_since="2026-03-02T11:00:00Z") == {fresh.pk, other.pk}
        assert q(search="printer") == {old.pk, fresh.pk}  # subject or description
        assert q(search="reset") == {fresh.pk}
        assert q(search=old.reference) == {old.pk}
        # High: first response due 10:00, so breached by noon; Low (8 h from 12:00) is not.
        assert q(breached="true") == {old.pk}
        assert q(breached="false") == {fresh.pk, other.pk}
        assert q(due_before="2026-03-02T16:00:00Z") == {old.pk}  # old's resolution: 17:00
        assert q(due_before="2026-03-02T17:30:00Z") == {old.pk}
        assert q(due_before="2026-03-04T12:00:00Z") == {old.pk, fresh.pk}
    multi = client.get("/api/v1/tickets/?status=new&status=open")
    assert ids(multi) == {old.pk, fresh.pk, other.pk}
    for params in ({"status": "bogus"}, {"severity": "x"}, {"updated_since": "yesterday"}):
        body = problem(client.get("/api/v1/tickets/", params), 400)
        assert set(body["errors"]) == set(params)


# --- create ----------------------------------------------------------------------------------


def test_create_with_the_catalogs(alpha: World, setup: Setup) -> None:
    bug: TicketType = TicketTypeFactory(tenant=alpha.tenant, key="bug")
    everyone = BusinessImpactFactory(tenant=alpha.tenant, key="everyone")
    team = TeamFactory(tenant=alpha.tenant)
    area = ProductAreaFactory(tenant=alpha.tenant, team=team)
    urgent = PriorityFactory(tenant=alpha.tenant, key="urgent")
    priority_matrix_set(
        tenant=alpha.tenant, severity=setup.high, business_impact=everyone, priority=urgent
    )
    custom_field_create(
        tenant=alpha.tenant,
        key="where",
        label="Where?",
        kind="select",
        options=["browser", "mobile_app"],
        required=True,
        ticket_types=[bug],
    )
    body = {
        "subject": "Checkout broken",
        "requester_email": alpha.contact1.user.email,
        "severity": setup.high.pk,
        "type": bug.pk,
        "business_impact": everyone.pk,
        "product_area": area.pk,
        "custom_fields": {"where": "browser"},
        "requested_due_date": "2026-04-01",
        "cc": ["boss@alpha.test"],
    }
    response = api(alpha, alpha.contact1).post("/api/v1/tickets/", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["type"], data["business_impact"], data["product_area"]) == (
        bug.pk,
        everyone.pk,
        area.pk,
    )
    assert (data["priority"], data["priority_overridden"]) == (urgent.pk, False)
    assert (data["team"], data["custom_fields"]) == (team.pk, {"where": "browser"})
    assert data["requested_due_date"] == "2026-04-01"
    assert data["cc"] == ["boss@alpha.test"]
    assert response["ETag"].startswith('W/"')

    bad = api(alpha, alpha.contact1).post(
        "/api/v1/tickets/", {**body, "custom_fields": {"where": "desktop", "color": "red"}}
    )
    assert set(problem(bad, 400)["errors"]) == {"custom_fields.where", "custom_fields.color"}
    staff_only = api(alpha, alpha.contact1).post(
        "/api/v1/tickets/", {**body, "priority": urgent.pk, "billable": True}
    )
    assert set(problem(staff_only, 400)["errors"]) == {"priority", "billable"}
    chosen = api(alpha, alpha.agent).post("/api/v1/tickets/", {**body, "priority": urgent.pk})
    assert chosen.json()["priority_overridden"] is True
    unknown = api(alpha, alpha.agent).post("/api/v1/tickets/", {**body, "status": "solved"})
    assert list(problem(unknown, 400)["errors"]) == ["status"]


def test_invalid_bodies_are_400_problems_naming_fields(alpha: World) -> None:
    client = api(alpha, alpha.agent)
    body = problem(client.post("/api/v1/tickets/", {}), 400)
    assert {"subject", "requester_email"} <= set(body["errors"])
    body = problem(
        client.post(
            "/api/v1/tickets/",
            {
                "subject": "x" * 300,
                "requester_email": "nope",
                "cc": ["also nope"],
                "severity": "abc",
                "type": 99999,
            },
        ),
        400,
    )
    assert {"subject", "requester_email", "cc", "severity", "type"} <= set(body["errors"])
    not_json = client.client.post("/api/v1/tickets/", "{", content_type="application/json")
    problem(not_json, 400)


# --- detail, ETag and If-Match --------------------------------------------------------------


def test_etag_and_if_match(alpha: World) -> None:
    ticket = new_ticket(alpha)
    client = api(alpha, alpha.agent)
    url = f"/api/v1/tickets/{ticket.pk}/"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('W/"') and first.json()["subject"] == "The printer is on fire"

    ok = client.client.patch(
        url, {"subject": "Printer fixed?"}, content_type="application/json", HTTP_IF_MATCH=etag
    )
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] != etag and ok.json()["subject"] == "Printer fixed?"
    stale = client.client.patch(
        url, {"subject": "Lost update"}, content_type="application/json", HTTP_IF_MATCH=etag
    )
    problem(stale, 412)
    assert client.get(url).json()["subject"] == "Printer fixed?"
    # The tag may be echoed without W/, and several may be listed; * matches.
    strong = ok["ETag"][2:]
    listed = f'"nope", {strong}'
    also = client.client.patch(
        url, {"billable": True}, content_type="application/json", HTTP_IF_MATCH=listed
    )
    assert also.status_code == 200
    star = client.client.patch(
        url, {"billable": False}, content_type="application/json", HTTP_IF_MATCH="*"
    )
    assert star.status_code == 200
    # Without If-Match the write is unconditional.
    assert client.patch(url, {"billable": True}).status_code == 200
    # Stale tags on transitions too.
    problem(
        client.client.post(
            f"{url}transitions/",
            {"status": "open"},
            content_type="application/json",
            HTTP_IF_MATCH=etag,
        ),
        412,
    )


def test_patch_fields_and_roles(alpha: World, setup: Setup) -> None:
    ticket = new_ticket(alpha, severity=setup.high)
    team = TeamFactory(tenant=alpha.tenant)
    client = api(alpha, alpha.agent)
    url = f"/api/v1/tickets/{ticket.pk}/"
    response = client.patch(
        url,
        {
            "severity": setup.low.pk,
            "assignee": alpha.lead.pk,
            "team": team.pk,
            "cc": ["x@alpha.test", "y@alpha.test"],
            "requested_due_date": "2026-05-01",
            "billable": True,
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["severity"], data["assignee"], data["team"]) == (
        setup.low.pk,
        alpha.lead.pk,
        team.pk,
    )
    assert data["cc"] == ["x@alpha.test", "y@alpha.test"]
    data = client.patch(url, {"cc": ["y@alpha.test"], "assignee": None}).json()
    assert (data["cc"], data["assignee"]) == (["y@alpha.test"], None)
    kinds = set(Ticket.objects.get(pk=ticket.pk).events.values_list("kind", flat=True))
    assert {"severity", "assignee", "team", "cc_added", "cc_removed", "field"} <= kinds

    for member in (alpha.contact1, alpha.owner1):
        problem(api(alpha, member).patch(url, {"subject": "mine"}), 403)
    body = problem(client.patch(url, {"status": "solved"}), 400)
    assert list(body["errors"]) == ["status"]
    body = problem(client.patch(url, {"assignee": alpha.contact1.pk}), 400)
    assert "assignee" in body["errors"]
    body = problem(client.patch(url, {"severity": 10**9}), 400)
    assert "severity" in body["errors"]


# --- transitions, merge, similar ---------------------------------------------------------------


def test_transitions(alpha: World) -> None:
    ticket = new_ticket(alpha)
    url = f"/api/v1/tickets/{ticket.pk}/transitions/"
    client = api(alpha, alpha.agent)
    assert client.get(url).json() == {
        "status": "new",
        "allowed": ["on_hold", "open", "pending", "solved"],
    }
    assert api(alpha, alpha.contact1).get(url).status_code == 200
    response = client.post(url, {"status": "solved"})
    assert response.status_code == 200 and response.json()["status"] == "solved"
    assert response.json()["solved_at"] is not None
    body = problem(client.post(url, {"status": "pending"}), 400)
    assert list(body["errors"]) == ["status"]
    assert "solved ticket cannot become pending" in body["errors"]["status"][0]
    problem(client.post(url, {"status": "nonsense"}), 400)
    problem(api(alpha, alpha.contact1).post(url, {"status": "open"}), 403)
    problem(api(alpha, alpha.contact2).get(url), 404)


def test_merge_and_similar(alpha: World, beta: World) -> None:
    master = new_ticket(alpha, subject="Cannot log in to the portal")
    duplicate = new_ticket(alpha, subject="Cannot log in to portal", requester=alpha.contact2)
    client = api(alpha, alpha.agent)
    similar = client.get(f"/api/v1/tickets/{duplicate.pk}/similar/")
    assert similar.status_code == 200
    assert similar.json()[0]["id"] == master.pk
    assert set(similar.json()[0]) == {"id", "reference", "subject", "status", "created_at"}
    problem(api(alpha, alpha.contact2).get(f"/api/v1/tickets/{duplicate.pk}/similar/"), 403)

    url = f"/api/v1/tickets/{duplicate.pk}/merge/"
    problem(api(alpha, alpha.contact2).post(url, {"into": master.pk}), 403)
    foreign = new_ticket(beta)
    assert list(problem(client.post(url, {"into": foreign.pk}), 400)["errors"]) == ["into"]
    response = client.post(url, {"into": master.pk, "filed_without_request": True})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == master.pk
    assert alpha.contact2.user.email in response.json()["cc"]
    dup = client.get(f"/api/v1/tickets/{duplicate.pk}/").json()
    assert (dup["status"], dup["merged_into"], dup["sla_exempt"]) == ("closed", master.pk, True)
    assert client.get(f"/api/v1/tickets/{master.pk}/merge/").json() == {
        "merged_into": None,
        "merged_from": [duplicate.pk],
    }
    problem(client.post(url, {"into": master.pk}), 400)  # already merged


# --- query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["agent", "owner1"])
def test_list_query_count_is_constant_in_page_size(alpha: World, setup: Setup, member: str) -> None:
    for i in range(50):
        new_ticket(alpha, requester=alpha.contact1, subject=f"T{i}", severity=setup.high)
    client = api(alpha, getattr(alpha, member))
    client.get("/api/v1/tickets/")  # the token's first use is recorded once
    counts = []
    for size in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/tickets/", {"page_size": size, "status": "new"})
        assert len(response.json()["results"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
