"""Models of the channels app (label ``helpdesk_channels``), one module per channel kind."""

from .email.models import EmailThreadId, InboundEmail, Mailbox, SuppressedAddress
from .notifications.models import Notification, NotificationDelivery
from .webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "EmailThreadId",
    "InboundEmail",
    "Mailbox",
    "Notification",
    "NotificationDelivery",
    "SuppressedAddress",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
]
