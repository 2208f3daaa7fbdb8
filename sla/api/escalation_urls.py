"""/api/v1/ routes of escalation (included from helpdesk.api.urls)."""

from django.urls import path

from . import escalations

urlpatterns = [
    path(
        "tickets/<int:pk>/escalate/",
        escalations.TicketEscalateView.as_view(),
        name="api-ticket-escalate",
    ),
    path("escalations/", escalations.EscalationListView.as_view(), name="api-escalations"),
    path(
        "escalation-policy/",
        escalations.EscalationPolicyView.as_view(),
        name="api-escalation-policy",
    ),
    path("on-call/", escalations.OnCallListView.as_view(), name="api-on-call"),
    path("on-call/<int:pk>/", escalations.OnCallDetailView.as_view(), name="api-on-call-entry"),
    path("pages/", escalations.PageListView.as_view(), name="api-pages"),
    path("pages/<int:pk>/", escalations.PageDetailView.as_view(), name="api-page"),
    path(
        "pages/<int:pk>/acknowledge/",
        escalations.PageAcknowledgeView.as_view(),
        name="api-page-acknowledge",
    ),
    path(
        "pages/<int:pk>/downgrade/",
        escalations.PageDowngradeView.as_view(),
        name="api-page-downgrade",
    ),
]
