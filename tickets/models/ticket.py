"""The ticket and its per-tenant reference counter."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Organization, Tenant
from helpdesk.tenancy import TenantOwned

from .teams import Team


class TicketCounter(models.Model):
    """The last ticket number handed out per tenant; incremented under a row lock."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    last_number = models.PositiveBigIntegerField(default=1000)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.last_number}"


class Ticket(TenantOwned):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending customer")
        ON_HOLD = "on_hold", _("On hold")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        EMAIL = "email", _("Email")
        CHAT = "chat", _("Live chat")
        PHONE = "phone", _("Phone")
        API = "api", _("API")

    number = models.PositiveBigIntegerField()
    subject = models.CharField(max_length=250)
    description = models.TextField(blank=True, help_text=_("Markdown source."))
    description_html = models.TextField(blank=True, help_text=_("Rendered and sanitised."))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.RESTRICT, related_name="tickets"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_tickets",
    )
    requester_email = models.EmailField()
    # Seed 003: only verified contacts may file. A pending contact's ticket is kept, held out of
    # the queue, and released when the contact is verified.
    held_for_verification = models.BooleanField(default=False)
    opened_at = models.DateTimeField(default=timezone.now)
    # The SLA engine's inputs and its per-ticket verdict (sla.clocks).
    severity = models.ForeignKey(
        "sla.Severity", null=True, blank=True, on_delete=models.RESTRICT, related_name="tickets"
    )
    # Seed 003: a duplicate filed without being asked carries no SLA of its own.
    sla_exempt = models.BooleanField(default=False)
    sla_note = models.TextField(
        blank=True, help_text=_("Why the ticket has no SLA clock, in words a customer reads.")
    )
    cc = models.JSONField(default=list, blank=True)
    assignee = models.ForeignKey(
        "helpdesk.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    # The catalogs (tickets.models.catalog).
    type = models.ForeignKey(
        "tickets.TicketType",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="tickets",
    )
    priority = models.ForeignKey(
        "tickets.Priority", null=True, blank=True, on_delete=models.RESTRICT, related_name="tickets"
    )
    # Set when an agent chose the priority; otherwise it follows the priority matrix.
    priority_overridden = models.BooleanField(default=False)
    business_impact = models.ForeignKey(
        "tickets.BusinessImpact",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="tickets",
    )
    business_impact_text = models.CharField(max_length=500, blank=True)
    product_area = models.ForeignKey(
        "tickets.ProductArea",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="tickets",
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    # Seed 002: a client without a contract may ask for a due date.
    requested_due_date = models.DateField(null=True, blank=True)
    billable = models.BooleanField(default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_tickets"
    )
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_reply_at = models.DateTimeField(null=True, blank=True)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="ticket_number_unique"),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-id"], name="ticket_tenant_status"),
            models.Index(fields=["tenant", "organization", "-id"], name="ticket_tenant_org"),
            models.Index(fields=["tenant", "requester", "-id"], name="ticket_tenant_requester"),
            models.Index(fields=["tenant", "assignee", "status"], name="ticket_tenant_assignee"),
            models.Index(fields=["tenant", "team", "-id"], name="ticket_tenant_team"),
            models.Index(fields=["tenant", "updated_at"], name="ticket_tenant_updated"),
            # The queue's first-come-first-served part: active, not held, oldest first.
            models.Index(
                fields=["tenant", "opened_at", "id"],
                condition=Q(
                    status__in=["new", "open", "pending", "on_hold"],
                    held_for_verification=False,
                ),
                name="ticket_queue_fcfs",
            ),
            # The queue's "solved" status filter: solved tickets, oldest first. Solved is a
            # passing state (closed follows), so the index stays small.
            models.Index(
                fields=["tenant", "opened_at", "id"],
                condition=Q(status="solved", held_for_verification=False),
                name="ticket_queue_solved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The services save a few plain fields at a time (status, cc, updated_at …): when no
        # foreign key is among them nothing can point into another tenant, so the per-FK
        # same-tenant lookups of TenantOwned.save are skipped.
        fields = kwargs.get("update_fields")
        if fields is not None and not any(
            self._meta.get_field(name).many_to_one for name in fields
        ):
            models.Model.save(self, *args, **kwargs)
            return
        super().save(*args, **kwargs)

    @property
    def reference(self) -> str:
        return f"{self.tenant.ticket_prefix}-{self.number}"

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED
