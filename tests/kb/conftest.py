"""Helpers of the knowledge-base tests: articles made through the service (so body_html and the
search vector are what production has), and API clients by token."""

from __future__ import annotations

from typing import Any

from django.test import Client

from helpdesk.models import Membership
from helpdesk.services import api_token_create
from kb.models import Article
from kb.services import article_create
from tests.conftest import World


def make_article(world: World, title: str, body: str = "Some answer.", **kwargs: Any) -> Article:
    kwargs.setdefault("status", Article.Status.PUBLISHED)
    return article_create(
        tenant=world.tenant, author=world.admin.user, title=title, body_markdown=body, **kwargs
    )


def api(world: World, membership: Membership) -> Client:
    _, key = api_token_create(tenant=world.tenant, membership=membership)
    return Client(HTTP_HOST=world.host, HTTP_AUTHORIZATION=f"Token {key}")
