"""The apps' outbox subscriptions are wired: a ticket created through the services reaches the
webhooks of its own tenant only, after commit."""

from __future__ import annotations

import pytest

from channels.webhooks.models import WebhookDelivery
from channels.webhooks.services import webhook_subscription_create
from tests.conftest import World
from tickets.services import ticket_create


@pytest.mark.django_db(transaction=True)
def test_ticket_created_becomes_a_webhook_delivery(alpha: World, beta: World) -> None:
    subscription, _ = webhook_subscription_create(
        tenant=alpha.tenant, url="http://127.0.0.1:9/hook", events=["ticket.created"]
    )
    webhook_subscription_create(
        tenant=beta.tenant, url="http://127.0.0.1:9/hook", events=["ticket.created"]
    )
    ticket_create(
        tenant=alpha.tenant,
        subject="Wired",
        requester=alpha.contact1.user,
        requester_email=alpha.contact1.user.email,
    )
    deliveries = WebhookDelivery.objects.filter(event_type="ticket.created")
    assert [d.subscription_id for d in deliveries] == [subscription.pk]
