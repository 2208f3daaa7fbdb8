"""``/manage/kb/``: the knowledge-base editor (included from console.urls)."""

from django.urls import URLPattern, path

from . import categories, views

urlpatterns: list[URLPattern] = [
    path("kb/", views.article_list, name="console-kb"),
    path("kb/new/", views.article_new, name="console-kb-article-new"),
    path("kb/articles/<int:pk>/", views.article_edit, name="console-kb-article-edit"),
    path("kb/articles/<int:pk>/delete/", views.article_delete, name="console-kb-article-delete"),
    path(
        "kb/articles/<int:pk>/revisions/",
        views.article_revisions,
        name="console-kb-article-revisions",
    ),
    path(
        "kb/articles/<int:pk>/revisions/<int:revision_number>/",
        views.article_revision,
        name="console-kb-article-revision",
    ),
    path("kb/categories/", categories.category_list, name="console-kb-categories"),
    path("kb/categories/<int:pk>/", categories.category_edit, name="console-kb-category-edit"),
    path(
        "kb/categories/<int:pk>/delete/",
        categories.category_delete,
        name="console-kb-category-delete",
    ),
]
