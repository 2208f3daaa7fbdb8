"""/api/v1/ routes of the channels app (included from helpdesk.api.urls)."""

from django.urls import path

from .notifications import api as notifications
from .webhooks import api as webhooks

urlpatterns = [
    path("notifications/", notifications.NotificationListView.as_view(), name="api-notifications"),
    path(
        "notifications/<int:pk>/",
        notifications.NotificationDetailView.as_view(),
        name="api-notification",
    ),
    path("webhooks/", webhooks.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<int:pk>/", webhooks.WebhookDetailView.as_view(), name="api-webhook"),
    path(
        "webhooks/<int:pk>/deliveries/",
        webhooks.WebhookDeliveryListView.as_view(),
        name="api-webhook-deliveries",
    ),
]
