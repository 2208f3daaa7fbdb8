"""Tenant-host routes of inbound email (included by ``helpdesk.urls``)."""

from django.urls import path

from .webhooks import MailgunInboundView

urlpatterns = [
    path(
        "email/inbound/mailgun/<int:mailbox_id>/",
        # The key is per mailbox (set on each request); this only satisfies anymail's setup.
        MailgunInboundView.as_view(webhook_signing_key="per-mailbox"),
        name="email-inbound-mailgun",
    ),
]
