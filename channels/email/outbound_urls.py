"""The mail provider's delivery events (bounces, complaints, rejections), mounted on the bare
base domain by ``helpdesk.urls_public``: ``POST /email/events/<provider>/``, e.g.
``https://user:secret@helpdesk.example.com/email/events/postmark/`` in the provider's console."""

from django.urls import path

from .bounces import tracking_webhook

urlpatterns = [
    path("email/events/<slug:provider>/", tracking_webhook, name="email-events"),
]
