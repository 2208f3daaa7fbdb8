"""POST /api/v1/tickets/ and the SLA part of the ticket resource: one ticket per template with
due times worked out by hand, role rules, tenancy, and a flat query count for the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from sla.models import Severity, SupportPackage
from sla.policies import load_policy_template
from sla.services import contract_create
from tests.conftest import World
from tickets.models import Ticket

from .conftest import Setup, api, utc


def sev(world: World, key: str) -> int:
    return Severity.objects.get(tenant=world.tenant, key=key).pk


def contract(world: World, package: str) -> None:
    contract_create(
        tenant=world.tenant,
        organization=world.org1,
        package=SupportPackage.objects.get(tenant=world.tenant, name=package),
        starts_on=dt.date(2026, 1, 1),
    )


def file(world: World, member: Any, **body: Any) -> Any:
    body.setdefault("subject", "It broke")
    body.setdefault("requester_email", world.contact1.user.email)
    return api(world, member).post("/api/v1/tickets/", body)


def sla(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 201, response.content
    return {c["metric"]: c for c in response.json()["sla"]}


# (template, contract package for org1 or None, severity key, org, now, {metric: due}).
CASES = [
    # officernd, Ultimate, SEV 1, Mon 2 Mar 10:00 London (GMT): first response 1 business hour
    # on 24/5; resolution 5 business days -> Mon 9 Mar, same time.
    (
        "officernd",
        "Ultimate",
        "sev1",
        1,
        utc(2026, 3, 2, 10),
        {"first_response": "2026-03-02T11:00:00+00:00", "resolution": "2026-03-09T10:00:00+00:00"},
    ),
    # officernd without a contract: Standard (the default), SEV 2 = 24 business hours on 24/5,
    # opened Fri 6 Mar 12:00: Fri 12-24 (12 h) + Mon 00-12 -> Mon 9 Mar 12:00.
    (
        "officernd",
        None,
        "sev2",
        2,
        utc(2026, 3, 6, 12),
        {"first_response": "2026-03-09T12:00:00+00:00", "resolution": "2026-03-17T12:00:00+00:00"},
    ),
    # apiplatform, Premium, Critical, Sat 7 Mar 10:00 CST: 2 h on 24/7.
    (
        "apiplatform",
        "Premium",
        "critical",
        1,
        utc(2026, 3, 7, 16),
        {"first_response": "2026-03-07T18:00:00+00:00"},
    ),
    # apiplatform, no contract: Break-Fix, Critical 24 business hours of standard hours from
    # Sat 7 Mar: Mon 9 (08-17 CDT, DST began Sun 8 Mar) 9 h + Tue 9 h + Wed 08:00-14:00 CDT.
    (
        "apiplatform",
        None,
        "critical",
        2,
        utc(2026, 3, 7, 16),
        {"first_response": "2026-03-11T19:00:00+00:00"},
    ),
    # webagency, maintenance contract, Normal request, Fri 6 Mar 15:00 UTC: 8 business hours
    # of 09-17 UTC: Fri 15-17 + Mon 09-15.
    (
        "webagency",
        "Support & maintenance contract",
        "normal",
        1,
        utc(2026, 3, 6, 15),
        {"first_response": "2026-03-09T15:00:00+00:00"},
    ),
    # otcommerce (everyone gets Support), Critical on Sat 7 Mar 12:00 Moscow: 3 wall-clock
    # hours; resolution 5 working days of Technical Support from the next opening, Mon 9 Mar
    # 08:00 Moscow -> Mon 16 Mar 08:00 Moscow.
    (
        "otcommerce",
        None,
        "critical",
        1,
        utc(2026, 3, 7, 9),
        {"first_response": "2026-03-07T12:00:00+00:00", "resolution": "2026-03-16T05:00:00+00:00"},
    ),
    # spaceos, Contract SLA, High, Mon 2 Mar 16:00 Berlin (CET): 4 business hours of 09-17:
    # Mon 16-17 + Tue 09-12 Berlin = Tue 11:00 UTC.
    (
        "spaceos",
        "Contract SLA",
        "high",
        1,
        utc(2026, 3, 2, 15),
        {"first_response": "2026-03-03T11:00:00+00:00"},
    ),
]


@pytest.mark.parametrize(("template", "package", "severity", "org", "now", "due"), CASES)
def test_ticket_per_template_has_exact_due_times(
    alpha: World,
    template: str,
    package: str | None,
    severity: str,
    org: int,
    now: dt.datetime,
    due: dict[str, str],
) -> None:
    load_policy_template(tenant=alpha.tenant, template=template)
    if package:
        contract(alpha, package)
    organization = alpha.org1 if org == 1 else alpha.org2
    requester = alpha.contact1 if org == 1 else alpha.contact2
    with time_machine.travel(now, tick=False):
        response = file(
            alpha,
            alpha.agent,
            severity=sev(alpha, severity),
            organization=organization.pk,
            requester_email=requester.user.email,
        )
    clocks = sla(response)
    assert {m: c["due_at"] for m, c in clocks.items()} == due
    assert all(c["status"] == "running" and c["explanation"] for c in clocks.values())
    assert response.json()["sla_note"] == ""


@pytest.mark.parametrize(
    ("template", "severity", "note"),
    [
        ("apiplatform", "medium", "Medium is not covered by your Break-Fix package."),
        (
            "spaceos",
            "high",
            "SLA's for Support Tickets are defined in your contract. If you do not have SLA's "
            "defined please contact your sales representative who will be happy to help.",
        ),
    ],
)
def test_ticket_without_clock_says_why(
    alpha: World, template: str, severity: str, note: str
) -> None:
    load_policy_template(tenant=alpha.tenant, template=template)
    response = file(alpha, alpha.agent, severity=sev(alpha, severity), organization=alpha.org2.pk)
    assert response.status_code == 201, response.content
    assert response.json()["sla"] == []
    assert response.json()["sla_note"] == note


def test_ticket_output_shape(alpha: World, setup: Setup) -> None:
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        response = file(
            alpha,
            alpha.admin,
            subject="Printer",
            description="On fire.",
            severity=setup.high.pk,
            organization=alpha.org1.pk,
            cc=["Boss@Alpha.test"],
            channel="email",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {
        "id", "reference", "subject", "description", "status", "severity", "priority",
        "organization", "requester_email", "cc", "assignee", "team", "channel", "opened_at",
        "created_at", "updated_at", "sla", "escalations", "sla_note",
    }  # fmt: skip
    assert body["reference"].startswith("AL-")
    assert (body["severity"], body["organization"], body["channel"]) == (
        setup.high.pk,
        alpha.org1.pk,
        "email",
    )
    assert body["requester_email"] == alpha.contact1.user.email
    assert body["cc"] == ["boss@alpha.test"]
    assert (body["priority"], body["assignee"], body["team"], body["escalations"]) == (
        None,
        None,
        None,
        [],
    )
    first = body["sla"][0]
    assert first == {
        **first,
        "metric": "first_response",
        "target_minutes": 60,
        "target_business_days": None,
        "due_at": "2026-03-02T11:00:00+00:00",
        "status": "running",
        "met_at": None,
        "breached_at": None,
    }
    detail = api(alpha, alpha.contact1).get(f"/api/v1/tickets/{body['id']}/")
    assert detail.json()["sla"] == body["sla"]  # the requester sees the same clocks


def test_requester_email_is_required_never_defaulted(alpha: World, setup: Setup) -> None:
    client = api(alpha, alpha.contact1)
    response = client.post("/api/v1/tickets/", {"subject": "Hi", "severity": setup.high.pk})
    assert response.status_code == 400
    assert "requester_email" in response.json()["errors"]


def test_customer_files_only_as_themselves_for_their_organization(
    alpha: World, setup: Setup
) -> None:
    customer = alpha.contact1
    response = file(alpha, customer, requester_email=alpha.owner1.user.email)
    assert "requester_email" in response.json()["errors"]
    response = file(alpha, customer, organization=alpha.org2.pk)
    assert "organization" in response.json()["errors"]
    ok = file(alpha, customer, severity=setup.high.pk)
    assert ok.status_code == 201, ok.content
    ticket = Ticket.objects.get(pk=ok.json()["id"])
    assert (ticket.requester_id, ticket.organization_id) == (customer.user_id, alpha.org1.pk)
    assert len(ok.json()["sla"]) == 2


def test_opened_at_is_for_admins_only(alpha: World, setup: Setup) -> None:
    past = "2026-03-02T10:00:00+00:00"
    for member in (alpha.agent, alpha.contact1):
        response = file(alpha, member, opened_at=past, severity=setup.high.pk)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["opened_at"]
    with time_machine.travel(utc(2026, 3, 10, 12), tick=False):
        imported = file(
            alpha, alpha.admin, opened_at=past, severity=setup.high.pk, organization=alpha.org1.pk
        )
    clocks = sla(imported)
    assert imported.json()["opened_at"] == "2026-03-02T10:00:00Z"
    assert clocks["first_response"]["status"] == "breached"  # born breached
    assert clocks["first_response"]["breached_at"] == "2026-03-02T11:00:00+00:00"
    naive = file(alpha, alpha.admin, opened_at="2026-03-02T10:00:00")
    assert "opened_at" in naive.json()["errors"]
    with time_machine.travel(utc(2026, 3, 1), tick=False):
        future = file(alpha, alpha.admin, opened_at=past)
    assert "opened_at" in future.json()["errors"]


def test_other_tenants_ids_are_400_naming_the_field(
    alpha: World, beta: World, setup: Setup
) -> None:
    from .conftest import make_setup

    foreign = make_setup(beta)
    response = file(alpha, alpha.admin, severity=foreign.high.pk, organization=beta.org1.pk)
    assert response.status_code == 400
    assert {"severity", "organization"} <= set(response.json()["errors"])
    response = file(alpha, alpha.admin, severity=999999)
    assert "severity" in response.json()["errors"]


def test_other_tenants_ticket_is_404(alpha: World, beta: World, setup: Setup) -> None:
    created = file(alpha, alpha.admin, severity=setup.high.pk, organization=alpha.org1.pk)
    assert api(beta, beta.admin).get(f"/api/v1/tickets/{created.json()['id']}/").status_code == 404


def test_ticket_list_query_count_does_not_grow(alpha: World, setup: Setup) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(12):
        file(
            alpha, alpha.admin, subject=f"T{i}", severity=setup.high.pk, organization=alpha.org1.pk
        )
    client = api(alpha, alpha.admin)
    client.get("/api/v1/tickets/")  # the token's first use is recorded once
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/api/v1/tickets/", {"page_size": size})
        assert len(response.json()["results"]) == size
        assert all(len(t["sla"]) == 2 for t in response.json()["results"])
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
