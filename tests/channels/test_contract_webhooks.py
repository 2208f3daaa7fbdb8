"""``contract.changed``: a contract created, changed or deleted — through the API, or with its
organization — is a webhook to the tenant's subscribers of that event, and to no one else."""

from __future__ import annotations

from typing import Any

import pytest

from channels.webhooks.models import WebhookDelivery
from channels.webhooks.services import webhook_subscription_create
from tests.conftest import World
from tests.sla.conftest import Setup, api, make_setup
from tickets.services import ticket_create


@pytest.fixture
def setup(alpha: World) -> Setup:
    return make_setup(alpha)


def subscribe(world: World, events: list[str]) -> None:
    webhook_subscription_create(tenant=world.tenant, url="http://127.0.0.1:9/hook", events=events)


def contract_events() -> list[tuple[str, dict[str, Any]]]:
    rows = WebhookDelivery.objects.filter(event_type="contract.changed").order_by("id")
    return [(d.payload["data"]["change"], d.payload["data"]["contract"]) for d in rows]


def test_contract_changes_through_the_api_are_webhooks(
    alpha: World, beta: World, setup: Setup
) -> None:
    subscribe(alpha, ["contract.changed"])
    subscribe(alpha, ["ticket.created"])  # another event: nothing for it
    subscribe(beta, ["contract.changed"])  # another tenant: nothing for it
    client = api(alpha, alpha.admin)
    created = client.post(
        "/api/v1/contracts/",
        {"organization": alpha.org2.pk, "package": setup.package.pk, "starts_on": "2026-01-01"},
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = client.patch(f"/api/v1/contracts/{pk}/", {"ends_on": "2026-12-31"})
    assert changed.status_code == 200, changed.content
    assert client.delete(f"/api/v1/contracts/{pk}/").status_code == 204
    contract = {"id": pk, "organization": alpha.org2.pk, "package": setup.package.pk}
    assert contract_events() == [
        ("created", {**contract, "starts_on": "2026-01-01", "ends_on": None}),
        ("updated", {**contract, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
        ("deleted", {**contract, "starts_on": "2026-01-01", "ends_on": "2026-12-31"}),
    ]
    assert WebhookDelivery.objects.count() == 3
    assert not WebhookDelivery.objects.filter(tenant=beta.tenant).exists()


def test_contracts_deleted_with_their_organization_are_webhooks(alpha: World, setup: Setup) -> None:
    contract = alpha.org1.contracts.get()
    subscribe(alpha, ["contract.changed"])
    assert api(alpha, alpha.admin).delete(f"/api/v1/organizations/{alpha.org1.pk}/").status_code
    assert contract_events() == [
        (
            "deleted",
            {
                "id": contract.pk,
                "organization": alpha.org1.pk,
                "package": setup.package.pk,
                "starts_on": contract.starts_on.isoformat(),
                "ends_on": None,
            },
        )
    ]


def test_an_organization_that_cannot_go_sends_nothing(alpha: World, setup: Setup) -> None:
    subscribe(alpha, ["contract.changed"])
    ticket_create(
        tenant=alpha.tenant,
        subject="Printer on fire",
        requester_email=alpha.contact1.user.email,
        organization=alpha.org1,
    )
    response = api(alpha, alpha.admin).delete(f"/api/v1/organizations/{alpha.org1.pk}/")
    assert response.status_code == 409
    assert contract_events() == []
    assert alpha.org1.contracts.exists()
