"""/api/v1/calendars/: business calendars, deadline and elapsed arithmetic, holiday import."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import ProtectedError, QuerySet, RestrictedError
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.permissions import IsStaffMember, IsTenantAdmin

from .. import businesstime as bt
from ..models import BusinessCalendar, validate_timezone
from ..selectors import calendar_evaluate, calendar_get, calendar_zone, calendars_for_tenant
from ..services import (
    calendar_create,
    calendar_delete,
    calendar_holidays_import,
    calendar_holidays_preview,
    calendar_update,
)
from ..services.calendars import parse_clock_minute
from .common import Conflict, InstantField, ReadMembersWriteAdmins, require, utc_iso

if TYPE_CHECKING:
    from .common import PermissionClasses

# --- serializers ----------------------------------------------------------------------------


class HoursInput(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 = Monday")
    start = serializers.CharField(help_text='"HH:MM"')
    end = serializers.CharField(help_text='"HH:MM", "24:00" allowed')

    def validate_start(self, value: str) -> str:
        try:
            parse_clock_minute(value, allow_24=False)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_end(self, value: str) -> str:
        try:
            parse_clock_minute(value, allow_24=True)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require(attrs, "weekday", "start", "end")
        start = parse_clock_minute(attrs["start"], allow_24=False)
        if parse_clock_minute(attrs["end"], allow_24=True) <= start:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        return attrs


class HolidayInput(serializers.Serializer):
    date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    yearly = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        require(attrs, "date")
        if attrs.get("end_date") is not None and attrs["end_date"] < attrs["date"]:
            raise serializers.ValidationError({"end_date": "The range ends before it starts."})
        return attrs


class CalendarInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/London")
    hours = HoursInput(many=True, allow_empty=False)
    holidays = HolidayInput(many=True, required=False, default=list)

    def validate_timezone(self, value: str) -> str:
        try:
            validate_timezone(value)
        except Exception as exc:  # django ValidationError: one message
            raise serializers.ValidationError(f"Unknown time zone '{value}'.") from exc
        return value


class CalendarOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    timezone = serializers.CharField()
    hours = serializers.SerializerMethodField()
    holidays = serializers.SerializerMethodField()
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(HoursInput(many=True))
    def get_hours(self, calendar: BusinessCalendar) -> list[dict[str, Any]]:
        return [
            {"weekday": h.weekday, "start": h.start_label, "end": h.end_label}
            for h in calendar.hours.all()
        ]

    @extend_schema_field(HolidayInput(many=True))
    def get_holidays(self, calendar: BusinessCalendar) -> list[dict[str, Any]]:
        return [
            {
                "date": h.date.isoformat(),
                "end_date": h.end_date.isoformat() if h.end_date else None,
                "name": h.name,
                "yearly": h.yearly,
            }
            for h in calendar.holidays.all()
        ]


class DeadlineQuery(serializers.Serializer):
    start = InstantField()
    minutes = serializers.IntegerField(min_value=0, max_value=5_000_000, required=False)
    business_days = serializers.IntegerField(min_value=0, max_value=3650, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("minutes", "business_days") if attrs.get(k) is not None]
        if len(given) != 1:
            message = (
                "Give minutes or business_days, not both."
                if given
                else "Give minutes or business_days."
            )
            raise serializers.ValidationError({"minutes": message, "business_days": message})
        return attrs


class ElapsedQuery(serializers.Serializer):
    start = InstantField()
    end = InstantField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end must not be before the start."})
        return attrs


class HolidayImportQuery(serializers.Serializer):
    country = serializers.CharField(max_length=3, help_text="ISO 3166-1 alpha-2, e.g. US")
    subdiv = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    years = serializers.CharField(help_text="comma-separated, e.g. 2026,2027")

    def validate_years(self, value: str) -> list[int]:
        try:
            years = sorted({int(y) for y in str(value).split(",") if y.strip()})
        except ValueError as exc:
            raise serializers.ValidationError("Give years like 2026,2027.") from exc
        if not years or len(years) > 10 or years[0] < 1900 or years[-1] > 2200:
            raise serializers.ValidationError("Give 1 to 10 years between 1900 and 2200.")
        return years


# --- views ----------------------------------------------------------------------------------


class CalendarQuerysetMixin(TenantAPIMixin):
    model = BusinessCalendar
    permission_classes: PermissionClasses = [IsStaffMember, ReadMembersWriteAdmins]

    def scoped_queryset(self) -> QuerySet[BusinessCalendar]:
        return calendars_for_tenant(tenant=self.tenant)

    def calendar(self, pk: int) -> BusinessCalendar:
        return calendar_get(tenant=self.tenant, calendar_id=pk)


class CalendarListView(CalendarQuerysetMixin, generics.ListAPIView):
    """Business calendars (staff read; admins create)."""

    serializer_class = CalendarOutput

    @extend_schema(request=CalendarInput, responses={201: CalendarOutput})
    def post(self, request: Request) -> Response:
        data = CalendarInput(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = calendar_create(tenant=self.tenant, **data.validated_data)
        calendar = self.calendar(calendar.pk)
        return Response(CalendarOutput(calendar).data, status=status.HTTP_201_CREATED)


class CalendarDetailView(CalendarQuerysetMixin, generics.RetrieveAPIView):
    serializer_class = CalendarOutput

    def _update(self, request: Request, pk: int, partial: bool) -> Response:
        calendar = self.calendar(pk)
        data = CalendarInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        calendar_update(calendar=calendar, **data.validated_data)
        return Response(CalendarOutput(self.calendar(pk)).data)

    @extend_schema(request=CalendarInput, responses=CalendarOutput)
    def put(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(request=CalendarInput, responses=CalendarOutput)
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(request, pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        try:
            calendar_delete(calendar=calendar)
        except (ProtectedError, RestrictedError) as exc:
            raise Conflict("The calendar is used by SLA targets; change them first.") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarDeadlineView(CalendarQuerysetMixin, generics.GenericAPIView):
    """When a business duration from ``start`` ends on this calendar, exact to the second."""

    serializer_class = DeadlineQuery

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="ISO 8601 with a UTC offset"),
            OpenApiParameter("minutes", int, required=False),
            OpenApiParameter("business_days", int, required=False),
        ],
        responses=inline_serializer(
            "Deadline",
            {
                "due": serializers.DateTimeField(),
                "due_local": serializers.DateTimeField(),
                "explanation": serializers.CharField(),
            },
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        query = DeadlineQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        start: dt.datetime = query.validated_data["start"]
        minutes = query.validated_data.get("minutes")
        days = query.validated_data.get("business_days")

        def compute(cal: bt.Calendar) -> tuple[dt.datetime, str]:
            due = bt.deadline(cal, start, minutes=minutes, business_days=days)
            return due, bt.explain(cal, start, minutes=minutes, business_days=days)

        try:
            due, explanation = calendar_evaluate(
                calendar, compute, start=start, reach=lambda r: r[0]
            )
        except ValueError as exc:
            raise serializers.ValidationError({"calendar": str(exc)}) from exc
        zone = calendar_zone(calendar)
        return Response(
            {
                "due": utc_iso(due),
                "due_local": due.astimezone(zone).isoformat(),
                "explanation": explanation,
            }
        )


class CalendarElapsedView(CalendarQuerysetMixin, generics.GenericAPIView):
    """Whole seconds of business time in [start, end)."""

    serializer_class = ElapsedQuery

    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="ISO 8601 with a UTC offset"),
            OpenApiParameter("end", str, description="ISO 8601 with a UTC offset"),
        ],
        responses=inline_serializer("Elapsed", {"seconds": serializers.IntegerField()}),
    )
    def get(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        query = ElapsedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = query.validated_data["start"], query.validated_data["end"]
        try:
            seconds = calendar_evaluate(
                calendar, lambda cal: bt.elapsed(cal, start, end), start=start, end=end
            )
        except ValueError as exc:
            raise serializers.ValidationError({"calendar": str(exc)}) from exc
        return Response({"seconds": seconds})


class CalendarHolidayImportView(CalendarQuerysetMixin, generics.GenericAPIView):
    """Holidays from the ``holidays`` package: GET previews exactly the dates an import would
    add (those the calendar does not already close on); POST adds exactly those."""

    permission_classes: PermissionClasses = [IsTenantAdmin]
    serializer_class = HolidayImportQuery

    def _params(self, request: Request) -> dict[str, Any]:
        raw = {k: request.query_params.get(k) for k in ("country", "subdiv", "years")}
        if request.method == "POST" and hasattr(request.data, "get"):
            for key in raw:
                if request.data.get(key) is not None:
                    value = request.data.get(key)
                    raw[key] = ",".join(map(str, value)) if isinstance(value, list) else value
        query = HolidayImportQuery(data={k: v for k, v in raw.items() if v is not None})
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)

    @staticmethod
    def _body(params: dict[str, Any], rows: list[tuple[dt.date, str]], key: str) -> dict:
        return {
            "country": params["country"].upper(),
            "subdiv": params["subdiv"],
            "years": params["years"],
            key: [{"date": d.isoformat(), "name": n} for d, n in rows],
        }

    @extend_schema(
        parameters=[
            OpenApiParameter("country", str),
            OpenApiParameter("subdiv", str, required=False),
            OpenApiParameter("years", str, description="e.g. 2026,2027"),
        ]
    )
    def get(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        params = self._params(request)
        rows = calendar_holidays_preview(calendar=calendar, **params)
        return Response(self._body(params, rows, "holidays"))

    @extend_schema(request=HolidayImportQuery)
    def post(self, request: Request, pk: int) -> Response:
        calendar = self.calendar(pk)
        params = self._params(request)
        rows = calendar_holidays_import(calendar=calendar, **params)
        return Response(self._body(params, rows, "added"))
