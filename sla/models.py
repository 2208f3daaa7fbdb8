"""The SLA engine's data: calendars, severities, packages, contracts, targets and clocks.

Every row here is tenant-owned; the composite same-tenant foreign keys live in the migrations.
The arithmetic itself is the pure module :mod:`sla.businesstime`; these models only hold what
it needs, and :func:`sla.selectors.calendar_compute` turns a ``BusinessCalendar`` into its pure
``Calendar``.
"""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Organization
from helpdesk.tenancy import TenantOwned
from tickets.models import Ticket

MINUTES_PER_DAY = 24 * 60


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    """An IANA zone name known to the tz database ("Europe/London", "UTC")."""
    if value not in _zone_names():
        raise ValidationError(_("Unknown time zone '%(tz)s'."), params={"tz": value})


def minute_label(minute: int) -> str:
    """Minutes from midnight as "HH:MM"; 1440 reads "24:00" (the end of the day)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


# A package lists the channels it includes in the tickets' own terms.
Channel = Ticket.Channel


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class BusinessCalendar(TenantOwned):
    """A time zone, weekly opening intervals (local wall time) and holidays.

    ``version`` goes up on every change of zone, hours or holidays: the pure calendar cache and
    the clocks computed on it key on it.
    """

    name = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="calendar_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class OpeningInterval(TenantOwned):
    """One weekly opening interval, [start, end) in minutes from local midnight; end 1440 is
    "24:00". Several per weekday are allowed (lunch breaks); 24/7 is seven 00:00-24:00 rows."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(help_text=_("0 = Monday … 6 = Sunday"))
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["weekday", "start_minute", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday_range"),
            models.CheckConstraint(
                condition=Q(start_minute__lt=models.F("end_minute"))
                & Q(end_minute__lte=MINUTES_PER_DAY),
                name="opening_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start_label}-{self.end_label}"

    @property
    def start_label(self) -> str:
        return minute_label(self.start_minute)

    @property
    def end_label(self) -> str:
        return minute_label(self.end_minute)


class Holiday(TenantOwned):
    """A closed day, or an inclusive range of days (``end_date``), once or every year."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    yearly = models.BooleanField(default=False)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("date")),
                name="holiday_range_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    def as_rule(self) -> dict[str, object]:
        """The shape :func:`sla.businesstime.expand_holidays_named` reads."""
        if self.end_date is None:
            return {"date": self.date, "yearly": self.yearly, "name": self.name}
        return {"start": self.date, "end": self.end_date, "yearly": self.yearly, "name": self.name}


class Severity(TenantOwned):
    """The tenant's severity catalog (spaceOS calls it priority); drives the SLA."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(help_text=_("1 is the most severe."))
    description = models.TextField(blank=True, help_text=_("Shown to customers when they pick."))
    escalation_eligible = models.BooleanField(default=True)

    class Meta:
        ordering = ["rank", "id"]
        verbose_name_plural = "severities"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="severity_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SupportPackage(TenantOwned):
    """What a customer bought: channels, covered severities and (through targets) the SLA."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    channels = models.JSONField(default=list, blank=True)
    severities = models.ManyToManyField(
        Severity, through="PackageSeverity", related_name="packages", blank=True
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="package_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class PackageSeverity(TenantOwned):
    """A severity a package covers (an explicit through table so it carries the tenant)."""

    package = models.ForeignKey(SupportPackage, on_delete=models.CASCADE, related_name="+")
    severity = models.ForeignKey(Severity, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "severity"], name="package_severity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.package_id}/{self.severity_id}"


class Contract(TenantOwned):
    """An organization holds a package from ``starts_on`` to ``ends_on`` (inclusive; open
    when null). Services keep an organization's contracts from overlapping."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contracts"
    )
    package = models.ForeignKey(SupportPackage, on_delete=models.RESTRICT, related_name="contracts")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["organization_id", "starts_on", "id"]
        indexes = [models.Index(fields=["organization", "starts_on"], name="contract_org_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="contract_range_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.package_id} {self.starts_on}-{self.ends_on or ''}"


class SLAPolicy(TenantOwned):
    """The tenant's SLA settings (one per tenant)."""

    class NoContractRule(models.TextChoices):
        NONE = "none", _("No SLA: first come, first served")
        DEFAULT_PACKAGE = "default_package", _("The default package applies")

    no_contract_rule = models.CharField(
        max_length=20, choices=NoContractRule.choices, default=NoContractRule.NONE
    )
    default_package = models.ForeignKey(
        SupportPackage, null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    no_contract_note = models.TextField(
        blank=True, help_text=_("Shown on a ticket that carries no SLA for lack of a contract.")
    )
    pause_on_hold = models.BooleanField(
        default=False, help_text=_("On hold pauses the resolution clock like pending does.")
    )
    template = models.CharField(max_length=50, blank=True)
    description = models.TextField(
        blank=True, help_text=_("How the template reads its seed policy (shown to admins).")
    )
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="sla_policy_one_per_tenant"),
            models.CheckConstraint(
                condition=Q(no_contract_rule="none") | Q(default_package__isnull=False),
                name="sla_policy_default_package_set",
            ),
        ]

    def __str__(self) -> str:
        return f"SLA policy of {self.tenant_id}"


class SLATarget(TenantOwned):
    """package x severity x metric → a business duration on a calendar. Among targets of the
    same package, severity and metric the first (by ``position``) whose condition holds wins."""

    class Condition(models.TextChoices):
        NONE = "", _("Always")
        OPENED_WITHIN = "opened_within", _("Opened within the condition calendar's hours")
        OPENED_OUTSIDE = "opened_outside", _("Opened outside the condition calendar's hours")

    package = models.ForeignKey(SupportPackage, on_delete=models.CASCADE, related_name="targets")
    severity = models.ForeignKey(Severity, on_delete=models.RESTRICT, related_name="targets")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    target_minutes = models.PositiveIntegerField(null=True, blank=True)
    target_business_days = models.PositiveIntegerField(null=True, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.RESTRICT, related_name="targets"
    )
    escalation_eligible = models.BooleanField(default=True)
    warn_at_percent = models.PositiveSmallIntegerField(default=75)
    condition = models.CharField(
        max_length=20, choices=Condition.choices, default=Condition.NONE, blank=True
    )
    condition_calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="conditioned_targets",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["package_id", "severity_id", "metric", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(target_minutes__isnull=False, target_business_days__isnull=True)
                    | Q(target_minutes__isnull=True, target_business_days__isnull=False)
                ),
                name="sla_target_one_duration",
            ),
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1, warn_at_percent__lte=100),
                name="sla_target_warn_percent",
            ),
            models.CheckConstraint(
                condition=Q(condition="", condition_calendar__isnull=True)
                | (~Q(condition="") & Q(condition_calendar__isnull=False)),
                name="sla_target_condition_shape",
            ),
            models.UniqueConstraint(
                fields=["package", "severity", "metric", "position"],
                name="sla_target_position_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package_id}/{self.severity_id}/{self.metric}#{self.position}"

    @property
    def duration_label(self) -> str:
        if self.target_business_days is not None:
            n = self.target_business_days
            return f"{n} business day{'s' * (n != 1)}"
        h, m = divmod(self.target_minutes or 0, 60)
        parts = [f"{h} business hour{'s' * (h != 1)}" if h else "", f"{m} min" if m else ""]
        return " ".join(p for p in parts if p) or "0 min"


class SLAClock(TenantOwned):
    """One clock per ticket and metric. See :mod:`sla.clocks` for the exact semantics.

    ``due_at``/``warn_at`` are null while the clock is paused (no business time accrues, so
    there is no due instant), unless the instant was reached before the pause. ``version``
    goes up whenever ``due_at`` or ``warn_at`` moves: a scheduled warning or breach task
    carries the version it was scheduled for and does nothing if it changed.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks"
    )
    metric = models.CharField(max_length=20, choices=Metric.choices)
    target = models.ForeignKey(
        SLATarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    # What due_at was computed from (kept when the target is edited or deleted).
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL, related_name="clocks"
    )
    target_minutes = models.PositiveIntegerField(null=True, blank=True)
    target_business_days = models.PositiveIntegerField(null=True, blank=True)
    warn_at_percent = models.PositiveSmallIntegerField(default=75)
    escalation_eligible = models.BooleanField(default=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveBigIntegerField(
        default=0, help_text=_("Business seconds that fell in closed pauses (not counted).")
    )
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    explanation = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=now)
    # The escalation workers' alarm (sla.escalation.alarms): the earliest instant a warning or
    # escalation level of this clock is still to fire, and which level; null when none is left
    # (stopped, paused, ineligible, every level fired). Kept by the clock engine's refresh and
    # by the workers, so the sweep is one range scan over a small partial index.
    next_alarm_at = models.DateTimeField(null=True, blank=True)
    next_alarm_level = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["ticket_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "metric"], name="sla_clock_one_per_metric"),
            models.CheckConstraint(
                condition=Q(target_minutes__isnull=True) | Q(target_business_days__isnull=True),
                name="sla_clock_one_duration",
            ),
        ]
        indexes = [
            # The workers' sweep: "due (or warn) passed and not yet fired".
            models.Index(fields=["status", "due_at"], name="sla_clock_status_due"),
            models.Index(fields=["status", "warn_at"], name="sla_clock_status_warn"),
            models.Index(
                fields=["next_alarm_at"],
                condition=Q(next_alarm_at__isnull=False),
                name="sla_clock_next_alarm",
            ),
            # The agent queue reads unstopped clocks in due order (tickets/views/queue_query.py).
            models.Index(
                fields=["tenant", "due_at", "ticket"],
                condition=Q(met_at__isnull=True, due_at__isnull=False),
                name="sla_clock_unstopped_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.metric} {self.status}"

    @property
    def is_stopped(self) -> bool:
        return self.met_at is not None


class SLAClockPause(TenantOwned):
    """A pause of a clock, [started_at, ended_at); open while ``ended_at`` is null. Kept so that
    a recompute (severity, target or calendar change) can say exactly how much business time
    ran, whatever the new calendar."""

    clock = models.ForeignKey(SLAClock, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock"],
                condition=Q(ended_at__isnull=True),
                name="sla_clock_one_open_pause",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="sla_clock_pause_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clock_id}: {self.started_at}-{self.ended_at or ''}"


# Escalation models (a module of their own, to keep this one readable): registered as sla.*.
from .escalation.models import (  # noqa: E402, F401
    EmergencyPage,
    Escalation,
    EscalationPolicy,
    EscalationRole,
    EscalationRule,
    NoticeChannel,
    OnCallEntry,
)
