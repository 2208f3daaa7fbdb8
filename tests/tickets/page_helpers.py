"""Helpers of the portal and agent page tests (and the browser journeys): a tenant configured
from a real policy template, tickets filed through the service, and HTML checks."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from helpdesk.models import Membership
from sla.models import Severity, SupportPackage
from sla.policies import load_policy_template
from sla.services import contract_create
from tests.conftest import World
from tickets.models import Ticket
from tickets.services import ticket_create

UTC = dt.UTC
# A Tuesday morning in London (GMT): the officernd "24/5" calendar is open all day.
TUESDAY_9 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def officernd(world: World) -> dict[str, Severity]:
    """The officernd policy template (seed 000) on ``world``: org1 holds Ultimate (SEV 2 first
    response 8 business hours on 24/5), org2 has no contract (the template's default package,
    Standard). Returns the severities by key."""
    load_policy_template(tenant=world.tenant, template="officernd")
    ultimate = SupportPackage.objects.for_tenant(world.tenant).get(name="Ultimate")
    contract_create(
        tenant=world.tenant,
        organization=world.org1,
        package=ultimate,
        starts_on=dt.date(2020, 1, 1),
    )
    return {s.key: s for s in Severity.objects.for_tenant(world.tenant)}


def file_ticket(
    world: World,
    requester: Membership,
    subject: str,
    severity: Severity | None = None,
    **kwargs: Any,
) -> Ticket:
    return ticket_create(
        tenant=world.tenant,
        subject=subject,
        description=kwargs.pop("description", f"About {subject}."),
        requester=requester.user,
        requester_email=requester.user.email,
        severity=severity,
        **kwargs,
    )


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.I)
HANDLER_ATTR = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_TAG = re.compile(r"<style[\s>]", re.I)


def assert_csp_clean(html: str) -> None:
    """No inline script, no style element or attribute, no on*= handler (strict CSP)."""
    assert not INLINE_SCRIPT.search(html), INLINE_SCRIPT.search(html)
    assert not STYLE_ATTR.search(html), STYLE_ATTR.search(html)
    assert not STYLE_TAG.search(html), STYLE_TAG.search(html)
    assert not HANDLER_ATTR.search(html), HANDLER_ATTR.search(html)
