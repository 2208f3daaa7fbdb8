"""Escalation data: the tenant's policy and levels, the escalations that fired, the on-call
roster and emergency pages.

Imported at the bottom of :mod:`sla.models` (the app's models module), so these are ``sla.*``
models; they live here to keep ``sla/models.py`` under the size a reader takes in at once.
Foreign keys are strings for the same reason (no import back into ``sla.models``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned

MINUTES_PER_DAY = 24 * 60


class EscalationRole(models.TextChoices):
    """Who a level notifies, resolved against the ticket when it fires (sla.escalation.rules)."""

    ASSIGNEE = "assignee", _("Assignee")
    TEAM_LEAD = "team_lead", _("Team lead")
    MANAGER = "manager", _("Manager")
    PRINCIPAL = "principal", _("Principal")
    DISTRIBUTION_LIST = "distribution_list", _("Escalation distribution list")
    ACCOUNT_EXECUTIVE = "account_executive", _("Account executive")


class NoticeChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    IN_APP = "inapp", _("In-app")
    PAGER = "pager", _("Pager / SMS")


class EscalationPolicy(TenantOwned):
    """The tenant's escalation settings (one row per tenant; code defaults when absent)."""

    distribution_emails = models.JSONField(
        default=list, blank=True, help_text=_("Tenant-wide escalation list (teams add theirs).")
    )
    quiet_hours_enabled = models.BooleanField(default=True)
    quiet_hours_start = models.PositiveSmallIntegerField(
        default=22 * 60, help_text=_("Minutes from local midnight (recipient's time zone).")
    )
    quiet_hours_end = models.PositiveSmallIntegerField(default=7 * 60)
    urgent_max_rank = models.PositiveSmallIntegerField(
        default=1,
        help_text=_(
            "A breach (level 1 and up) of a severity ranked this high or higher is urgent and "
            "ignores quiet hours; warnings and other breaches wait for the recipient's morning."
        ),
    )
    repage_minutes = models.PositiveSmallIntegerField(
        default=10, help_text=_("Re-page the on-call agents when nobody acknowledged in time.")
    )
    max_pages = models.PositiveSmallIntegerField(default=6)
    customer_escalation_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="escalation_policy_one_per_tenant"),
            models.CheckConstraint(
                condition=Q(quiet_hours_start__lte=MINUTES_PER_DAY)
                & Q(quiet_hours_end__lte=MINUTES_PER_DAY),
                name="escalation_policy_quiet_range",
            ),
            models.CheckConstraint(
                condition=Q(repage_minutes__gte=1), name="escalation_policy_repage_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Escalation policy of {self.tenant_id}"


class EscalationRule(TenantOwned):
    """One level of the tenant's chain. Level 0 is the warning (at the target's
    ``warn_at_percent``); level n >= 1 fires ``offset_minutes`` after the due time."""

    level = models.PositiveSmallIntegerField()
    offset_minutes = models.PositiveIntegerField(default=0)
    recipients = models.JSONField(default=list, help_text=_("Roles (EscalationRole values)."))
    channels = models.JSONField(default=list, help_text=_("NoticeChannel values."))
    metrics = models.JSONField(default=list, blank=True, help_text=_("Empty: every metric."))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["level", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "level"], name="escalation_rule_level_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__gt=0) | Q(offset_minutes=0), name="escalation_rule_warn_offset"
            ),
        ]

    def __str__(self) -> str:
        return f"level {self.level} (+{self.offset_minutes} min)"


class Escalation(TenantOwned):
    """A level that fired for a clock (kind ``sla``), or a customer's own escalation (kind
    ``customer``). Exactly once: the row is the claim, under the unique constraints below."""

    class Kind(models.TextChoices):
        SLA = "sla", _("SLA level")
        CUSTOMER = "customer", _("Customer escalation")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SLA)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="escalations"
    )
    # SET_NULL: a recompute that drops a clock keeps the history of what fired.
    clock = models.ForeignKey(
        "sla.SLAClock", null=True, blank=True, on_delete=models.SET_NULL, related_name="escalations"
    )
    metric = models.CharField(max_length=20)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    clock_version = models.PositiveIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, help_text=_("The instant it was due."))
    fired_at = models.DateTimeField(default=now)
    recipients = models.JSONField(default=list, blank=True)
    # Notices deferred by quiet hours are still to go; set when a later move of the clock (it
    # was met, or this level re-arms for a later instant) cancelled them.
    notices_pending = models.BooleanField(default=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    raised_by = models.ForeignKey(
        "helpdesk.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, help_text=_("The customer's reason, if they gave one."))

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "level", "clock_version"],
                condition=Q(kind="sla"),
                name="escalation_once_per_clock_level_version",
            ),
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(kind="customer"), name="escalation_customer_once"
            ),
            models.CheckConstraint(
                condition=Q(kind="customer")
                | Q(level__isnull=False, clock_version__isnull=False, due_at__isnull=False),
                name="escalation_sla_shape",
            ),
        ]
        indexes = [models.Index(fields=["ticket", "fired_at"], name="escalation_ticket_fired")]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.metric} {self.kind} level {self.level}"


class OnCallEntry(TenantOwned):
    """A member on call: every day, or on ``weekdays`` between ``start_minute`` and
    ``end_minute`` of the tenant's local time (an entry may wrap midnight: 22:00-06:00)."""

    membership = models.ForeignKey(
        "helpdesk.Membership", on_delete=models.CASCADE, related_name="on_call_entries"
    )
    weekdays = models.JSONField(default=list, blank=True, help_text=_("0 = Monday; empty: all."))
    start_minute = models.PositiveSmallIntegerField(default=0)
    end_minute = models.PositiveSmallIntegerField(default=MINUTES_PER_DAY)
    pager_address = models.CharField(
        max_length=100, blank=True, help_text=_("Phone number or pager id; empty: email only.")
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "on-call entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lte=MINUTES_PER_DAY) & Q(end_minute__lte=MINUTES_PER_DAY),
                name="on_call_minute_range",
            )
        ]

    def __str__(self) -> str:
        return f"on call: {self.membership_id}"


class EmergencyPage(TenantOwned):
    """An emergency ticket paging every on-call agent (seeds 002, 004), until acknowledged."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="emergency_pages"
    )
    reason = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(default=now)
    rounds = models.PositiveSmallIntegerField(default=0)
    last_paged_at = models.DateTimeField(null=True, blank=True)
    next_page_at = models.DateTimeField(null=True, blank=True)
    paged = models.JSONField(default=list, blank=True, help_text=_("Emails paged so far."))
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "helpdesk.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    downgraded_at = models.DateTimeField(null=True, blank=True)
    downgraded_by = models.ForeignKey(
        "helpdesk.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], name="emergency_page_one_per_ticket")
        ]
        indexes = [
            # The re-page sweep: "nobody acknowledged and the next page is due".
            models.Index(
                fields=["next_page_at"],
                condition=Q(next_page_at__isnull=False),
                name="emergency_page_next_due",
            )
        ]

    def __str__(self) -> str:
        return f"page for {self.ticket_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None and self.downgraded_at is None
