"""``/manage/``: the console's front page and one include per area."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.index, name="console-index"),
    path("", include("console.catalogs.urls")),
    path("", include("console.service.urls")),
    path("", include("console.people.urls")),
    path("", include("channels.email.console_urls")),
    path("", include("console.kb.urls")),
]
