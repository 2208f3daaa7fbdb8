"""Fuzz the live schema: every operation of /api/v1/schema/, generated requests (valid and
invalid) sent through the Django WSGI app as a tenant admin, and not one 5xx.

Path ids are mostly random (so 404s are exercised) but, for an even generated value, point at a
real object of the tenant built by the cross-tenant sweep's makers, so detail, update, delete
and nested routes run their real code too. The examples per operation are bounded so the whole
run stays well under a minute and a half on two cores.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import IntegrityError, close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from helpdesk.models import ApiToken
from helpdesk.services import api_token_create
from tests import test_isolation_sweep as sweep
from tests.conftest import World
from tests.routes import PUBLIC_ROUTES

MAX_EXAMPLES = 6
SCHEMA_URL = "/api/v1/schema/?format=json"

pytestmark = pytest.mark.slow


def _schema_path(route_path: str) -> str:
    return "/" + re.sub(
        r"<(?:\w+:)?(\w+)>",
        lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}",
        route_path,
    )


class Fuzz:
    """What the test needs to send a case: the tenant's host, an admin token, real ids."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.token, self.key = api_token_create(
            tenant=world.tenant, membership=world.admin, name="schemathesis"
        )
        self.real_ids: dict[str, dict[str, Any]] = {}
        made: dict[Any, Any] = {}
        for route in sweep.ROUTES:
            if not route.is_api or not route.kwargs or route.name in PUBLIC_ROUTES:
                continue
            ids = self.real_ids[_schema_path(route.path)] = {}
            for kwarg in route.kwargs:
                model = getattr(route.view_class, "model", None)
                which = (route.name if route.name in sweep.ROUTE_MAKERS else None, kwarg, model)
                if which not in made:
                    try:  # one object per kind: some makers may run only once per ticket
                        with transaction.atomic():
                            made[which] = sweep.value_for(route, kwarg, world)
                    except (IntegrityError, LookupError):  # LookupError: the sweep says it
                        made[which] = None
                if made[which] is not None:
                    ids["id" if kwarg == "pk" else kwarg] = made[which]

    def path_parameters(self, path: str, generated: dict[str, Any]) -> dict[str, Any]:
        real = self.real_ids.get(path, {})
        mapped = dict(generated)
        for name, value in generated.items():
            if name in real and isinstance(value, int) and value % 2 == 0:
                mapped[name] = real[name]
        return mapped


@pytest.fixture
def live_app(alpha: World) -> Iterator[Any]:
    # The real WSGI handler closes the database connection around each request (Django's test
    # client avoids doing so): that would end the test's transaction, so not here.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_server_errors(alpha: World, live_app: Any) -> None:
    fuzz = Fuzz(alpha)
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, live_app, headers={"Host": alpha.host})
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 100  # the whole API, not a fragment
    headers = {"Authorization": f"Token {fuzz.key}"}
    base_url = f"http://{alpha.host}"
    failures: list[str] = []
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            # A generated DELETE may revoke the fuzzer's own token: keep it usable.
            ApiToken.objects.filter(pk=fuzz.token.pk).update(revoked_at=None, expires_at=None)
            if case.path_parameters:
                case.path_parameters = fuzz.path_parameters(case.path, case.path_parameters)
            # A savepoint per call, as the request would have its own transaction in production.
            with transaction.atomic():
                case.call_and_validate(
                    base_url=base_url, headers=headers, checks=[not_a_server_error]
                )

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # every operation gets its turn
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
