"""Sweep makers for the console's people area (/manage/organizations/, contacts, teams, agents,
webhooks, tokens). Its views are functions (no ``.model``), so routes are keyed by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channels.webhooks.models import WebhookSubscription
from helpdesk.models import Membership
from helpdesk.services import api_token_create
from tests.conftest import World
from tests.factories import ContactFactory, ContractFactory, TeamFactory
from tickets.models import RoutingRule, Team

Maker = Callable[[World], Any]


def _team(world: World) -> Team:
    team = world.extra.get("people_team")
    if team is None:
        team = world.extra["people_team"] = TeamFactory(
            tenant=world.tenant, name="ALPHA-SECRET team"
        )
    return team  # type: ignore[return-value]


def _rule(world: World) -> int:
    return RoutingRule.objects.create(
        tenant=world.tenant, team=_team(world), name="ALPHA-SECRET rule"
    ).pk


def _contract(world: World) -> int:
    return ContractFactory(tenant=world.tenant, organization=world.org1).pk


def _pending_contact(world: World) -> int:
    contact: Membership = ContactFactory(
        tenant=world.tenant,
        organization=world.org1,
        contact_role=Membership.ContactRole.PENDING,
    )
    return contact.pk


def _webhook(world: World) -> int:
    return WebhookSubscription.objects.create(
        tenant=world.tenant,
        url="http://127.0.0.1:9/alpha-secret",
        events=["ticket.created"],
        secret="whsec_alpha",
    ).pk


def _token(world: World) -> int:
    token, _key = api_token_create(tenant=world.tenant, membership=world.agent, name="ALPHA-SECRET")
    return token.pk


ROUTE_MAKERS: dict[str, Maker] = {
    "console-org": lambda w: w.org1.pk,
    "console-org-edit": lambda w: w.org1.pk,
    "console-org-delete": lambda w: w.org1.pk,
    "console-org-contract-edit": _contract,
    "console-org-contract-end": _contract,
    "console-org-contract-delete": _contract,
    "console-contact-edit": lambda w: w.contact1.pk,
    "console-contact-verify": _pending_contact,
    "console-contact-deactivate": lambda w: w.contact1.pk,
    "console-team": lambda w: _team(w).pk,
    "console-team-delete": lambda w: _team(w).pk,
    "console-team-rule": _rule,
    "console-team-rule-delete": _rule,
    "console-agent": lambda w: w.agent.pk,
    "console-agent-deactivate": lambda w: w.agent.pk,
    "console-webhook": _webhook,
    "console-webhook-rotate": _webhook,
    "console-webhook-enable": _webhook,
    "console-webhook-delete": _webhook,
    "console-token-revoke": _token,
}
# ``organization_pk`` is the sweep's own (tests/test_isolation_sweep.py).
KWARG_MAKERS: dict[str, Maker] = {
    "team_pk": lambda w: _team(w).pk,
}
