"""The configuration cache (helpdesk.configcache) through the desk's own write paths and
callers: writes that bypass ``post_save`` (bulk inserts, ``on_delete=SET_NULL``) still renew
the stamp, templates loaded into a tenant are served at once, and no caller writes to the rows
that requests share."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import time_machine
from django.db.models import Model, QuerySet

from helpdesk import configcache
from helpdesk.models import Tenant
from sla.policies import TEMPLATES
from sla.selectors import package_for_organization
from sla.services import calendar_create, calendar_delete, calendar_holidays_import
from tests.conftest import World
from tests.helpdesk.configcache.conftest import fresh, stamp
from tests.sla.conftest import Setup, api
from tickets.models import RoutingRule
from tickets.services import product_area_create, team_create, team_delete

# Thursday before Christmas, 16:30 in London (UTC in winter): a one-hour target runs 30 minutes
# today and 30 minutes on the next business day.
CHRISTMAS_EVE = dt.datetime(2026, 12, 24, 16, 30, tzinfo=dt.UTC)


def _create(client: Any, world: World, **fields: Any) -> Any:
    body = {
        "subject": "Checkout broken",
        "requester_email": world.contact1.user.email,
        "organization": world.org1.pk,
        **fields,
    }
    response = client.post("/api/v1/tickets/", body)
    assert response.status_code == 201, response.content
    return response.json()


def _first_response_due(ticket: Any) -> str:
    return next(t["due_at"] for t in ticket["sla"] if t["metric"] == "first_response")


# --- writes that send no post_save of the rows they change -------------------------------


def test_imported_holidays_apply_to_the_next_ticket(alpha: World, setup: Setup) -> None:
    """The import inserts holidays in bulk; the calendar's version bump renews the stamp, so a
    cached target does not keep computing on the calendar's previous version."""
    client = api(alpha, alpha.agent)
    with time_machine.travel(CHRISTMAS_EVE, tick=False):
        before = _create(client, alpha, severity=setup.high.pk)
        assert _first_response_due(before) == "2026-12-25T09:30:00+00:00"
        added = calendar_holidays_import(calendar=setup.calendar, country="GB", years=[2026])
        assert {d for d, _ in added} >= {dt.date(2026, 12, 25), dt.date(2026, 12, 28)}
        after = _create(client, alpha, severity=setup.high.pk)
    # Friday 25th (Christmas) and Monday 28th (Boxing Day, substitute) are closed.
    assert _first_response_due(after) == "2026-12-29T09:30:00+00:00"


def test_a_deleted_team_no_longer_takes_its_areas_tickets(alpha: World, setup: Setup) -> None:
    """Deleting a team leaves its product areas without a team by ``SET_NULL`` (an UPDATE, no
    signal for the areas); the team's own deletion renews the stamp."""
    team = team_create(tenant=alpha.tenant, name="Billing experts")
    area = product_area_create(tenant=alpha.tenant, key="billing", name="Billing", team=team)
    client = api(alpha, alpha.agent)
    assert _create(client, alpha, severity=setup.high.pk, product_area=area.pk)["team"] == team.pk
    before = stamp(alpha.tenant)
    team_delete(team=team)
    assert stamp(alpha.tenant) != before
    assert _create(client, alpha, severity=setup.high.pk, product_area=area.pk)["team"] is None


def test_deleting_a_teams_calendar_renews_the_stamp(alpha: World) -> None:
    """``Team.calendar`` is cleared by ``SET_NULL``; the calendar's deletion renews the stamp
    (cached teams would otherwise name a calendar that is gone)."""
    calendar = calendar_create(
        tenant=alpha.tenant,
        name="Night shift",
        timezone="UTC",
        hours=[{"weekday": 0, "start": "00:00", "end": "08:00"}],
    )
    team_create(tenant=alpha.tenant, name="Nights", calendar=calendar)
    before = stamp(alpha.tenant)
    calendar_delete(calendar=calendar)
    assert stamp(alpha.tenant) != before


def test_a_policy_template_is_served_as_soon_as_it_is_loaded(alpha: World) -> None:
    """Templates (sla/policies, tickets/catalog_templates) write through the services."""
    on = dt.date(2026, 3, 2)
    with configcache.armed(fresh(alpha.tenant)):
        cold = package_for_organization(tenant=alpha.tenant, organization=alpha.org2, on=on)
    assert cold.package is None
    TEMPLATES["officernd"].load(alpha.tenant)
    with configcache.armed(fresh(alpha.tenant)):
        warm = package_for_organization(tenant=alpha.tenant, organization=alpha.org2, on=on)
    assert warm.package is not None and warm.package.name == "Standard"


# --- callers never write to shared values --------------------------------------------------


def _frozen(value: Any, depth: int = 0) -> Any:
    """A comparable picture of a cached value: every attribute of every model instance (and of
    the related instances it holds), with the identity of each instance."""
    if depth > 8:
        return "..."
    if isinstance(value, Model):
        attrs = {k: _frozen(v, depth + 1) for k, v in vars(value).items() if k != "_state"}
        related = {k: (id(v), _frozen(v, depth + 1)) for k, v in value._state.fields_cache.items()}
        return (type(value).__name__, id(value), sorted(attrs.items()), sorted(related.items()))
    if isinstance(value, QuerySet):
        return ("queryset", _frozen(value._result_cache, depth + 1))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [_frozen(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)]
    if isinstance(value, dict):
        return sorted((repr(k), _frozen(v, depth + 1)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return [_frozen(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(repr(v) for v in value)
    return repr(value)


def _entries(tenant: Tenant) -> tuple[Any, dict[str, Any]]:
    held = configcache._ENTRIES[tenant.pk]
    return held[0], {repr(k): _frozen(v) for k, v in held[1].items()}


def test_routing_and_coverage_leave_the_cached_rows_as_they_were(
    alpha: World, setup: Setup
) -> None:
    """Round-robin routing writes the agent it picked onto the team it is given: by a rule
    (creation and re-classification) or by the product area, that team must be the ticket's own
    copy, never the cached rule's team or the cached row. Coverage reads the cached targets,
    package and calendars only."""
    # A re-classified ticket's assignee is not one of the urgent team's members: it is picked
    # again there.
    urgent = team_create(
        tenant=alpha.tenant,
        name="Urgent",
        assignment_strategy="round_robin",
        members=[alpha.admin, alpha.lead],
    )
    experts = team_create(
        tenant=alpha.tenant,
        name="Experts",
        assignment_strategy="round_robin",
        members=[alpha.agent, alpha.lead],
    )
    area = product_area_create(tenant=alpha.tenant, key="billing", name="Billing", team=experts)
    RoutingRule.objects.create(
        tenant=alpha.tenant, name="High", team=urgent, severity=setup.high, position=1
    )
    client = api(alpha, alpha.agent)
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), tick=False):
        low = _create(client, alpha, severity=setup.low.pk, product_area=area.pk)
        high = _create(client, alpha, severity=setup.high.pk)
        assert (low["team"], high["team"]) == (experts.pk, urgent.pk)
        assert low["assignee"] is not None and high["assignee"] is not None
        held, before = _entries(alpha.tenant)
        assert {"'routing_rules'", f"('team', {experts.pk})"} <= before.keys()
        assert any(k.startswith("('targets'") for k in before)

        again_low = _create(client, alpha, severity=setup.low.pk, product_area=area.pk)
        again_high = _create(client, alpha, severity=setup.high.pk)
        response = client.patch(f"/api/v1/tickets/{low['id']}/", {"severity": setup.high.pk})
        assert response.status_code == 200, response.content
        reclassified = response.json()

    # Round robin moved on (the pointer was written), each time on the ticket's own team.
    assert again_low["assignee"] != low["assignee"]
    assert again_high["assignee"] != high["assignee"]
    assert reclassified["team"] == urgent.pk
    assert reclassified["assignee"] in (alpha.admin.pk, alpha.lead.pk)
    held_after, after = _entries(alpha.tenant)
    assert held_after == held  # the same entries: nothing renewed the stamp meanwhile
    changed = [key for key, value in before.items() if after.get(key) != value]
    assert changed == []
