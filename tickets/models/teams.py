"""Teams, their members, and the routing rules that send a ticket to a team."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned


class Team(TenantOwned):
    """A group of agents (a department, or the experts of a product area). A team may work to
    its own business calendar (seed 003: Customer Support 07-17, Technical Support 08-17)."""

    class Strategy(models.TextChoices):
        MANUAL = "manual", _("Manual: tickets wait in the team's queue")
        ROUND_ROBIN = "round_robin", _("Round-robin among available agents")
        LEAST_LOADED = "least_loaded", _("The available agent with the fewest open tickets")

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    calendar = models.ForeignKey(
        "sla.BusinessCalendar", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_emails = models.JSONField(
        default=list, blank=True, help_text=_("Distribution list notified on escalation.")
    )
    assignment_strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.MANUAL
    )
    # Round-robin's cursor: the member assigned last (the next one follows it by id).
    last_assigned = models.ForeignKey(
        "helpdesk.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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


class RoutingRule(TenantOwned):
    """When every given condition holds, the ticket goes to ``team``. Rules are tried by
    ``position``; the first match wins (seed 003: severity 1 goes to Technical Support only).
    A rule without conditions matches everything (a catch-all at the end)."""

    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=200, blank=True)
    severity = models.ForeignKey(
        "sla.Severity", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product_area = models.ForeignKey(
        "tickets.ProductArea", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ticket_type = models.ForeignKey(
        "tickets.TicketType", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=16, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routing_rules")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name or f"rule {self.position} → {self.team_id}"
