"""Input and output shapes of the knowledge-base API, one per operation. No domain work here:
the views hand validated data to kb.services."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kb import search
from kb.models import Article, ArticleRevision, Category


class CategoryOutput(serializers.ModelSerializer):
    article_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "position", "article_count"]
        read_only_fields = fields


class CategoryInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)


class CategoryRef(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class ArticleOutput(serializers.ModelSerializer):
    category = CategoryRef(read_only=True, allow_null=True)
    body = serializers.CharField(source="body_markdown", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "slug",
            "category",
            "body",
            "body_html",
            "visibility",
            "status",
            "product_area",
            "created_at",
            "updated_at",
            "published_at",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_url(self, article: Article) -> str:
        path = reverse("kb-article", kwargs={"article_slug": article.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ArticleSearchOutput(ArticleOutput):
    """A search result: the article, its relevance and a snippet in which only ``<mark>`` is
    markup (everything else is escaped)."""

    snippet = serializers.SerializerMethodField()
    rank = serializers.FloatField(read_only=True)

    class Meta(ArticleOutput.Meta):
        fields = [*ArticleOutput.Meta.fields, "snippet", "rank"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_snippet(self, article: Article) -> str:
        return str(search.snippet(article, self.context.get("search", "")))


_VISIBILITY = Article.Visibility.choices
_STATUS = Article.Status.choices


class ArticleCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    category = serializers.IntegerField(required=False, allow_null=True, default=None)
    slug = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    visibility = serializers.ChoiceField(choices=_VISIBILITY, default=Article.Visibility.PUBLIC)
    status = serializers.ChoiceField(choices=_STATUS, default=Article.Status.DRAFT)
    product_area = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )


class ArticleUpdateInput(serializers.Serializer):
    """Every field optional (PATCH); ``status`` publishes or unpublishes."""

    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    category = serializers.IntegerField(required=False, allow_null=True)
    slug = serializers.CharField(max_length=200, required=False)
    visibility = serializers.ChoiceField(choices=_VISIBILITY, required=False)
    status = serializers.ChoiceField(choices=_STATUS, required=False)
    product_area = serializers.CharField(max_length=64, required=False, allow_blank=True)


class RevisionOutput(serializers.ModelSerializer):
    body = serializers.CharField(source="body_markdown", read_only=True)
    author = serializers.SerializerMethodField()

    class Meta:
        model = ArticleRevision
        fields = ["id", "number", "title", "body", "author", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_author(self, revision: ArticleRevision) -> str | None:
        return revision.author.email if revision.author is not None else None


class FeedbackInput(serializers.Serializer):
    helpful = serializers.BooleanField(help_text="Did this article answer your question?")
    query = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="What the reader had searched for, if anything.",
    )  # fmt: skip


class FeedbackOutput(serializers.Serializer):
    id = serializers.IntegerField()
    helpful = serializers.BooleanField()
    query = serializers.CharField()
    created_at = serializers.DateTimeField()


class FeedbackCounts(serializers.Serializer):
    helpful = serializers.IntegerField(help_text="Readers who said it answered their question.")
    not_helpful = serializers.IntegerField(help_text="Readers who said it did not.")
