"""/api/v1/kb/ — included by helpdesk.api.urls."""

from django.urls import path

from . import views

urlpatterns = [
    path("articles/", views.ArticleListView.as_view(), name="api-kb-articles"),
    path("articles/<int:pk>/", views.ArticleDetailView.as_view(), name="api-kb-article"),
    path(
        "articles/<int:article_pk>/revisions/",
        views.ArticleRevisionListView.as_view(),
        name="api-kb-article-revisions",
    ),
    path(
        "articles/<int:article_pk>/feedback/",
        views.ArticleFeedbackView.as_view(),
        name="api-kb-article-feedback",
    ),
    path("categories/", views.CategoryListView.as_view(), name="api-kb-categories"),
]
