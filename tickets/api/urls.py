"""Ticket routes of /api/v1/ (included by helpdesk.api.urls)."""

from django.urls import path

from . import catalog, conversation, teams, tickets

urlpatterns = [
    path("tickets/", tickets.TicketListView.as_view(), name="api-tickets"),
    path("tickets/<int:pk>/", tickets.TicketDetailView.as_view(), name="api-ticket"),
    path(
        "tickets/<int:ticket_pk>/transitions/",
        tickets.TicketTransitionView.as_view(),
        name="api-ticket-transitions",
    ),
    path(
        "tickets/<int:ticket_pk>/merge/",
        tickets.TicketMergeView.as_view(),
        name="api-ticket-merge",
    ),
    path(
        "tickets/<int:ticket_pk>/similar/",
        tickets.TicketSimilarView.as_view(),
        name="api-ticket-similar",
    ),
    path(
        "tickets/<int:ticket_pk>/messages/",
        conversation.MessageListView.as_view(),
        name="api-ticket-messages",
    ),
    path(
        "tickets/<int:ticket_pk>/attachments/",
        conversation.AttachmentListView.as_view(),
        name="api-ticket-attachments",
    ),
    path(
        "tickets/<int:ticket_pk>/attachments/<int:attachment_id>/",
        conversation.AttachmentDownloadView.as_view(),
        name="api-ticket-attachment",
    ),
    path(
        "tickets/<int:ticket_pk>/events/",
        conversation.EventListView.as_view(),
        name="api-ticket-events",
    ),
    path("priorities/", catalog.PriorityListView.as_view(), name="api-priorities"),
    path("priorities/<int:pk>/", catalog.PriorityDetailView.as_view(), name="api-priority"),
    path("ticket-types/", catalog.TicketTypeListView.as_view(), name="api-ticket-types"),
    path("ticket-types/<int:pk>/", catalog.TicketTypeDetailView.as_view(), name="api-ticket-type"),
    path(
        "business-impacts/",
        catalog.BusinessImpactListView.as_view(),
        name="api-business-impacts",
    ),
    path(
        "business-impacts/<int:pk>/",
        catalog.BusinessImpactDetailView.as_view(),
        name="api-business-impact",
    ),
    path("product-areas/", catalog.ProductAreaListView.as_view(), name="api-product-areas"),
    path(
        "product-areas/<int:pk>/",
        catalog.ProductAreaDetailView.as_view(),
        name="api-product-area",
    ),
    path("custom-fields/", catalog.CustomFieldListView.as_view(), name="api-custom-fields"),
    path(
        "custom-fields/<int:pk>/",
        catalog.CustomFieldDetailView.as_view(),
        name="api-custom-field",
    ),
    path("teams/", teams.TeamListView.as_view(), name="api-teams"),
    path("teams/<int:pk>/", teams.TeamDetailView.as_view(), name="api-team"),
    path("agents/", teams.AgentListView.as_view(), name="api-agents"),
    path("agents/<int:pk>/", teams.AgentDetailView.as_view(), name="api-agent"),
]
