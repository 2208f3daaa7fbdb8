"""Explicit input and output serializers of the ticket resources (no ``ModelSerializer`` doing
domain work: inputs are parsed here, services do the rest)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.models import Membership, Organization
from sla.api.common import InstantField, TenantPrimaryKeyField, utc_iso
from sla.escalation.notify import escalation_output
from sla.models import Severity, SLAClock

from ..models import (
    Attachment,
    BusinessImpact,
    Priority,
    ProductArea,
    Team,
    Ticket,
    TicketEvent,
    TicketType,
)

_METRIC_ORDER = {"first_response": 0, "next_response": 1, "resolution": 2}


class StrictInput(serializers.Serializer):
    """An input that names fields it does not know (400) instead of silently ignoring them: a
    misspelt field, or ``status`` sent to PATCH, is a client bug worth telling."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            known = set(self.fields)
            unknown = [k for k in data if k not in known]
            if unknown:
                raise serializers.ValidationError({k: "Unknown field." for k in unknown})
        return super().to_internal_value(data)


# --- tickets ----------------------------------------------------------------------------------


class ClockOutput(serializers.Serializer):
    metric = serializers.CharField()
    target_minutes = serializers.IntegerField(allow_null=True)
    target_business_days = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    warn_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    paused_at = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)
    breached_at = serializers.DateTimeField(allow_null=True)
    escalation_eligible = serializers.BooleanField()
    explanation = serializers.CharField()

    def to_representation(self, clock: SLAClock) -> dict[str, Any]:
        return {
            "metric": clock.metric,
            "target_minutes": clock.target_minutes,
            "target_business_days": clock.target_business_days,
            "started_at": utc_iso(clock.started_at),
            "due_at": utc_iso(clock.due_at),
            "warn_at": utc_iso(clock.warn_at),
            "status": clock.status,
            "paused_at": utc_iso(clock.paused_at),
            "met_at": utc_iso(clock.met_at),
            "breached_at": utc_iso(clock.breached_at),
            "escalation_eligible": clock.escalation_eligible,
            "explanation": clock.explanation,
        }


class TicketEscalationOutput(serializers.Serializer):
    """The escalation workers' shape (``sla.escalation.notify.escalation_output``)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    metric = serializers.CharField()
    level = serializers.IntegerField(
        allow_null=True, help_text="0 = warning, 1… = escalation levels"
    )
    due_at = serializers.DateTimeField(allow_null=True)
    fired_at = serializers.DateTimeField()
    recipients = serializers.ListField(child=serializers.CharField())
    cancelled_at = serializers.DateTimeField(allow_null=True)


class TicketOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    subject = serializers.CharField()
    description = serializers.CharField(help_text="Markdown source.")
    description_html = serializers.CharField(help_text="Rendered and sanitised.")
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    severity = serializers.IntegerField(source="severity_id", allow_null=True)
    priority = serializers.IntegerField(source="priority_id", allow_null=True)
    priority_overridden = serializers.BooleanField()
    type = serializers.IntegerField(source="type_id", allow_null=True)
    business_impact = serializers.IntegerField(source="business_impact_id", allow_null=True)
    business_impact_text = serializers.CharField()
    product_area = serializers.IntegerField(source="product_area_id", allow_null=True)
    custom_fields = serializers.DictField()
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    requester_email = serializers.EmailField()
    cc = serializers.ListField(child=serializers.EmailField())
    assignee = serializers.IntegerField(
        source="assignee_id", allow_null=True, help_text="An agent (see /agents/)."
    )
    team = serializers.IntegerField(source="team_id", allow_null=True)
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices)
    requested_due_date = serializers.DateField(allow_null=True)
    billable = serializers.BooleanField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    held_for_verification = serializers.BooleanField()
    opened_at = serializers.DateTimeField()
    solved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    sla = serializers.SerializerMethodField()
    sla_note = serializers.CharField()
    sla_exempt = serializers.BooleanField()
    escalations = serializers.SerializerMethodField()

    # The create endpoint passes the clocks it just started (and no escalations: none can
    # refer to them yet) in the context instead of reading them back.

    @extend_schema_field(ClockOutput(many=True))
    def get_sla(self, ticket: Ticket) -> list[dict[str, Any]]:
        rows = self.context.get("sla_clocks")
        rows = ticket.sla_clocks.all() if rows is None else rows
        clocks = sorted(rows, key=lambda c: _METRIC_ORDER.get(c.metric, 9))
        out = ClockOutput()  # its to_representation reads no field: one instance serves all
        return [out.to_representation(c) for c in clocks]

    @extend_schema_field(TicketEscalationOutput(many=True))
    def get_escalations(self, ticket: Ticket) -> list[dict[str, Any]]:
        # The escalation workers' rows, prefetched by the views (tickets.api.common).
        rows = self.context.get("escalations")
        rows = ticket.escalations.all() if rows is None else rows
        return [escalation_output(e) for e in rows]


class TicketCreateInput(StrictInput):
    subject = serializers.CharField(max_length=250)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100_000
    )
    severity = TenantPrimaryKeyField(Severity, required=False, allow_null=True, default=None)
    organization = TenantPrimaryKeyField(
        Organization, required=False, allow_null=True, default=None
    )
    requester_email = serializers.EmailField(
        help_text="Required: the API never assumes the caller is the requester."
    )
    cc = serializers.ListField(
        child=serializers.EmailField(), required=False, default=list, max_length=50
    )
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, default=Ticket.Channel.API)
    opened_at = InstantField(
        required=False, help_text="Admins only (imports): the SLA clocks start then."
    )
    type = TenantPrimaryKeyField(TicketType, required=False, allow_null=True, default=None)
    business_impact = TenantPrimaryKeyField(
        BusinessImpact, required=False, allow_null=True, default=None
    )
    business_impact_text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )
    product_area = TenantPrimaryKeyField(ProductArea, required=False, allow_null=True, default=None)
    custom_fields = serializers.DictField(required=False, default=dict)
    requested_due_date = serializers.DateField(required=False, allow_null=True, default=None)
    priority = TenantPrimaryKeyField(
        Priority, required=False, allow_null=True, default=None, help_text="Staff only."
    )
    billable = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Staff only."
    )
    team = TenantPrimaryKeyField(
        Team, required=False, allow_null=True, default=None, help_text="Staff only."
    )
    assignee = TenantPrimaryKeyField(
        Membership, required=False, allow_null=True, default=None, help_text="Staff only."
    )


class TicketUpdateInput(StrictInput):
    """Every field is optional; ``null`` clears where a field may be empty. Status changes go
    through ``/transitions/``."""

    subject = serializers.CharField(max_length=250, required=False)
    severity = TenantPrimaryKeyField(Severity, required=False, allow_null=True)
    priority = TenantPrimaryKeyField(
        Priority,
        required=False,
        allow_null=True,
        help_text="An agent's choice; null hands the priority back to the matrix.",
    )
    type = TenantPrimaryKeyField(TicketType, required=False, allow_null=True)
    business_impact = TenantPrimaryKeyField(BusinessImpact, required=False, allow_null=True)
    business_impact_text = serializers.CharField(required=False, allow_blank=True, max_length=500)
    product_area = TenantPrimaryKeyField(ProductArea, required=False, allow_null=True)
    requested_due_date = serializers.DateField(required=False, allow_null=True)
    billable = serializers.BooleanField(required=False)
    custom_fields = serializers.DictField(
        required=False, help_text="Merged into the current values; a null value removes a key."
    )
    assignee = TenantPrimaryKeyField(Membership, required=False, allow_null=True)
    team = TenantPrimaryKeyField(Team, required=False, allow_null=True)
    cc = serializers.ListField(
        child=serializers.EmailField(),
        required=False,
        max_length=50,
        help_text="The whole list (added and removed addresses are logged).",
    )


class TransitionInput(StrictInput):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)


class MergeInput(StrictInput):
    into = TenantPrimaryKeyField(Ticket, help_text="The master ticket's id.")
    filed_without_request = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Seed 003: the duplicate was filed without being asked: it carries no SLA.",
    )


class SimilarOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- conversation -----------------------------------------------------------------------------


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.IntegerField(source="message_id", allow_null=True)
    filename = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField(help_text="Sniffed from the bytes.")
    declared_content_type = serializers.CharField(help_text="What the uploader said.")
    sha256 = serializers.CharField()
    public = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: Attachment) -> str:
        path = reverse(
            "api-ticket-attachment",
            kwargs={"ticket_pk": attachment.ticket_id, "attachment_id": attachment.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class MessageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField(help_text="Markdown source.")
    body_html = serializers.CharField(help_text="Rendered and sanitised.")
    public = serializers.BooleanField(help_text="False: an internal note (staff only).")
    author_email = serializers.EmailField(allow_blank=True)
    from_staff = serializers.BooleanField()
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentOutput(many=True, source="attachments.all")


class MessageInput(StrictInput):
    body = serializers.CharField(max_length=100_000)
    public = serializers.BooleanField(
        required=False, default=True, help_text="False: an internal note (staff only)."
    )
    attachments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=50,
        help_text="Ids of attachments uploaded to this ticket and not yet on a message.",
    )
    status = serializers.ChoiceField(
        choices=Ticket.Status.choices,
        required=False,
        help_text="Staff, public replies: the status to set with the reply (e.g. pending).",
    )


class AttachmentUploadInput(StrictInput):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    message = serializers.IntegerField(required=False, min_value=1, help_text="A message id.")


class EventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TicketEvent.Kind.choices)
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    actor_email = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_actor_email(self, event: TicketEvent) -> str | None:
        return event.actor.email if event.actor is not None else None
