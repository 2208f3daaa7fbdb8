"""Sweep makers for /api/v1/tokens/<pk>/: a token of tenant A's admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpdesk.models import ApiToken
from helpdesk.services import api_token_create


def _token(world: Any) -> int:
    token, _ = api_token_create(
        tenant=world.tenant, membership=world.admin, name="ALPHA-SECRET token"
    )
    return token.pk


MODEL_MAKERS: dict[type, Callable[[Any], Any]] = {ApiToken: _token}
