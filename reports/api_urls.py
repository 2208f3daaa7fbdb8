"""/api/v1/reports/ — included by helpdesk.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("sla/", api.SLAReportView.as_view(), name="api-reports-sla"),
]
