"""Forms of the knowledge-base console. They parse what the admin typed; kb.services decides
(slugs, lengths, publishing rules) and its ValidationErrors land back on these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Tenant
from kb.models import Article, Category

ALL = ""
UNCATEGORISED = "none"
# The product-area suggestions' <datalist> id (templates/console/kb/article_form.html).
PRODUCT_AREA_LIST = "kb-product-areas"


def _categories(tenant: Tenant) -> Any:
    return Category.objects.for_tenant(tenant).order_by("position", "name", "id")


class ArticleFilterForm(forms.Form):
    """The list's search box and filters (GET)."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(ALL, _("Any status")), *Article.Status.choices],
    )
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            (ALL, _("Any category")),
            (UNCATEGORISED, _("No category")),
            *((str(c.pk), c.name) for c in _categories(tenant)),
        ]


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    slug = forms.CharField(
        label=_("Slug"),
        max_length=200,
        required=False,
        help_text=_(
            "The last part of the article's address (/kb/<slug>/): lowercase letters, digits, "
            "hyphens. Leave blank to make one from the title."
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("No category"),
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=Article.Visibility.choices,
        initial=Article.Visibility.PUBLIC,
        help_text=_("Internal articles are shown to your agents only, never to customers."),
    )
    product_area = forms.CharField(
        label=_("Product area"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"list": PRODUCT_AREA_LIST, "autocomplete": "off"}),
        help_text=_("The key of a product area of your ticket catalog, e.g. billing."),
    )
    body_markdown = forms.CharField(
        label=_("Body (Markdown)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "kb-body-input"}),
        help_text=_(
            "Markdown: **bold**, _italic_, ## headings, - lists, [links](https://…), tables and "
            "``` code blocks. Scripts, styles and forms are removed. Publishing needs a body."
        ),
    )

    def __init__(self, *args: Any, tenant: Tenant, article: Article | None = None, **kwargs: Any):
        if article is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": article.title,
                "slug": article.slug,
                "category": article.category_id,
                "visibility": article.visibility,
                "product_area": article.product_area,
                "body_markdown": article.body_markdown,
            }
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = _categories(tenant)  # type: ignore[attr-defined]
        if article is not None:
            self.fields["slug"].help_text = _(
                "The last part of the article's address (/kb/<slug>/). Changing it breaks links "
                "to the old address. Leave blank to keep the current one."
            )


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.CharField(
        label=_("Slug"),
        max_length=120,
        required=False,
        help_text=_(
            "Lowercase letters, digits and hyphens. Leave blank to make one from the name."
        ),
    )
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=2_147_483_647,
        initial=0,
        help_text=_("Categories are listed by position, lowest first, then by name."),
    )

    @classmethod
    def initial_for(cls, category: Category) -> dict[str, Any]:
        return {"name": category.name, "slug": category.slug, "position": category.position}
