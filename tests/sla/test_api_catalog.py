"""/api/v1/severities/, /packages/, /contracts/, /sla-policy/: roles, tenancy, validation."""

from __future__ import annotations

from typing import Any

import pytest

from sla.policies import load_policy_template
from tests.conftest import World

from .conftest import Setup, api


def errors(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()["errors"]


# --- severities -------------------------------------------------------------------------------


def test_severity_crud_and_roles(alpha: World) -> None:
    admin = api(alpha, alpha.admin)
    created = admin.post(
        "/api/v1/severities/",
        {
            "key": "sev1",
            "name": "SEV 1",
            "rank": 1,
            "description": "Down.",
            "escalation_eligible": True,
        },
    )
    assert created.status_code == 201, created.content
    sev = created.json()
    assert sev == {
        "id": sev["id"],
        "key": "sev1",
        "name": "SEV 1",
        "rank": 1,
        "description": "Down.",
        "escalation_eligible": True,
    }
    url = f"/api/v1/severities/{sev['id']}/"
    # Everyone in the tenant reads the catalog (customers pick from it) ...
    for member in (alpha.agent, alpha.contact1):
        assert api(alpha, member).get(url).json()["name"] == "SEV 1"
    # ... only admins write it.
    for member in (alpha.agent, alpha.contact1):
        client = api(alpha, member)
        assert (
            client.post("/api/v1/severities/", {"key": "x", "name": "X", "rank": 2}).status_code
            == 403
        )
        assert client.patch(url, {"name": "Mine"}).status_code == 403
        assert client.delete(url).status_code == 403
    assert admin.patch(url, {"name": "Critical"}).json()["name"] == "Critical"
    assert "key" in errors(
        admin.post("/api/v1/severities/", {"key": "sev1", "name": "Y", "rank": 3})
    )
    assert "rank" in errors(admin.post("/api/v1/severities/", {"key": "z", "name": "Z", "rank": 0}))
    assert admin.delete(url).status_code == 204


def test_severity_cross_tenant_404(alpha: World, beta: World) -> None:
    sev = (
        api(alpha, alpha.admin)
        .post("/api/v1/severities/", {"key": "a", "name": "A", "rank": 1})
        .json()
    )
    intruder = api(beta, beta.admin)
    url = f"/api/v1/severities/{sev['id']}/"
    assert intruder.get(url).status_code == 404
    assert intruder.put(url, {"key": "a", "name": "B", "rank": 1}).status_code == 404
    assert intruder.delete(url).status_code == 404
    assert intruder.get("/api/v1/severities/").json()["results"] == []


def test_severity_in_use_is_409(alpha: World, setup: Setup) -> None:
    response = api(alpha, alpha.admin).delete(f"/api/v1/severities/{setup.high.pk}/")
    assert response.status_code == 409


# --- packages ------------------------------------------------------------------------------------


def test_package_with_targets(alpha: World, setup: Setup) -> None:
    admin = api(alpha, alpha.admin)
    cal, high, low = setup.calendar.pk, setup.high.pk, setup.low.pk
    body = {
        "name": "Platinum",
        "description": "The works.",
        "channels": ["web", "phone"],
        "severities": [high, low],
        "targets": [
            {
                "metric": "first_response",
                "severity": high,
                "target_minutes": 30,
                "calendar": cal,
                "condition": {"type": "opened_within", "calendar": cal},
            },
            {"metric": "first_response", "severity": high, "target_minutes": 90, "calendar": cal},
            {
                "metric": "resolution",
                "severity": low,
                "target_business_days": 2,
                "calendar": cal,
                "escalation_eligible": False,
                "warn_at_percent": 50,
            },
        ],
    }
    created = admin.post("/api/v1/packages/", body)
    assert created.status_code == 201, created.content
    pkg = created.json()
    assert (pkg["name"], pkg["channels"], pkg["severities"]) == (
        "Platinum",
        ["web", "phone"],
        sorted([high, low]),
    )
    targets = [{k: v for k, v in t.items() if k != "id"} for t in pkg["targets"]]
    assert targets == [
        {
            "metric": "first_response",
            "severity": high,
            "target_minutes": 30,
            "target_business_days": None,
            "calendar": cal,
            "escalation_eligible": True,
            "warn_at_percent": 75,
            "condition": {"type": "opened_within", "calendar": cal},
            "position": 0,
        },
        {
            "metric": "first_response",
            "severity": high,
            "target_minutes": 90,
            "target_business_days": None,
            "calendar": cal,
            "escalation_eligible": True,
            "warn_at_percent": 75,
            "condition": None,
            "position": 1,
        },
        {
            "metric": "resolution",
            "severity": low,
            "target_minutes": None,
            "target_business_days": 2,
            "calendar": cal,
            "escalation_eligible": False,
            "warn_at_percent": 50,
            "condition": None,
            "position": 0,
        },
    ]
    # Customers may read the packages; a patch replaces the targets.
    url = f"/api/v1/packages/{pkg['id']}/"
    assert api(alpha, alpha.contact1).get(url).status_code == 200
    patched = admin.patch(
        url,
        {
            "targets": [
                {
                    "metric": "first_response",
                    "severity": high,
                    "target_minutes": 45,
                    "calendar": cal,
                }
            ]
        },
    ).json()
    assert [t["target_minutes"] for t in patched["targets"]] == [45]


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"target_minutes": 60, "target_business_days": 1}, "target_minutes"),
        ({}, "target_business_days"),
        ({"target_minutes": -1}, "target_minutes"),
        ({"target_minutes": 60, "warn_at_percent": 0}, "warn_at_percent"),
        ({"target_minutes": 60, "metric": "coffee"}, "metric"),
        ({"target_minutes": 60, "condition": {"type": "sometimes", "calendar": None}}, "condition"),
    ],
)
def test_package_target_400s(
    alpha: World, setup: Setup, target: dict[str, Any], field: str
) -> None:
    row = {
        "metric": "first_response",
        "severity": setup.high.pk,
        "calendar": setup.calendar.pk,
        **target,
    }
    body = {"name": "Bad", "severities": [setup.high.pk], "targets": [row]}
    errs = errors(api(alpha, alpha.admin).post("/api/v1/packages/", body))
    assert field in str(errs["targets"])


def test_package_patch_validates_targets_whole(alpha: World, setup: Setup) -> None:
    url = f"/api/v1/packages/{setup.package.pk}/"
    response = api(alpha, alpha.admin).patch(url, {"targets": [{"target_minutes": 5}]})
    assert "targets" in errors(response)


def test_package_refuses_uncovered_and_foreign_severities(
    alpha: World, beta: World, setup: Setup
) -> None:
    from .conftest import make_setup

    foreign = make_setup(beta)
    admin = api(alpha, alpha.admin)
    uncovered = {
        "name": "Bad",
        "severities": [setup.high.pk],
        "targets": [
            {
                "metric": "first_response",
                "severity": setup.low.pk,
                "target_minutes": 60,
                "calendar": setup.calendar.pk,
            }
        ],
    }
    assert "targets" in errors(admin.post("/api/v1/packages/", uncovered))
    assert "severities" in errors(
        admin.post("/api/v1/packages/", {"name": "Bad", "severities": [foreign.high.pk]})
    )
    other_cal = {
        "name": "Bad",
        "severities": [setup.high.pk],
        "targets": [
            {
                "metric": "first_response",
                "severity": setup.high.pk,
                "target_minutes": 60,
                "calendar": foreign.calendar.pk,
            }
        ],
    }
    assert "calendar" in str(errors(admin.post("/api/v1/packages/", other_cal))["targets"])
    assert "channels" in errors(
        admin.post("/api/v1/packages/", {"name": "Bad", "channels": ["fax"]})
    )


def test_package_cross_tenant_and_roles(alpha: World, beta: World, setup: Setup) -> None:
    url = f"/api/v1/packages/{setup.package.pk}/"
    intruder = api(beta, beta.admin)
    assert intruder.get(url).status_code == 404
    assert intruder.patch(url, {"name": "Mine"}).status_code == 404
    assert intruder.delete(url).status_code == 404
    for member in (alpha.agent, alpha.contact1):
        assert api(alpha, member).patch(url, {"name": "Mine"}).status_code == 403
        assert api(alpha, member).post("/api/v1/packages/", {"name": "Mine"}).status_code == 403
    # Used by a contract: 409.
    assert api(alpha, alpha.admin).delete(url).status_code == 409


def test_package_list_query_count_is_flat(
    alpha: World, setup: Setup, django_assert_max_num_queries
) -> None:
    admin = api(alpha, alpha.admin)
    for i in range(5):
        admin.post(
            "/api/v1/packages/",
            {
                "name": f"P{i}",
                "severities": [setup.high.pk],
                "targets": [
                    {
                        "metric": "first_response",
                        "severity": setup.high.pk,
                        "target_minutes": 60,
                        "calendar": setup.calendar.pk,
                    }
                ],
            },
        )
    with django_assert_max_num_queries(12):
        assert len(admin.get("/api/v1/packages/").json()["results"]) == 6


# --- contracts ------------------------------------------------------------------------------------


def test_contracts_crud_roles_and_visibility(alpha: World, setup: Setup) -> None:
    admin = api(alpha, alpha.admin)
    created = admin.post(
        "/api/v1/contracts/",
        {
            "organization": alpha.org2.pk,
            "package": setup.package.pk,
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert created.status_code == 201, created.content
    contract = created.json()
    assert contract == {
        "id": contract["id"],
        "organization": alpha.org2.pk,
        "package": setup.package.pk,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
    }
    # org1's contract comes from the setup. Staff see both; customers only their own.
    assert len(api(alpha, alpha.agent).get("/api/v1/contracts/").json()["results"]) == 2
    mine = api(alpha, alpha.contact2).get("/api/v1/contracts/").json()["results"]
    assert [c["id"] for c in mine] == [contract["id"]]
    others = api(alpha, alpha.owner1).get("/api/v1/contracts/").json()["results"]
    assert [c["organization"] for c in others] == [alpha.org1.pk]
    url = f"/api/v1/contracts/{contract['id']}/"
    assert api(alpha, alpha.owner1).get(url).status_code == 404
    # Writes: admins only.
    for member in (alpha.agent, alpha.contact2):
        client = api(alpha, member)
        assert client.patch(url, {"ends_on": None}).status_code == 403
        assert client.delete(url).status_code == 403
        assert client.post("/api/v1/contracts/", {}).status_code == 403
    assert admin.patch(url, {"ends_on": None}).json()["ends_on"] is None
    assert admin.delete(url).status_code == 204


def test_contracts_may_not_overlap(alpha: World, setup: Setup) -> None:
    admin = api(alpha, alpha.admin)
    body = {"organization": alpha.org1.pk, "package": setup.package.pk, "starts_on": "2030-01-01"}
    # The setup's contract for org1 is open-ended from 2020.
    assert "starts_on" in errors(admin.post("/api/v1/contracts/", body))
    body = {
        "organization": alpha.org2.pk,
        "package": setup.package.pk,
        "starts_on": "2026-01-01",
        "ends_on": "2026-06-30",
    }
    assert admin.post("/api/v1/contracts/", body).status_code == 201
    assert (
        admin.post(
            "/api/v1/contracts/", {**body, "starts_on": "2026-07-01", "ends_on": None}
        ).status_code
        == 201
    )
    overlap = {**body, "starts_on": "2025-06-01", "ends_on": "2026-01-01"}
    assert "starts_on" in errors(admin.post("/api/v1/contracts/", overlap))
    backwards = {**body, "starts_on": "2024-06-01", "ends_on": "2024-01-01"}
    assert "ends_on" in errors(admin.post("/api/v1/contracts/", backwards))


def test_contracts_cross_tenant(alpha: World, beta: World, setup: Setup) -> None:
    contract_id = setup.package.contracts.get().pk
    intruder = api(beta, beta.admin)
    url = f"/api/v1/contracts/{contract_id}/"
    assert intruder.get(url).status_code == 404
    assert intruder.patch(url, {"ends_on": "2030-01-01"}).status_code == 404
    assert intruder.delete(url).status_code == 404
    # Another tenant's organization or package reads as unknown (400 naming the field).
    errs = errors(
        intruder.post(
            "/api/v1/contracts/",
            {"organization": alpha.org2.pk, "package": setup.package.pk, "starts_on": "2026-01-01"},
        )
    )
    assert {"organization", "package"} <= set(errs)


# --- the SLA policy --------------------------------------------------------------------------


def test_sla_policy_shows_the_template_reading(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="officernd")
    body = api(alpha, alpha.admin).get("/api/v1/sla-policy/").json()
    assert body["template"] == "officernd"
    assert body["no_contract_rule"] == "default_package"
    assert "wrong way round" in body["description"]
    assert api(alpha, alpha.contact1).get("/api/v1/sla-policy/").status_code == 403
    assert (
        api(alpha, alpha.agent).patch("/api/v1/sla-policy/", {"pause_on_hold": True}).status_code
        == 403
    )
    changed = (
        api(alpha, alpha.admin)
        .patch("/api/v1/sla-policy/", {"no_contract_rule": "none", "pause_on_hold": True})
        .json()
    )
    assert (changed["no_contract_rule"], changed["default_package"], changed["pause_on_hold"]) == (
        "none",
        None,
        True,
    )
    errs = errors(
        api(alpha, alpha.admin).patch(
            "/api/v1/sla-policy/", {"no_contract_rule": "default_package"}
        )
    )
    assert "default_package" in errs
