"""Sweep makers for the knowledge-base console: ``/manage/kb/articles/<pk>/…`` and
``/manage/kb/categories/<pk>/…`` (function views, so keyed by route name). A revision's
``revision_number`` is 1: every article made here has exactly its first revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kb.models import Article
from kb.services import article_create, category_create

Maker = Callable[[Any], Any]


def _article(world: Any) -> int:
    return article_create(
        tenant=world.tenant,
        author=world.admin.user,
        title="ALPHA-SECRET console article",
        body_markdown="ALPHA-SECRET console answer.",
        status=Article.Status.PUBLISHED,
    ).pk


def _category(world: Any) -> int:
    return category_create(tenant=world.tenant, name="ALPHA-SECRET category").pk


ROUTE_MAKERS: dict[str, Maker] = {
    **{
        f"console-kb-article-{action}": _article
        for action in ("edit", "delete", "revisions", "revision")
    },
    "console-kb-category-edit": _category,
    "console-kb-category-delete": _category,
}
KWARG_MAKERS: dict[str, Maker] = {"revision_number": lambda world: 1}
