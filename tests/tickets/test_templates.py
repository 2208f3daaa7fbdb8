"""The ticket side of the policy templates (POLICIES.md): catalogs, teams, routing rules, and
what tickets of those tenants get from them. Expected rows typed by hand from the seeds."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from sla.models import Severity
from sla.policies import available_templates, load_policy_template
from tests.conftest import World
from tickets import outbox
from tickets.models import (
    BusinessImpact,
    CustomField,
    Priority,
    PriorityMatrixEntry,
    ProductArea,
    RoutingRule,
    Team,
    TicketType,
)

from .conftest import new_ticket, utc


def names(model: Any, world: World, order: str = "name") -> list[str]:
    rows = model.objects.for_tenant(world.tenant).order_by(order)
    return list(rows.values_list("name", flat=True))


@pytest.mark.parametrize(
    "template", ["officernd", "apiplatform", "webagency", "otcommerce", "spaceos"]
)
def test_every_template_gets_priorities_and_a_matrix(alpha: World, template: str) -> None:
    assert template in available_templates()
    load_policy_template(tenant=alpha.tenant, template=template)
    assert names(Priority, alpha, "rank") == ["Urgent", "High", "Normal", "Low"]
    for severity in Severity.objects.for_tenant(alpha.tenant):
        row = PriorityMatrixEntry.objects.get(
            tenant=alpha.tenant, severity=severity, business_impact=None
        )
        assert row.priority.rank == min(severity.rank, 4)
    load_policy_template(tenant=alpha.tenant, template=template)  # again: nothing changes
    assert Priority.objects.for_tenant(alpha.tenant).count() == 4


def test_officernd_product_areas_with_a_team_each(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="officernd")
    areas = {a.name: a.team.name for a in ProductArea.objects.for_tenant(alpha.tenant)}
    assert areas == {
        "API": "API experts",
        "Mobile Apps": "Mobile Apps experts",
        "Integrations": "Integrations experts",
        "Data Analytics": "Data Analytics experts",
        "Core Product": "Core Product experts",
    }
    api_area = ProductArea.objects.get(tenant=alpha.tenant, key="api")
    team: Any = new_ticket(alpha, product_area=api_area).team
    assert team.name == "API experts"


def test_webagency_emergency_type(alpha: World, django_capture_on_commit_callbacks: Any) -> None:
    load_policy_template(tenant=alpha.tenant, template="webagency")
    types = {t.key: t for t in TicketType.objects.for_tenant(alpha.tenant)}
    assert set(types) == {"request", "emergency"}
    assert types["emergency"].is_emergency and not types["request"].is_emergency
    assert "hacked" in types["emergency"].description
    delivered: list[tuple[str, dict]] = []

    def listen(name: str, payload: dict) -> None:
        delivered.append((name, payload))

    outbox.subscribe(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = new_ticket(alpha, requester=alpha.contact2, ticket_type=types["emergency"])
    finally:
        outbox.unsubscribe(listen)
    assert ticket.billable is True  # no maintenance contract
    created = [p for n, p in delivered if n == "ticket.created"]
    assert created == [
        {
            "tenant_id": alpha.tenant.pk,
            "ticket_id": ticket.pk,
            "page_on_call": True,
            "channel": "web",
            "held": False,
        }
    ]


def test_otcommerce_teams_and_rules(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="otcommerce")
    teams = {t.name: t.calendar.name for t in Team.objects.for_tenant(alpha.tenant)}
    assert teams == {
        "Customer Support": "Customer Support",
        "Technical Support": "Technical Support",
    }
    rules = [
        (r.position, r.severity.key if r.severity else None, r.team.name)
        for r in RoutingRule.objects.for_tenant(alpha.tenant).select_related("severity", "team")
    ]
    assert rules == [(10, "critical", "Technical Support"), (100, None, "Customer Support")]


def test_spaceos_types_impacts_and_where_does_it_happen(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="spaceos")
    types = {t.key: t for t in TicketType.objects.for_tenant(alpha.tenant)}
    assert list(types) == ["feature_request", "bug", "question", "incident", "translation"]
    assert [k for k, t in types.items() if t.pages_on_call_out_of_hours] == ["incident"]
    assert all("how to reproduce" in t.form_hints for t in types.values())
    impacts = {i.key: i.requires_text for i in BusinessImpact.objects.for_tenant(alpha.tenant)}
    assert impacts == {
        "everyone": False,
        "all_end_users": False,
        "all_admin_users": False,
        "single_user": False,
        "other": True,
    }
    field = CustomField.objects.get(tenant=alpha.tenant, key="where_does_it_happen")
    assert (field.kind, field.option_values) == (
        "select",
        ["browser", "mobile_app", "merchant_app"],
    )
    assert sorted(t.key for t in field.ticket_types.all()) == ["bug", "incident"]

    high = Severity.objects.get(tenant=alpha.tenant, key="high")
    everyone = BusinessImpact.objects.get(tenant=alpha.tenant, key="everyone")
    single = BusinessImpact.objects.get(tenant=alpha.tenant, key="single_user")
    bug = new_ticket(
        alpha,
        ticket_type=types["bug"],
        severity=high,
        business_impact=everyone,
        custom_fields={"where_does_it_happen": "mobile_app"},
    )
    assert str(bug.priority) == "High"  # rank 3 → Normal, raised one step for everyone
    assert str(new_ticket(alpha, severity=high, business_impact=single).priority) == "Normal"
    with pytest.raises(ValidationError):
        new_ticket(alpha, ticket_type=types["bug"], custom_fields={"where_does_it_happen": "tv"})


def test_spaceos_incident_pages_on_call_only_out_of_hours(
    alpha: World, django_capture_on_commit_callbacks: Any
) -> None:
    load_policy_template(tenant=alpha.tenant, template="spaceos")
    incident = TicketType.objects.get(tenant=alpha.tenant, key="incident")
    pages: list[bool] = []

    def listen(name: str, payload: dict) -> None:
        if name == "ticket.created":
            pages.append(payload["page_on_call"])

    outbox.subscribe(listen)
    try:
        # Mon 2 Mar 2026 10:00 Berlin (09:00 UTC): in hours; 20:00 Berlin: out of hours.
        for at in (utc(2026, 3, 2, 9), utc(2026, 3, 2, 19)):
            with (
                time_machine.travel(at, tick=False),
                django_capture_on_commit_callbacks(execute=True),
            ):
                new_ticket(alpha, ticket_type=incident)
    finally:
        outbox.unsubscribe(listen)
    assert pages == [False, True]


def test_a_tenants_own_catalog_rows_are_kept(alpha: World) -> None:
    Priority.objects.create(tenant=alpha.tenant, key="urgent", name="P1", rank=1)
    load_policy_template(tenant=alpha.tenant, template="spaceos")
    assert Priority.objects.get(tenant=alpha.tenant, key="urgent").name == "P1"
    assert Priority.objects.for_tenant(alpha.tenant).count() == 4
