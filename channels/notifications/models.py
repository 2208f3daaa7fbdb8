"""In-app notifications for staff, and the delivery log of every notice on every channel."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned


class Notification(TenantOwned):
    """An in-app notification for one member (the bell in the agent workspace)."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_ESCALATION = "sla_escalation", _("SLA escalation")
        EMERGENCY_PAGE = "emergency_page", _("Emergency page")
        CUSTOMER_ESCALATION = "customer_escalation", _("Customer escalation")
        WEBHOOK_DISABLED = "webhook_disabled", _("Webhook disabled")

    recipient = models.ForeignKey(
        "helpdesk.Membership", on_delete=models.CASCADE, related_name="notifications"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    # What it is about ("esc:42", "page:7:2"): one notification per source and recipient.
    source_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "source_key"], name="notification_once_per_source"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_new"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.text[:40]}"


class NotificationDelivery(TenantOwned):
    """One notice to one recipient on one channel: an outbox row, written in the transaction
    that decided the notice (so it is never lost) and sent after commit by a Celery task or the
    delivery sweep. Unique per (source, recipient, channel): a notice is never sent twice by a
    retry, a second worker or a duplicated message (the send claims the row first)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        IN_APP = "inapp", _("In-app")
        PAGER = "pager", _("Pager / SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    source_key = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254, help_text=_("Email address or pager address."))
    membership = models.ForeignKey(
        "helpdesk.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=now)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "notification deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source_key", "recipient", "channel"],
                name="notification_delivery_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notification_delivery_due",
            ),
            models.Index(fields=["source_key"], name="notification_delivery_source"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.recipient} ({self.status})"
