"""API authentication: ``Authorization: Token KEY`` (one tenant, one member) or the session."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from helpdesk.selectors import api_token_for_key
from helpdesk.services import api_token_touch


class TokenAuthentication(BaseAuthentication):
    keyword = "token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:
            raise AuthenticationFailed("Malformed Authorization header: use 'Token KEY'.")
        token = api_token_for_key(key=header[1])
        tenant = getattr(request, "tenant", None)
        # A token of another tenant is indistinguishable from an unknown one.
        if (
            token is None
            or tenant is None
            or token.tenant_id != tenant.pk
            or not token.is_usable()
            or not token.membership.is_active
            or not token.membership.user.is_active
        ):
            raise AuthenticationFailed("Invalid, expired or revoked token.")
        api_token_touch(token)
        request._request.membership = token.membership  # type: ignore[attr-defined]
        return token.membership.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "helpdesk.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create one with `manage.py create_api_token`.",
        }
