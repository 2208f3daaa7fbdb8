"""/api/v1/tokens/: the caller's API tokens (an admin: every token of the tenant, with its owner).

A token belongs to one member of one tenant. Its key is shown once, in the answer to the POST
that creates it; only its SHA-256 and a short prefix (to recognise it in a list) are stored.
DELETE revokes (the row stays, with ``revoked_at``, so the list still explains why a client
started getting 401s); PATCH renames. Customers and agents manage their own tokens only; an
admin may also create one for another member (``membership``), e.g. for an integration account.
A token of another member is, to a non-admin, a token that does not exist (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.models import ApiToken, Membership
from helpdesk.services import api_token_create, api_token_rename, api_token_revoke
from sla.api.common import InstantField, TenantPrimaryKeyField, utc_iso
from tickets.api.serializers import StrictInput

from .base import TenantAPIMixin
from .permissions import IsTenantMember

if TYPE_CHECKING:
    from sla.api.common import PermissionClasses


class TokenStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class TokenOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The key's first characters, to recognise it.")
    membership = serializers.IntegerField(help_text="The member the token acts as.")
    owner_email = serializers.EmailField()
    status = serializers.ChoiceField(choices=TokenStatus.choices)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="To the minute.")
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, token: ApiToken) -> dict[str, Any]:
        if token.revoked_at is not None:
            state = TokenStatus.REVOKED
        elif token.expires_at is not None and token.expires_at <= timezone.now():
            state = TokenStatus.EXPIRED
        else:
            state = TokenStatus.ACTIVE
        return {
            "id": token.pk,
            "name": token.name,
            "prefix": token.key_prefix,
            "membership": token.membership_id,
            "owner_email": token.membership.user.email,
            "status": state.value,
            "created_at": utc_iso(token.created_at),
            "last_used_at": utc_iso(token.last_used_at),
            "expires_at": utc_iso(token.expires_at),
            "revoked_at": utc_iso(token.revoked_at),
        }


class TokenCreatedOutput(TokenOutput):
    key = serializers.CharField(
        help_text="The secret: shown in this answer only. Send it as `Authorization: Token KEY`."
    )

    def to_representation(self, token: ApiToken) -> dict[str, Any]:
        return {**super().to_representation(token), "key": self.context["key"]}


class TokenCreateInput(StrictInput):
    name = serializers.CharField(max_length=100)
    expires_at = InstantField(required=False, allow_null=True, default=None)
    membership = TenantPrimaryKeyField(
        Membership,
        required=False,
        allow_null=True,
        default=None,
        help_text="Admins only: the member the token acts as (default: the caller).",
    )

    def validate_expires_at(self, value: Any) -> Any:
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Give an instant in the future.")
        return value


class TokenUpdateInput(StrictInput):
    name = serializers.CharField(max_length=100)


class TokenMixin(TenantAPIMixin):
    model = ApiToken
    permission_classes: PermissionClasses = [IsTenantMember]

    def scoped_queryset(self) -> QuerySet[ApiToken]:
        """The tenant's tokens for an admin; the caller's own for everyone else."""
        qs = ApiToken.objects.for_tenant(self.tenant).select_related("membership__user")
        if self.membership.is_admin:
            return qs
        return qs.filter(membership=self.membership)

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "tenant": self.tenant, "view": self}

    def parse(self, cls: type[serializers.Serializer]) -> dict[str, Any]:
        data = cls(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


class TokenListView(TokenMixin, generics.ListAPIView):
    """Your API tokens, newest first (an admin sees every token of the tenant)."""

    serializer_class = TokenOutput

    @extend_schema(
        request=TokenCreateInput,
        responses={201: TokenCreatedOutput},
        description="Create a token; the answer carries its key, which is never shown again.",
    )
    def post(self, request: Request) -> Response:
        data = self.parse(TokenCreateInput)
        owner = data["membership"] or self.membership
        if owner.pk != self.membership.pk:
            if not self.membership.is_admin:
                raise serializers.ValidationError(
                    {"membership": "Only admins create tokens for another member."}
                )
            if not owner.is_active:
                raise serializers.ValidationError({"membership": "This member is inactive."})
        token, key = api_token_create(
            tenant=self.tenant, membership=owner, name=data["name"], expires_at=data["expires_at"]
        )
        token = self.scoped_queryset().get(pk=token.pk)
        body = TokenCreatedOutput(token, context={"key": key}).data
        # The key must not linger in a cache or a proxy either.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


class TokenDetailView(TokenMixin, generics.RetrieveAPIView):
    serializer_class = TokenOutput

    @extend_schema(request=TokenUpdateInput, responses={200: TokenOutput})
    def patch(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(self.scoped_queryset(), pk=pk)
        data = self.parse(TokenUpdateInput)
        api_token_rename(tenant=self.tenant, token=token, name=data["name"])
        return Response(TokenOutput(token).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        """Revoke the token: it stops working at once and stays listed as revoked."""
        token = get_object_or_404(self.scoped_queryset(), pk=pk)
        if token.revoked_at is None:  # revoking twice keeps the first instant
            api_token_revoke(tenant=self.tenant, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
