"""Knowledge-base API: articles (with search), their revisions and feedback, categories.

Everyone who is a member reads (customers: published public articles only); staff write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, pagination, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from helpdesk.api.base import TenantAPIMixin
from helpdesk.api.pagination import CursorPagination
from helpdesk.api.permissions import IsStaffMember, IsTenantMember
from helpdesk.models import User
from kb import selectors, services
from kb.models import Article, ArticleRevision, Category

from . import serializers as s

SEARCH_PARAM = OpenApiParameter(
    "search",
    OpenApiTypes.STR,
    description='Full-text search (words, "phrases", `or`, `-word`). Results come ranked by '
    "relevance, each with `snippet` and `rank`, and are paged by `limit`/`offset` (a relevance "
    "order is no stable cursor) instead of `cursor`.",
)


class SearchPagination(pagination.LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


def request_user(request: Request) -> User:
    """The caller (IsTenantMember has run: never anonymous here)."""
    user = request.user
    assert isinstance(user, User)
    return user


class StaffWritesMixin:
    """Reads for every member, writes for staff."""

    request: Any

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsTenantMember()]
        return [IsStaffMember()]


def _category_or_error(tenant: Any, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = selectors.category_get(tenant=tenant, category_id=category_id)
    if category is None:
        raise ValidationError({"category": "Unknown category."})
    return category


@contextmanager
def api_field_names() -> Iterator[None]:
    """Name fields in service errors as the API does (``body``, not ``body_markdown``)."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "body_markdown" in exc.error_dict:
            exc.error_dict["body"] = exc.error_dict.pop("body_markdown")
        raise


class ArticleListView(StaffWritesMixin, TenantAPIMixin, generics.ListCreateAPIView):
    """Articles the caller may read, newest first; with `?search=`, best match first."""

    model = Article

    @property
    def search_query(self) -> str:
        return self.request.query_params.get("search", "").strip()

    @property
    def paginator(self) -> pagination.BasePagination | None:
        if not hasattr(self, "_paginator"):
            self._paginator = SearchPagination() if self.search_query else CursorPagination()
        return self._paginator

    def get_serializer_class(self) -> type[BaseSerializer]:
        return s.ArticleSearchOutput if self.search_query else s.ArticleOutput

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "search": self.search_query}

    def scoped_queryset(self) -> QuerySet[Article]:
        if self.search_query:
            return selectors.article_search(
                tenant=self.tenant, query=self.search_query, membership=self.membership
            )
        return selectors.articles_visible_to(tenant=self.tenant, membership=self.membership)

    @extend_schema(parameters=[SEARCH_PARAM], responses=s.ArticleOutput(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.ArticleCreateInput, responses={201: s.ArticleOutput})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ArticleCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with api_field_names():
            article = services.article_create(
                tenant=self.tenant,
                author=request_user(request),
                title=v["title"],
                body_markdown=v["body"],
                category=_category_or_error(self.tenant, v["category"]),
                slug=v["slug"],
                visibility=v["visibility"],
                status=v["status"],
                product_area=v["product_area"],
            )
        out = s.ArticleOutput(article, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)


class ArticleDetailView(StaffWritesMixin, TenantAPIMixin, generics.RetrieveDestroyAPIView):
    """One article. Customers read published public articles; staff read all and write."""

    model = Article
    serializer_class = s.ArticleOutput
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def scoped_queryset(self) -> QuerySet[Article]:
        return selectors.articles_visible_to(tenant=self.tenant, membership=self.membership)

    @extend_schema(request=s.ArticleUpdateInput, responses=s.ArticleOutput)
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        article = self.get_object()
        data = s.ArticleUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        changes: dict[str, Any] = {
            "title": v.get("title"),
            "body_markdown": v.get("body"),
            "slug": v.get("slug"),
            "visibility": v.get("visibility"),
            "product_area": v.get("product_area"),
        }
        if "category" in v:
            changes["category"] = _category_or_error(self.tenant, v["category"])
        with api_field_names(), transaction.atomic():
            article = services.article_update(
                tenant=self.tenant, article=article, author=request_user(request), **changes
            )
            if v.get("status") == Article.Status.PUBLISHED:
                services.article_publish(tenant=self.tenant, article=article)
            elif v.get("status") == Article.Status.DRAFT:
                services.article_unpublish(tenant=self.tenant, article=article)
        return Response(self.get_serializer(article).data)

    def perform_destroy(self, instance: Article) -> None:
        services.article_delete(tenant=self.tenant, article=instance)


class ArticleRevisionListView(TenantAPIMixin, generics.ListAPIView):
    """An article's revisions, newest first (staff)."""

    model = ArticleRevision
    serializer_class = s.RevisionOutput
    permission_classes = [IsStaffMember]

    def scoped_queryset(self) -> QuerySet[ArticleRevision]:
        article = selectors.article_get(
            tenant=self.tenant, membership=self.membership, article_id=self.kwargs["article_pk"]
        )
        return selectors.article_revisions(tenant=self.tenant, article=article)


class ArticleFeedbackView(TenantAPIMixin, APIView):
    """ "Did this answer your question?": any member who can read the article answers (POST);
    staff read the tally (GET)."""

    model = Article

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsTenantMember()]
        return [IsStaffMember()]

    def _article(self) -> Article:
        return selectors.article_get(
            tenant=self.tenant, membership=self.membership, article_id=self.kwargs["article_pk"]
        )

    @extend_schema(responses=s.FeedbackCounts)
    def get(self, request: Request, article_pk: int) -> Response:
        counts = selectors.deflection_counts(tenant=self.tenant, article=self._article())
        return Response(s.FeedbackCounts(counts).data)

    @extend_schema(request=s.FeedbackInput, responses={201: s.FeedbackOutput})
    def post(self, request: Request, article_pk: int) -> Response:
        article = self._article()
        data = s.FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        deflection = services.deflection_record(
            tenant=self.tenant,
            article=article,
            helpful=data.validated_data["helpful"],
            query=data.validated_data["query"],
            user=request_user(request),
        )
        return Response(s.FeedbackOutput(deflection).data, status=status.HTTP_201_CREATED)


class CategoryListView(StaffWritesMixin, TenantAPIMixin, generics.ListCreateAPIView):
    """Categories in reading order, each with how many articles in it the caller may read.
    A small catalog per tenant: one page, no pagination."""

    model = Category
    serializer_class = s.CategoryOutput
    pagination_class = None

    def scoped_queryset(self) -> QuerySet[Category]:
        return selectors.categories_visible_to(tenant=self.tenant, membership=self.membership)

    @extend_schema(request=s.CategoryInput, responses={201: s.CategoryOutput})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.CategoryInput(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(tenant=self.tenant, **data.validated_data)
        category.article_count = 0  # type: ignore[attr-defined]
        return Response(s.CategoryOutput(category).data, status=status.HTTP_201_CREATED)
