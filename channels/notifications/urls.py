"""Agent pages of notices (included from helpdesk.urls)."""

from django.urls import path

from sla.escalation.views import agent_page_ack

from . import views

urlpatterns = [
    path("agent/notifications/", views.agent_notifications, name="agent-notifications"),
    path("agent/pages/<int:page_id>/ack/", agent_page_ack, name="agent-page-ack"),
]
