"""The tenant's ticket catalogs: priorities, ticket types, business impacts, product areas,
custom fields, the severity x business impact priority matrix, and the ticket settings.

Tickets reference catalog rows with ``RESTRICT``: a row in use cannot be deleted on its own
(the API answers 409), yet deleting a whole tenant still cascades through everything.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwned

MB = 1024 * 1024

# Images, PDF, text, zip and office documents (content types as sniffed from the bytes).
DEFAULT_ALLOWED_CONTENT_TYPES = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
]


def default_allowed_content_types() -> list[str]:
    return list(DEFAULT_ALLOWED_CONTENT_TYPES)


class Priority(TenantOwned):
    """The agents' working order (spaceOS's priority catalog drives the SLA and lives in
    ``sla.Severity``; this one does not move clocks)."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(help_text=_("1 is worked first."))

    class Meta:
        ordering = ["rank", "id"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="priority_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class TicketType(TenantOwned):
    """Bug, question, feature request, incident, emergency …, with the hints the form shows."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    form_hints = models.TextField(
        blank=True, help_text=_("What to include (symptoms, steps, how to reproduce …).")
    )
    # Seed 002: the emergency form; seed 004: an incident out of hours alerts on-call engineers.
    is_emergency = models.BooleanField(default=False)
    pages_on_call_out_of_hours = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="ticket_type_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class BusinessImpact(TenantOwned):
    """Who is affected (single user … everyone); "other" asks for a text."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField(help_text=_("1 is the widest impact."))
    requires_text = models.BooleanField(default=False)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="business_impact_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ProductArea(TenantOwned):
    """A part of the product; its team holds the subject-matter experts (skills routing)."""

    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    team = models.ForeignKey(
        "tickets.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="areas"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="product_area_key_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(TenantOwned):
    """A tenant's own ticket field. ``options`` (select) is a list of ``{"value", "label"}``;
    ``ticket_types`` empty means every type. Values live in ``Ticket.custom_fields`` keyed by
    ``key`` and are validated by the ticket services."""

    class Kind(models.TextChoices):
        SELECT = "select", _("Select")
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")

    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    ticket_types = models.ManyToManyField(
        TicketType, through="CustomFieldTicketType", related_name="custom_fields", blank=True
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def option_values(self) -> list[str]:
        return [str(o.get("value")) for o in self.options or [] if isinstance(o, dict)]


class CustomFieldTicketType(TenantOwned):
    """A ticket type a custom field applies to (explicit through table: it carries the tenant)."""

    custom_field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="+")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["custom_field", "ticket_type"], name="custom_field_type_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.custom_field_id}/{self.ticket_type_id}"


class PriorityMatrixEntry(TenantOwned):
    """severity x business impact → the default priority. A row without an impact applies to
    any impact the matrix does not list for that severity."""

    severity = models.ForeignKey("sla.Severity", on_delete=models.CASCADE, related_name="+")
    business_impact = models.ForeignKey(
        BusinessImpact, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name_plural = "priority matrix entries"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "severity", "business_impact"],
                condition=Q(business_impact__isnull=False),
                name="priority_matrix_cell_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant", "severity"],
                condition=Q(business_impact__isnull=True),
                name="priority_matrix_row_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.severity_id} x {self.business_impact_id} → {self.priority_id}"


class TicketSettings(TenantOwned):
    """The tenant's ticket settings (one per tenant; defaults apply while there is none)."""

    max_attachment_bytes = models.PositiveBigIntegerField(default=20 * MB)
    allowed_content_types = models.JSONField(default=default_allowed_content_types, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "ticket settings"
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="ticket_settings_one_per_tenant")
        ]

    def __str__(self) -> str:
        return f"Ticket settings of {self.tenant_id}"
