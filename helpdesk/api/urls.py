"""/api/v1/ — every app's API routes, plus the OpenAPI schema and its docs page."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sla.api import calendars as sla_calendars
from sla.api import catalog as sla_catalog

from . import contacts, tokens, views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("organizations/", views.OrganizationListView.as_view(), name="api-organizations"),
    path(
        "organizations/<int:pk>/",
        views.OrganizationDetailView.as_view(),
        name="api-organization",
    ),
    path("contacts/", contacts.ContactListView.as_view(), name="api-contacts"),
    path("contacts/<int:pk>/", contacts.ContactDetailView.as_view(), name="api-contact"),
    path("tokens/", tokens.TokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", tokens.TokenDetailView.as_view(), name="api-token"),
    # Tickets, their conversation and catalogs, teams and agents
    path("", include("tickets.api.urls")),
    # SLA engine
    path("calendars/", sla_calendars.CalendarListView.as_view(), name="api-calendars"),
    path("calendars/<int:pk>/", sla_calendars.CalendarDetailView.as_view(), name="api-calendar"),
    path(
        "calendars/<int:pk>/deadline/",
        sla_calendars.CalendarDeadlineView.as_view(),
        name="api-calendar-deadline",
    ),
    path(
        "calendars/<int:pk>/elapsed/",
        sla_calendars.CalendarElapsedView.as_view(),
        name="api-calendar-elapsed",
    ),
    path(
        "calendars/<int:pk>/holidays/import/",
        sla_calendars.CalendarHolidayImportView.as_view(),
        name="api-calendar-holidays-import",
    ),
    path("severities/", sla_catalog.SeverityListView.as_view(), name="api-severities"),
    path("severities/<int:pk>/", sla_catalog.SeverityDetailView.as_view(), name="api-severity"),
    path("packages/", sla_catalog.PackageListView.as_view(), name="api-packages"),
    path("packages/<int:pk>/", sla_catalog.PackageDetailView.as_view(), name="api-package"),
    path("contracts/", sla_catalog.ContractListView.as_view(), name="api-contracts"),
    path("contracts/<int:pk>/", sla_catalog.ContractDetailView.as_view(), name="api-contract"),
    path("sla-policy/", sla_catalog.SLAPolicyView.as_view(), name="api-sla-policy"),
    path("kb/", include("kb.api.urls")),
    # Escalation (sla.api.escalations), notifications and webhooks (channels).
    path("", include("sla.api.escalation_urls")),
    path("", include("channels.api_urls")),
    path("", include("channels.chat.api_urls")),
    path("", include("channels.phone.api_urls")),
    path("reports/", include("reports.api_urls")),
]
