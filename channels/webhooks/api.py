"""/api/v1/webhooks/: the tenant's webhook subscriptions and their delivery log (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.permissions import IsTenantAdmin

from .models import WebhookDelivery, WebhookEvent, WebhookSubscription

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses

from .services import (
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class SubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    description = serializers.CharField()
    active = serializers.BooleanField()
    failure_count = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, s: WebhookSubscription) -> dict[str, Any]:
        return {
            "id": s.pk,
            "url": s.url,
            "events": list(s.events),
            "description": s.description,
            "active": s.active,
            "failure_count": s.failure_count,
            "disabled_at": _iso(s.disabled_at),
            "created_at": _iso(s.created_at),
        }


class SubscriptionCreated(SubscriptionOutput):
    secret = serializers.CharField(help_text="The signing secret: shown this once.")


class SubscriptionInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=20
    )
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    active = serializers.BooleanField(required=False)


class DeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    delivery = serializers.UUIDField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField()
    error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    payload = serializers.JSONField()

    def to_representation(self, d: WebhookDelivery) -> dict[str, Any]:
        return {
            "id": d.pk,
            "delivery": str(d.uuid),
            "event_id": d.event_id,
            "event_type": d.event_type,
            "status": d.status,
            "attempts": d.attempts,
            "status_code": d.status_code,
            "response_excerpt": d.response_excerpt,
            "error": d.error,
            "next_attempt_at": (
                _iso(d.next_attempt_at) if d.status == WebhookDelivery.Status.PENDING else None
            ),
            "delivered_at": _iso(d.delivered_at),
            "created_at": _iso(d.created_at),
            "payload": d.payload,
        }


class WebhookMixin(TenantAPIMixin):
    model = WebhookSubscription
    permission_classes: PermissionClasses = [IsTenantAdmin]

    def scoped_queryset(self) -> QuerySet[WebhookSubscription]:
        return WebhookSubscription.objects.for_tenant(self.tenant).order_by("id")

    def one(self, pk: int) -> WebhookSubscription:
        return get_object_or_404(self.scoped_queryset(), pk=pk)


class WebhookListView(WebhookMixin, generics.ListAPIView):
    """Webhook subscriptions (admins). POST creates one; its response carries the signing
    secret, which is never shown again."""

    serializer_class = SubscriptionOutput

    @extend_schema(request=SubscriptionInput, responses={201: SubscriptionCreated})
    def post(self, request: Request) -> Response:
        data = SubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        subscription, secret = webhook_subscription_create(
            tenant=self.tenant,
            url=values["url"],
            events=values["events"],
            description=values["description"],
        )
        body = {**SubscriptionOutput(subscription).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class WebhookDetailView(WebhookMixin, generics.RetrieveAPIView):
    serializer_class = SubscriptionOutput

    def _update(self, pk: int, partial: bool) -> Response:
        subscription = self.one(pk)
        data = SubscriptionInput(data=self.request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        subscription = webhook_subscription_update(
            subscription=subscription,
            url=values.get("url"),
            events=values.get("events"),
            description=values.get("description") if "description" in self.request.data else None,
            active=values.get("active"),
        )
        return Response(SubscriptionOutput(subscription).data)

    @extend_schema(request=SubscriptionInput, responses=SubscriptionOutput)
    def put(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=False)

    @extend_schema(request=SubscriptionInput, responses=SubscriptionOutput)
    def patch(self, request: Request, pk: int) -> Response:
        return self._update(pk, partial=True)

    def delete(self, request: Request, pk: int) -> Response:
        webhook_subscription_delete(subscription=self.one(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(WebhookMixin, generics.ListAPIView):
    """The subscription's delivery log, newest first (admins)."""

    serializer_class = DeliveryOutput

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        subscription = self.one(self.kwargs["pk"])
        return WebhookDelivery.objects.for_tenant(self.tenant).filter(subscription=subscription)
