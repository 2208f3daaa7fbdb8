"""Tickets. (The foundation's core; catalogs, messages and the rest grow here.)"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Organization, Tenant
from helpdesk.tenancy import TenantOwned


class TicketCounter(models.Model):
    """The last ticket number handed out per tenant; incremented under a row lock."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, primary_key=True)
    last_number = models.PositiveBigIntegerField(default=1000)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.last_number}"


class Team(TenantOwned):
    """A group of agents (a department, or the experts of a product area). A team may work to
    its own business calendar (seed 003: Customer Support 07-17, Technical Support 08-17)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey(
        "sla.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_emails = models.JSONField(
        default=list, blank=True, help_text=_("Distribution list notified on escalation.")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="team_name_unique")]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantOwned):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    membership = models.ForeignKey(
        "helpdesk.Membership", on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "membership"], name="team_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.team_id}"


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
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
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
        "sla.Severity", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
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
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"{self.tenant.ticket_prefix}-{self.number}"
