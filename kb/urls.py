"""/kb/ — the tenant's public knowledge base pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.kb_index, name="kb-index"),
    # Before the article route: "suggest" is a reserved slug (kb.services.RESERVED_SLUGS).
    path("suggest/", views.kb_suggest, name="kb-suggest"),
    path("<slug:article_slug>/", views.kb_article, name="kb-article"),
]
