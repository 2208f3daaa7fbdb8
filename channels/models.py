"""Models of the channels app (label ``helpdesk_channels``), one module per channel kind."""

from .notifications.models import Notification, NotificationDelivery
from .webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "Notification",
    "NotificationDelivery",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
]
