"""/manage/reports/ — the support manager's SLA report page."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.sla_report_page, name="reports-sla"),
]
