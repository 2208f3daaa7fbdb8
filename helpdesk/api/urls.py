"""/api/v1/ — every app's API routes, plus the OpenAPI schema and its docs page."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tickets import api as tickets_api

from . import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("organizations/", views.OrganizationListView.as_view(), name="api-organizations"),
    path(
        "organizations/<int:pk>/",
        views.OrganizationDetailView.as_view(),
        name="api-organization",
    ),
    path("tickets/", tickets_api.TicketListView.as_view(), name="api-tickets"),
    path("tickets/<int:pk>/", tickets_api.TicketDetailView.as_view(), name="api-ticket"),
]
