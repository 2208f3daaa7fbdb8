"""``GET /api/v1/reports/sla/``: the SLA report as JSON, or its achievement rows as CSV
(``?format=csv`` or ``Accept: text/csv``). Staff only (admins and agents); customers get 403."""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.permissions import IsStaffMember
from sla.models import SLAClock

from . import selectors
from .export import achievement_csv, csv_filename
from .forms import ReportForm


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, context: Any = None) -> bytes:
        if isinstance(data, str):
            return data.encode()
        # An error (problem+json: the exception handler sets that content type) in CSV's place.
        return json.dumps(data).encode()


# --- output shapes (they document the schema and serialize the report's dataclasses) -----------


class RefOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class AchievementOutput(serializers.Serializer):
    period = serializers.DateField(allow_null=True, help_text="First day of the bucket (local).")
    metric = serializers.CharField()
    package = RefOutput(allow_null=True)
    severity = RefOutput(allow_null=True)
    team = RefOutput(allow_null=True)
    achieved = serializers.IntegerField(help_text="Met on time.")
    missed = serializers.IntegerField(help_text="Breached: stopped late, or due and unstopped.")
    in_progress = serializers.IntegerField(help_text="Running or paused, not yet due.")
    total = serializers.IntegerField()
    achievement_percent = serializers.FloatField(
        allow_null=True, help_text="achieved / (achieved + missed); null when both are 0."
    )


class BreachOutput(serializers.Serializer):
    ticket_id = serializers.IntegerField()
    reference = serializers.CharField()
    subject = serializers.CharField()
    metric = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    breached_at = serializers.DateTimeField(allow_null=True)
    met_at = serializers.DateTimeField(allow_null=True)
    still_open = serializers.BooleanField()
    late_seconds = serializers.IntegerField(
        help_text="Wall-clock seconds past due: to met_at, or to now while unstopped."
    )
    severity = RefOutput()
    package = RefOutput()
    team = RefOutput()
    reason = serializers.CharField()


class PercentilesOutput(serializers.Serializer):
    count = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)


class GroupPercentilesOutput(PercentilesOutput):
    package = RefOutput()
    severity = RefOutput()


class BucketOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    count = serializers.IntegerField()


class FirstResponseOutput(serializers.Serializer):
    basis = serializers.CharField(
        help_text="wall_time: from the clock's start to the first public agent reply."
    )
    overall = PercentilesOutput()
    histogram = BucketOutput(many=True)
    by_package_severity = GroupPercentilesOutput(many=True)


class BacklogStatusOutput(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    count = serializers.IntegerField()
    ages = BucketOutput(many=True)


class BacklogOutput(serializers.Serializer):
    as_of = serializers.DateTimeField()
    total = serializers.IntegerField()
    by_age = BucketOutput(many=True)
    by_status = BacklogStatusOutput(many=True)


class VolumeRowOutput(serializers.Serializer):
    period = serializers.DateField()
    channel = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    count = serializers.IntegerField()


class VolumeOutput(serializers.Serializer):
    total = serializers.IntegerField()
    by_channel = BucketOutput(many=True)
    by_period = VolumeRowOutput(many=True)


class FiltersOutput(serializers.Serializer):
    package = serializers.IntegerField(source="package_id", allow_null=True)
    severity = serializers.IntegerField(source="severity_id", allow_null=True)
    team = serializers.IntegerField(source="team_id", allow_null=True)
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    channel = serializers.CharField()


class SLAReportOutput(serializers.Serializer):
    time_zone = serializers.CharField(help_text="The tenant's zone: days and buckets are its.")
    start = serializers.DateField()
    end = serializers.DateField(help_text="Included.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="Exclusive: the day after `end`, 00:00 local.")
    granularity = serializers.CharField(help_text="The bucket used (day, week or month).")
    granularity_requested = serializers.CharField()
    generated_at = serializers.DateTimeField(help_text="Outcomes are as of this instant.")
    goal_percent = serializers.IntegerField()
    filters = FiltersOutput()
    achievement = AchievementOutput(many=True)
    achievement_by_metric_package = AchievementOutput(many=True)
    achievement_by_metric = AchievementOutput(many=True)
    breaches = BreachOutput(many=True)
    breaches_total = serializers.IntegerField()
    breaches_limit = serializers.IntegerField()
    breaches_offset = serializers.IntegerField()
    first_response = FirstResponseOutput()
    backlog = BacklogOutput()
    volume = VolumeOutput()


def _param(name: str, kind: Any, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, kind, description=description)


PARAMETERS = [
    _param("start", OpenApiTypes.DATE, "First day (YYYY-MM-DD, the desk's time zone)."),
    _param("end", OpenApiTypes.DATE, "Last day, included (default: today; start: 29 days before)."),
    OpenApiParameter(
        "granularity",
        OpenApiTypes.STR,
        enum=["day", "week", "month"],
        description="Bucket of the period rows; default by length. Coarsened past "
        f"{selectors.MAX_BUCKETS} buckets.",
    ),
    _param("package", OpenApiTypes.INT, "A support package id."),
    _param("severity", OpenApiTypes.INT, "A severity id."),
    _param("team", OpenApiTypes.INT, "A team id."),
    _param("organization", OpenApiTypes.INT, "An organization id."),
    OpenApiParameter("channel", OpenApiTypes.STR, enum=["web", "email", "chat", "phone", "api"]),
    _param("goal", OpenApiTypes.INT, "Goal achievement % (1-100, default 95)."),
    _param("breaches_limit", OpenApiTypes.INT, "Breaches per page (default 50, at most 500)."),
    _param("breaches_offset", OpenApiTypes.INT, "Breaches to skip."),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
]


class SLAReportView(TenantAPIMixin, APIView):
    """The SLA report of the tickets opened from `start` to `end` (days in the desk's time zone,
    both included): achievement per metric x package x severity x team x period, the breaches
    with their reasons, first-response times, backlog ageing and volume by channel.

    Achievement = met on time / (met on time + missed); clocks running or paused and not yet due
    count as in progress and stay out of the percentage. Duplicates (SLA-exempt or merged
    tickets) are left out. First-response time is wall-clock time from the clock's start to the
    first public agent reply. The backlog is as of the end of the period (or now, if earlier).
    `format=csv` (or `Accept: text/csv`) exports the achievement rows."""

    model = SLAClock
    permission_classes = [IsStaffMember]
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:  # DRF's answer to an unknown ?format=
            raise exceptions.ValidationError({"format": ["Use json or csv."]}) from None

    @extend_schema(
        parameters=PARAMETERS,
        responses={
            200: OpenApiResponse(SLAReportOutput, description="JSON, or CSV rows with format=csv")
        },
    )
    def get(self, request: Request) -> Response:
        form = ReportForm(request.query_params, tenant=self.tenant)
        if not form.is_valid():
            errors: dict[str, Any] = {
                ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
                for name, messages in form.errors.items()
            }
            raise exceptions.ValidationError(errors)
        report = selectors.sla_report(tenant=self.tenant, **form.report_kwargs())
        if request.accepted_renderer.format == "csv":
            return Response(
                achievement_csv(report),
                headers={"Content-Disposition": f'attachment; filename="{csv_filename(report)}"'},
            )
        return Response(SLAReportOutput(report).data)
