"""Helpers for the SLA engine's tests: API clients by token, a small hand-made SLA setup."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Membership
from helpdesk.services import api_token_create
from sla.models import BusinessCalendar, Severity, SupportPackage
from sla.services import (
    calendar_create,
    contract_create,
    package_create,
    severity_create,
    sla_policy_update,
)
from tests.conftest import World

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


class Api:
    """A token-authenticated JSON client on a world's host."""

    def __init__(self, world: World, membership: Membership) -> None:
        _, key = api_token_create(tenant=world.tenant, membership=membership)
        self.client = Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(url, params or {})

    def post(self, url: str, body: Any = None) -> Any:
        return self.client.post(url, body or {}, content_type="application/json")

    def put(self, url: str, body: Any) -> Any:
        return self.client.put(url, body, content_type="application/json")

    def patch(self, url: str, body: Any) -> Any:
        return self.client.patch(url, body, content_type="application/json")

    def delete(self, url: str) -> Any:
        return self.client.delete(url)


def api(world: World, membership: Membership) -> Api:
    return Api(world, membership)


@dataclass
class Setup:
    calendar: BusinessCalendar
    high: Severity
    low: Severity
    package: SupportPackage


def make_setup(world: World, *, pause_on_hold: bool = False) -> Setup:
    """Mon-Fri 09:00-17:00 Europe/London; package Gold covering High (first response 1 h,
    next response 2 h, resolution 8 h) and Low (first response 8 h, resolution 3 business days);
    org1 holds Gold from 2020; no contract means no SLA."""
    calendar = calendar_create(
        tenant=world.tenant,
        name="Office",
        timezone="Europe/London",
        hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
    )
    high = severity_create(tenant=world.tenant, key="high", name="High", rank=1)
    low = severity_create(tenant=world.tenant, key="low", name="Low", rank=2)
    package = package_create(
        tenant=world.tenant,
        name="Gold",
        channels=["web", "email"],
        severities=[high, low],
        targets=[
            {
                "metric": "first_response",
                "severity": high,
                "target_minutes": 60,
                "calendar": calendar,
            },
            {
                "metric": "next_response",
                "severity": high,
                "target_minutes": 120,
                "calendar": calendar,
            },
            {"metric": "resolution", "severity": high, "target_minutes": 480, "calendar": calendar},
            {
                "metric": "first_response",
                "severity": low,
                "target_minutes": 480,
                "calendar": calendar,
            },
            {
                "metric": "resolution",
                "severity": low,
                "target_business_days": 3,
                "calendar": calendar,
            },
        ],
    )
    contract_create(
        tenant=world.tenant, organization=world.org1, package=package, starts_on=dt.date(2020, 1, 1)
    )
    sla_policy_update(tenant=world.tenant, no_contract_rule="none", pause_on_hold=pause_on_hold)
    return Setup(calendar, high, low, package)


@pytest.fixture
def setup(alpha: World) -> Setup:
    return make_setup(alpha)
