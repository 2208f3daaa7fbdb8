"""What the configuration cache's tests share: an empty cache for each test, the SLA setup, and
reading a tenant's stamp (or the whole tenant) afresh from the database."""

from __future__ import annotations

import uuid

import pytest

from helpdesk import configcache
from helpdesk.models import Tenant
from tests.conftest import World
from tests.sla.conftest import Setup, make_setup


@pytest.fixture(autouse=True)
def _empty() -> None:
    configcache.clear()


@pytest.fixture
def setup(alpha: World) -> Setup:
    return make_setup(alpha)


def stamp(tenant: Tenant) -> uuid.UUID:
    return Tenant.objects.values_list("config_stamp", flat=True).get(pk=tenant.pk)


def fresh(tenant: Tenant) -> Tenant:
    return Tenant.objects.get(pk=tenant.pk)
