"""/api/v1/notifications/: the caller's own in-app notifications; mark one read or unread."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import TenantAPIMixin

from .models import Notification
from .services import notification_get, notification_mark_read, notifications_for


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    ticket = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, n: Notification) -> dict[str, Any]:
        return {
            "id": n.pk,
            "kind": n.kind,
            "ticket": n.ticket_id,
            "text": n.text,
            "url": n.url,
            "created_at": n.created_at.isoformat(),
            "read_at": n.read_at.isoformat() if n.read_at else None,
        }


class NotificationInput(serializers.Serializer):
    read = serializers.BooleanField()


class NotificationMixin(TenantAPIMixin):
    model = Notification

    def scoped_queryset(self) -> QuerySet[Notification]:
        """Only the caller's own notifications."""
        qs = notifications_for(membership=self.membership)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs


class NotificationListView(NotificationMixin, generics.ListAPIView):
    """The caller's notifications, newest first (``?unread=1``: only unread ones)."""

    serializer_class = NotificationOutput

    @extend_schema(parameters=[OpenApiParameter("unread", bool, required=False)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class NotificationDetailView(NotificationMixin, generics.RetrieveAPIView):
    """One notification; PATCH ``{"read": true}`` marks it read (``false``: unread)."""

    serializer_class = NotificationOutput

    @extend_schema(request=NotificationInput, responses=NotificationOutput)
    def patch(self, request: Request, pk: int) -> Response:
        notification = notification_get(membership=self.membership, notification_id=pk)
        data = NotificationInput(data=request.data)
        data.is_valid(raise_exception=True)
        notification = notification_mark_read(
            notification=notification, read=data.validated_data["read"]
        )
        return Response(NotificationOutput(notification).data)
