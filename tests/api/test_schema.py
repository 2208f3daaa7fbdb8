"""The OpenAPI schema and the code cannot drift apart.

* The schema generates without a single drf-spectacular warning and validates as OpenAPI 3.
* It equals the committed snapshot ``helpdesk/api/openapi.yaml`` byte for byte: a change to an
  API serializer or route shows up as a reviewed diff of that file (``make schema``).
* Every route of the API URL conf is in it, with every method its view answers, and every
  operation has a typed request body (writes) and a typed response body (except a 204).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.validation import validate_schema

from tests.routes import PUBLIC_ROUTES, Route, tenant_routes

SNAPSHOT = Path(__file__).resolve().parents[2] / "helpdesk" / "api" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
# Writes that take no body: an action named by its URL.
BODYLESS_WRITES = {
    ("post", "/api/v1/pages/{id}/acknowledge/"),
    ("post", "/api/v1/pages/{id}/downgrade/"),
}


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, Any], bytes, list[str]]:
    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = sorted(GENERATOR_STATS._warn_cache) + sorted(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    return schema, OpenApiYamlRenderer().render(schema, renderer_context={}), warnings


def schema_path(route: Route) -> str:
    def sub(match: re.Match[str]) -> str:
        return "{" + ("id" if match.group(1) == "pk" else match.group(1)) + "}"

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", sub, route.path)


def api_routes() -> list[Route]:
    return [r for r in tenant_routes() if r.is_api and r.name not in PUBLIC_ROUTES]


def test_schema_generates_without_warnings_and_validates(generated: Any) -> None:
    schema, _, warnings = generated
    assert warnings == [], "\n".join(warnings)
    validate_schema(schema)


def test_schema_matches_committed_snapshot(generated: Any) -> None:
    _, rendered, _ = generated
    committed = SNAPSHOT.read_bytes() if SNAPSHOT.exists() else b""
    if rendered != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.decode().splitlines(keepends=True),
                rendered.decode().splitlines(keepends=True),
                "helpdesk/api/openapi.yaml (committed)",
                "generated from the code",
                n=2,
            )
        )
        pytest.fail(
            "The API changed but its schema snapshot did not: review and run `make schema`.\n"
            + diff[:6000]
        )


def test_every_api_route_and_method_is_documented(generated: Any) -> None:
    schema, _, _ = generated
    routes = api_routes()
    assert len(routes) > 50
    missing = []
    for route in routes:
        view = route.view_class
        assert view is not None, route.path
        path = schema_path(route)
        documented = set(schema["paths"].get(path, {}))
        answered = {m for m in METHODS if hasattr(view, m)}
        if not answered <= documented:
            missing.append(f"{path}: {sorted(answered - documented)}")
    assert not missing, "undocumented: " + "; ".join(missing)
    # And nothing in the schema that no route serves.
    served = {schema_path(r) for r in routes}
    assert set(schema["paths"]) <= served


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _is_typed(schema: dict[str, Any], node: dict[str, Any]) -> bool:
    node = _resolve(schema, node)
    if any(k in node for k in ("oneOf", "anyOf", "allOf")):
        return True
    kind = node.get("type")
    if kind == "object":
        return bool(node.get("properties")) or bool(node.get("additionalProperties"))
    if kind == "array":
        return _is_typed(schema, node.get("items", {}))
    return kind is not None or "enum" in node


def test_every_operation_has_typed_bodies(generated: Any) -> None:
    schema, _, _ = generated
    problems = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            responses = operation.get("responses", {})
            success = {code: r for code, r in responses.items() if code.startswith("2")}
            if not success:
                problems.append(f"{where}: no 2xx response")
            for code, response in success.items():
                content = response.get("content")
                if code == "204":
                    if content:
                        problems.append(f"{where}: a 204 with a body")
                    continue
                if not content:
                    problems.append(f"{where}: {code} has no body")
                    continue
                for media, body in content.items():
                    if media.startswith("application/json") and not _is_typed(
                        schema, body.get("schema", {})
                    ):
                        problems.append(f"{where}: {code} {media} is untyped")
            if method in ("post", "put", "patch") and (method, path) not in BODYLESS_WRITES:
                request = operation.get("requestBody")
                json_body = (request or {}).get("content", {}).get("application/json")
                if json_body is None and "multipart/form-data" not in (request or {}).get(
                    "content", {}
                ):
                    problems.append(f"{where}: no request body")
                elif json_body is not None and not _is_typed(schema, json_body.get("schema", {})):
                    problems.append(f"{where}: untyped request body")
    assert not problems, "\n".join(problems)
