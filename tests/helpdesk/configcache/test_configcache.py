"""The configuration cache (helpdesk.configcache) is never wrong: every change to a watched
row renews the tenant's stamp in its own transaction, cached values are only served inside a
request that read the tenant afresh, and a request never sees another tenant's entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from channels.webhooks.models import WebhookDelivery, WebhookSubscription
from channels.webhooks.services import _failed
from console.people.services import team_areas_set
from helpdesk import configcache
from helpdesk.models import Organization, Tenant
from sla.models import Holiday, PackageSeverity, SLAPolicy, SLATarget
from sla.services import calendar_update, package_update
from tests.conftest import World
from tests.factories import (
    BusinessImpactFactory,
    OrganizationFactory,
    PriorityFactory,
    ProductAreaFactory,
    SeverityFactory,
    TeamFactory,
    TicketTypeFactory,
)
from tests.helpdesk.configcache.conftest import fresh, stamp
from tests.sla.conftest import Setup, api, make_setup
from tickets.models import (
    CustomFieldTicketType,
    PriorityMatrixEntry,
    ProductArea,
    RoutingRule,
    Ticket,
    TicketType,
)
from tickets.routing import routing_team_for
from tickets.services import custom_field_create, custom_field_update

MONDAY_10 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def counting(value: object) -> tuple[Callable[[], object], list[int]]:
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        return value

    return load, calls


# --- the cache itself ----------------------------------------------------------------------


def test_nothing_is_cached_outside_an_armed_request(alpha: World) -> None:
    load, calls = counting("x")
    for _ in range(3):
        assert configcache.cached(alpha.tenant.pk, "k", load) == "x"
    assert len(calls) == 3


def test_an_armed_request_reads_once_per_stamp(alpha: World) -> None:
    load, calls = counting("x")
    with configcache.armed(fresh(alpha.tenant)):
        configcache.cached(alpha.tenant.pk, "k", load)
        configcache.cached(alpha.tenant.pk, "k", load)
    assert len(calls) == 1
    with configcache.armed(fresh(alpha.tenant)):  # the next request, nothing changed
        configcache.cached(alpha.tenant.pk, "k", load)
    assert len(calls) == 1
    Tenant.objects.filter(pk=alpha.tenant.pk).update(config_stamp=configcache.uuid.uuid4())
    with configcache.armed(fresh(alpha.tenant)):  # another process changed the configuration
        configcache.cached(alpha.tenant.pk, "k", load)
    assert len(calls) == 2


def test_arming_one_tenant_serves_nothing_of_another(alpha: World, beta: World) -> None:
    load, calls = counting("x")
    with configcache.armed(fresh(alpha.tenant)):
        configcache.cached(beta.tenant.pk, "k", load)
        configcache.cached(beta.tenant.pk, "k", load)
    assert len(calls) == 2


def test_a_change_during_the_request_stops_the_cache_for_the_rest_of_it(alpha: World) -> None:
    load, calls = counting("x")
    with configcache.armed(fresh(alpha.tenant)):
        configcache.cached(alpha.tenant.pk, "k", load)
        SeverityFactory(tenant=alpha.tenant)  # a watched row: the stamp is renewed
        configcache.cached(alpha.tenant.pk, "k", load)
        configcache.cached(alpha.tenant.pk, "k", load)
    assert len(calls) == 3


def test_rows_are_handed_out_as_copies(alpha: World) -> None:
    org = OrganizationFactory(tenant=alpha.tenant)
    with configcache.armed(fresh(alpha.tenant)):
        first = configcache.cached_row(alpha.tenant.pk, "org", lambda: org)
        assert first is not None
        first.name = "changed by a caller"
        second = configcache.cached_row(alpha.tenant.pk, "org", lambda: None)
    assert second is not None and second is not first
    assert second.name == org.name != "changed by a caller"


# --- every change renews the stamp ---------------------------------------------------------


def _watched_rows(world: World, setup: Setup) -> list[Any]:
    """One row of every watched model, made the way the desk makes them."""
    tenant = world.tenant
    team = TeamFactory(tenant=tenant)
    impact = BusinessImpactFactory(tenant=tenant)
    priority = PriorityFactory(tenant=tenant)
    ticket_type: TicketType = TicketTypeFactory(tenant=tenant)
    field = custom_field_create(
        tenant=tenant, key="since", label="Since", kind="date", ticket_types=[ticket_type]
    )
    rows: list[Any] = [
        CustomFieldTicketType.objects.get(custom_field=field),
        world.org1,
        setup.high,
        setup.package,
        setup.calendar,
        setup.calendar.hours.first(),
        SLATarget.objects.filter(package=setup.package).first(),
        PackageSeverity.objects.filter(package=setup.package).first(),
        world.org1.contracts.first(),
        Holiday.objects.create(
            tenant=tenant, calendar=setup.calendar, date=dt.date(2026, 12, 25), name="Christmas"
        ),
        SLAPolicy.objects.get_or_create(tenant=tenant)[0],
        priority,
        ticket_type,
        impact,
        ProductAreaFactory(tenant=tenant),
        field,
        PriorityMatrixEntry.objects.create(
            tenant=tenant, severity=setup.high, business_impact=impact, priority=priority
        ),
        RoutingRule.objects.create(tenant=tenant, name="All", team=team, position=1),
        team,
        WebhookSubscription.objects.create(
            tenant=tenant, url="https://example.com/hook", events=["ticket.created"], secret="s"
        ),
    ]
    return [r for r in rows if r is not None]


def test_every_watched_model_is_watched(alpha: World, setup: Setup) -> None:
    """Each model whose rows a cached read depends on is registered (a new one must be too)."""
    expected = {
        "helpdesk.Organization",
        "sla.Severity",
        "sla.SupportPackage",
        "sla.PackageSeverity",
        "sla.Contract",
        "sla.SLAPolicy",
        "sla.SLATarget",
        "sla.BusinessCalendar",
        "sla.OpeningInterval",
        "sla.Holiday",
        "tickets.Priority",
        "tickets.TicketType",
        "tickets.BusinessImpact",
        "tickets.ProductArea",
        "tickets.CustomField",
        "tickets.CustomFieldTicketType",
        "tickets.PriorityMatrixEntry",
        "tickets.RoutingRule",
        "tickets.Team",
        "helpdesk_channels.WebhookSubscription",
    }
    assert {m._meta.label for m in apps.get_models() if configcache.is_watched(m)} == expected


def test_saving_or_deleting_a_watched_row_renews_the_stamp(alpha: World, setup: Setup) -> None:
    rows = _watched_rows(alpha, setup)
    assert {type(r) for r in rows} == {m for m in apps.get_models() if configcache.is_watched(m)}
    for row in rows:
        before = stamp(alpha.tenant)
        row.save()
        after = stamp(alpha.tenant)
        assert after != before, type(row).__name__
    rule = RoutingRule.objects.filter(tenant=alpha.tenant).first()
    assert rule is not None
    before = stamp(alpha.tenant)
    rule.delete()
    assert stamp(alpha.tenant) != before


def test_a_rolled_back_change_changes_nothing(alpha: World, setup: Setup) -> None:
    before = stamp(alpha.tenant)
    with pytest.raises(RuntimeError), transaction.atomic():
        setup.high.save()
        raise RuntimeError
    assert stamp(alpha.tenant) == before


def test_the_round_robin_pointer_is_not_configuration(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant)
    before = stamp(alpha.tenant)
    team.last_assigned = alpha.agent
    team.save(update_fields=["last_assigned"])
    assert stamp(alpha.tenant) == before
    team.name = "Renamed"
    team.save(update_fields=["name"])
    assert stamp(alpha.tenant) != before


def test_another_tenants_change_leaves_the_stamp_alone(alpha: World, beta: World) -> None:
    before = stamp(alpha.tenant)
    SeverityFactory(tenant=beta.tenant)
    assert stamp(alpha.tenant) == before


# --- writes in bulk ------------------------------------------------------------------------


def test_calendar_hours_and_holidays_written_in_bulk_renew_the_stamp(
    alpha: World, setup: Setup
) -> None:
    before = stamp(alpha.tenant)
    calendar_update(
        calendar=setup.calendar,
        hours=[{"weekday": 0, "start": "08:00", "end": "18:00"}],
        holidays=[{"date": dt.date(2026, 12, 25), "name": "Christmas"}],
    )
    assert stamp(alpha.tenant) != before


def test_package_coverage_written_in_bulk_renews_the_stamp(alpha: World, setup: Setup) -> None:
    before = stamp(alpha.tenant)
    package_update(package=setup.package, severities=[setup.high, setup.low])
    assert stamp(alpha.tenant) != before


def test_custom_field_types_written_in_bulk_renew_the_stamp(alpha: World) -> None:
    field = custom_field_create(tenant=alpha.tenant, key="since", label="Since", kind="date")
    before = stamp(alpha.tenant)
    bug: TicketType = TicketTypeFactory(tenant=alpha.tenant)
    custom_field_update(custom_field=field, ticket_types=[bug])
    assert stamp(alpha.tenant) != before


def test_team_areas_moved_in_bulk_renew_the_stamp(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant)
    area: ProductArea = ProductAreaFactory(tenant=alpha.tenant)
    before = stamp(alpha.tenant)
    team_areas_set(team=team, areas=[area])
    assert stamp(alpha.tenant) != before


def test_a_webhook_disabled_after_failures_renews_the_stamp(alpha: World, settings: Any) -> None:
    settings.WEBHOOKS_DISABLE_AFTER = 1
    subscription = WebhookSubscription.objects.create(
        tenant=alpha.tenant, url="https://example.com/hook", events=["ticket.created"], secret="s"
    )
    delivery = WebhookDelivery.objects.create(
        tenant=alpha.tenant,
        subscription=subscription,
        event_type="ticket.created",
        event_id="e1",
        payload={},
        attempts=99,
    )
    before = stamp(alpha.tenant)
    _failed(delivery, 500, "", "HTTP 500", MONDAY_10)
    subscription.refresh_from_db()
    assert not subscription.active
    assert stamp(alpha.tenant) != before


# --- through the API -----------------------------------------------------------------------


def _create(client: Any, world: World, setup: Setup, **extra: Any) -> Any:
    body = {
        "subject": "Checkout broken",
        "requester_email": world.contact1.user.email,
        "organization": world.org1.pk,
        "severity": setup.high.pk,
        **extra,
    }
    response = client.post("/api/v1/tickets/", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_target_changed_between_two_creations_applies_to_the_second(
    alpha: World, setup: Setup
) -> None:
    client = api(alpha, alpha.agent)
    target = SLATarget.objects.get(
        package=setup.package, severity=setup.high, metric="first_response"
    )
    with time_machine.travel(MONDAY_10, tick=False):
        first = _create(client, alpha, setup)
        target.target_minutes = 30
        target.save()
        second = _create(client, alpha, setup)
    due = {t["metric"]: t["due_at"] for t in first["sla"]}
    assert due["first_response"] == "2026-03-02T11:00:00+00:00"
    due = {t["metric"]: t["due_at"] for t in second["sla"]}
    assert due["first_response"] == "2026-03-02T10:30:00+00:00"


def test_a_contract_ended_between_two_creations_stops_the_clocks(
    alpha: World, setup: Setup
) -> None:
    client = api(alpha, alpha.agent)
    with time_machine.travel(MONDAY_10, tick=False):
        assert _create(client, alpha, setup)["sla"]
        contract = alpha.org1.contracts.get()
        contract.ends_on = dt.date(2026, 1, 1)
        contract.save()
        assert _create(client, alpha, setup)["sla"] == []


def test_a_routing_rule_added_between_two_creations_routes_the_second(
    alpha: World, setup: Setup
) -> None:
    client = api(alpha, alpha.agent)
    team = TeamFactory(tenant=alpha.tenant)
    assert _create(client, alpha, setup)["team"] is None
    RoutingRule.objects.create(tenant=alpha.tenant, name="All", team=team, position=1)
    assert _create(client, alpha, setup)["team"] == team.pk


def test_a_deleted_severity_is_refused_after_being_served_from_memory(
    alpha: World, setup: Setup
) -> None:
    client = api(alpha, alpha.agent)
    extra = SeverityFactory(tenant=alpha.tenant)
    body = {"requester_email": alpha.contact1.user.email, "severity": extra.pk}
    warm = client.post("/api/v1/tickets/", body)  # the severity is read (no subject: 400)
    assert warm.status_code == 400 and "severity" not in warm.json()["errors"]
    extra.delete()
    response = client.post("/api/v1/tickets/", {**body, "subject": "x"})
    assert response.status_code == 400
    assert "severity" in response.json()["errors"]


def test_another_tenants_rows_stay_unknown_with_a_warm_cache(
    alpha: World, beta: World, setup: Setup
) -> None:
    make_setup(beta)
    theirs = Organization.objects.get(pk=beta.org1.pk)
    client = api(alpha, alpha.agent)
    _create(client, alpha, setup)  # alpha's entries are warm
    response = client.post(
        "/api/v1/tickets/",
        {
            "subject": "x",
            "requester_email": alpha.contact1.user.email,
            "organization": theirs.pk,
            "severity": setup.high.pk,
        },
    )
    assert response.status_code == 400
    assert "organization" in response.json()["errors"]


def test_cached_teams_are_not_shared_between_tickets(alpha: World, setup: Setup) -> None:
    """Routing hands each ticket its own copy of the rule's team (round-robin writes to it)."""
    team = TeamFactory(tenant=alpha.tenant, assignment_strategy="round_robin")
    RoutingRule.objects.create(tenant=alpha.tenant, name="All", team=team, position=1)
    ticket = Ticket(tenant=alpha.tenant, severity=setup.high, channel="api")
    with configcache.armed(fresh(alpha.tenant)):
        with CaptureQueriesContext(connection) as first:
            one = routing_team_for(ticket=ticket)
        with CaptureQueriesContext(connection) as second:
            two = routing_team_for(ticket=ticket)
    assert len(first.captured_queries) == 1 and len(second.captured_queries) == 0
    assert one is not None and two is not None and one is not two
    assert one.pk == two.pk == team.pk


def test_saving_a_tenant_read_earlier_keeps_the_renewed_stamp(alpha: World) -> None:
    """The operators' admin saves the whole tenant it read: that must not put back a stamp
    another change has renewed in between (processes would serve the old configuration)."""
    earlier = fresh(alpha.tenant)
    SeverityFactory(tenant=alpha.tenant)
    renewed = stamp(alpha.tenant)
    assert renewed != earlier.config_stamp
    earlier.name = "Alpha Renamed"
    earlier.save()
    assert stamp(alpha.tenant) == renewed
    assert fresh(alpha.tenant).name == "Alpha Renamed"
