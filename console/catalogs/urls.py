"""Console pages of the catalogs area (included from console.urls under /manage/): the catalogs,
canned responses and branding, and the public route of the uploaded logo."""

from django.urls import URLPattern, path

from . import branding, canned, views
from .kinds import KINDS

urlpatterns: list[URLPattern] = [
    path("catalogs/", views.index, name="console-catalogs"),
    path(
        "catalogs/priority-matrix/",
        views.priority_matrix,
        name="console-catalog-priority-matrix",
    ),
    path(
        "catalogs/ticket-settings/",
        views.ticket_settings,
        name="console-catalog-ticket-settings",
    ),
]
for kind in KINDS:
    urlpatterns += [
        path(
            f"catalogs/{kind.slug}/",
            views.list_view(kind),
            name=f"console-catalog-{kind.slug}",
        ),
        path(
            f"catalogs/{kind.slug}/<int:pk>/",
            views.edit_view(kind),
            name=f"console-catalog-{kind.singular}-edit",
        ),
        path(
            f"catalogs/{kind.slug}/<int:pk>/delete/",
            views.delete_view(kind),
            name=f"console-catalog-{kind.singular}-delete",
        ),
    ]
urlpatterns += [
    path("canned-responses/", canned.canned_responses, name="console-canned-responses"),
    path(
        "canned-responses/<int:pk>/",
        canned.canned_response_edit,
        name="console-canned-response-edit",
    ),
    path(
        "canned-responses/<int:pk>/delete/",
        canned.canned_response_remove,
        name="console-canned-response-delete",
    ),
    path("branding/", branding.branding, name="console-branding"),
    # Public (no admin check): customers see the logo on the portal.
    path("branding/logo/<str:logo_name>/", branding.brand_logo, name="console-brand-logo"),
]
