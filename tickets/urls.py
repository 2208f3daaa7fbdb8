"""The customer portal (``/tickets/…``) and the agent workspace (``/agent/…``)."""

from __future__ import annotations

from django.urls import path, register_converter

from .views import agent_queue, agent_ticket, attachments, portal


class ReferenceConverter:
    """A ticket reference: PREFIX-NUMBER (``OR-1042``); the view checks the prefix."""

    regex = r"[A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,18}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")

urlpatterns = [
    # The customer portal.
    path("tickets/", portal.ticket_list, name="portal-tickets"),
    path("tickets/new/", portal.ticket_new, name="portal-new"),
    path("tickets/emergency/", portal.ticket_emergency, name="portal-emergency"),
    path("tickets/<ref:reference>/", portal.ticket_detail, name="portal-ticket"),
    path("tickets/<ref:reference>/sla/", portal.ticket_sla, name="portal-ticket-sla"),
    path("tickets/<ref:reference>/reply/", portal.ticket_reply, name="portal-ticket-reply"),
    path(
        "tickets/<ref:reference>/attachments/<int:attachment_id>/",
        attachments.ticket_attachment,
        name="portal-ticket-attachment",
    ),
    path(
        "tickets/<ref:reference>/escalate/", portal.ticket_escalate, name="portal-ticket-escalate"
    ),
    # The agent workspace.
    path("agent/queue/", agent_queue.queue, name="agent-queue"),
    path("agent/queue/bulk/", agent_queue.queue_bulk, name="agent-queue-bulk"),
    path("agent/tickets/<ref:reference>/", agent_ticket.ticket_page, name="agent-ticket"),
    path("agent/tickets/<ref:reference>/sla/", agent_ticket.ticket_sla, name="agent-ticket-sla"),
    path(
        "agent/tickets/<ref:reference>/kb/", agent_ticket.ticket_kb_search, name="agent-ticket-kb"
    ),
    path(
        "agent/tickets/<ref:reference>/message/",
        agent_ticket.ticket_message,
        name="agent-ticket-message",
    ),
    path(
        "agent/tickets/<ref:reference>/assign/",
        agent_ticket.ticket_assign_view,
        name="agent-ticket-assign",
    ),
    path(
        "agent/tickets/<ref:reference>/reclassify/",
        agent_ticket.ticket_reclassify_view,
        name="agent-ticket-reclassify",
    ),
    path(
        "agent/tickets/<ref:reference>/status/",
        agent_ticket.ticket_status_view,
        name="agent-ticket-status",
    ),
    path(
        "agent/tickets/<ref:reference>/merge/",
        agent_ticket.ticket_merge_view,
        name="agent-ticket-merge",
    ),
    path("agent/tickets/<ref:reference>/cc/", agent_ticket.ticket_cc_view, name="agent-ticket-cc"),
    path(
        "agent/tickets/<ref:reference>/presence/",
        agent_ticket.ticket_presence,
        name="agent-ticket-presence",
    ),
]
