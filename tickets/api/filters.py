"""Filters of ``GET /api/v1/tickets/`` (django-filter). Ids are compared as plain numbers on the
already tenant-scoped queryset: another tenant's id simply matches nothing."""

from __future__ import annotations

import datetime as dt
import re

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from sla.models import SLAClock

from ..models import Ticket

_REFERENCE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,9}-(\d{1,18})$")


class TicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Ticket.Status.choices, help_text="Repeat for several: ?status=new&status=open"
    )
    severity = django_filters.NumberFilter(field_name="severity_id")
    priority = django_filters.NumberFilter(field_name="priority_id")
    organization = django_filters.NumberFilter(field_name="organization_id")
    assignee = django_filters.NumberFilter(field_name="assignee_id")
    team = django_filters.NumberFilter(field_name="team_id")
    type = django_filters.NumberFilter(field_name="type_id")
    product_area = django_filters.NumberFilter(field_name="product_area_id")
    breached = django_filters.BooleanFilter(
        method="filter_breached", help_text="Has (or has not) a breached SLA clock."
    )
    due_before = django_filters.IsoDateTimeFilter(
        method="filter_due_before", help_text="Its nearest running SLA clock is due before this."
    )
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Subject, description or reference."
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_breached(self, qs: QuerySet[Ticket], name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        now = timezone.now()
        breached = SLAClock.objects.filter(ticket=OuterRef("pk")).filter(
            Q(status=SLAClock.Status.BREACHED) | Q(status=SLAClock.Status.RUNNING, due_at__lte=now)
        )
        return qs.filter(Exists(breached)) if value else qs.exclude(Exists(breached))

    def filter_due_before(self, qs: QuerySet[Ticket], name: str, value: dt.datetime) -> QuerySet:
        if value is None:
            return qs
        due = SLAClock.objects.filter(
            ticket=OuterRef("pk"), status=SLAClock.Status.RUNNING, due_at__lt=value
        )
        return qs.filter(Exists(due))

    def filter_search(self, qs: QuerySet[Ticket], name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return qs
        match = _REFERENCE.match(value)
        condition = Q(subject__icontains=value) | Q(description__icontains=value)
        if match:
            condition |= Q(number=int(match.group(1)))
        elif value.isdigit() and len(value) <= 18:
            condition |= Q(number=int(value))
        return qs.filter(condition)
