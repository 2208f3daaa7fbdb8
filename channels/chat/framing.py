"""Who may frame the chat pages, and which embedding site a chat records: the tenant's allowed
origins (``ChatSettings.allowed_origins``) and only those. Shared by the customers' and the
visitors' chat pages."""

from __future__ import annotations

from csp.constants import SELF
from django.http import HttpRequest, HttpResponse

from .selectors import chat_settings_for


def framable(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let the tenant's allowed origins (and only those) frame this page."""
    origins = list(chat_settings_for(tenant=request.tenant).allowed_origins or [])  # type: ignore[attr-defined]
    if origins:
        response.xframe_options_exempt = True
        response._csp_replace = {"frame-ancestors": [SELF, *origins]}  # type: ignore[attr-defined]
    return response


def embedding_origin(request: HttpRequest, value: str) -> str:
    """The site that opened the chat (embed.js passes it), kept only when the admins allow it."""
    value = value.strip().rstrip("/").lower()
    allowed = chat_settings_for(tenant=request.tenant).allowed_origins or []  # type: ignore[attr-defined]
    return value if value in allowed else ""
