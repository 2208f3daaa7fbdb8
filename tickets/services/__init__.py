"""Ticket writes. Portal, API and every channel call these and nothing else.

Every service validates, saves with ``update_fields``, appends to the ticket's event log, calls
the SLA engine's event functions (:mod:`sla.clocks`) and publishes side effects after commit
(:mod:`tickets.outbox`)."""

from .attachments import attachment_add, filename_clean
from .catalog import (
    business_impact_create,
    business_impact_update,
    catalog_delete,
    custom_field_create,
    custom_field_update,
    custom_fields_clean,
    custom_fields_for,
    priority_create,
    priority_default,
    priority_matrix_set,
    priority_update,
    product_area_create,
    product_area_update,
    ticket_settings_for,
    ticket_settings_update,
    ticket_type_create,
    ticket_type_update,
)
from .cc import ticket_add_cc, ticket_remove_cc
from .conversation import ticket_note, ticket_reply
from .create import ticket_create, ticket_number_next, tickets_release_held
from .events import event_record
from .macros import canned_response_create, canned_response_delete, canned_response_update
from .merge import ticket_merge
from .teams import (
    agent_update,
    routing_rule_create,
    team_create,
    team_delete,
    team_members_set,
    team_update,
)
from .workflow import (
    ALLOWED_TRANSITIONS,
    UNSET,
    ticket_assign,
    ticket_reclassify,
    ticket_set_sla_exempt,
    ticket_transition,
    ticket_update,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "UNSET",
    "agent_update",
    "attachment_add",
    "business_impact_create",
    "business_impact_update",
    "canned_response_create",
    "canned_response_delete",
    "canned_response_update",
    "catalog_delete",
    "custom_field_create",
    "custom_field_update",
    "custom_fields_clean",
    "custom_fields_for",
    "event_record",
    "filename_clean",
    "priority_create",
    "priority_default",
    "priority_matrix_set",
    "priority_update",
    "product_area_create",
    "product_area_update",
    "routing_rule_create",
    "team_create",
    "team_delete",
    "team_members_set",
    "team_update",
    "ticket_add_cc",
    "ticket_assign",
    "ticket_create",
    "ticket_merge",
    "ticket_note",
    "ticket_number_next",
    "ticket_reclassify",
    "ticket_remove_cc",
    "ticket_reply",
    "ticket_set_sla_exempt",
    "ticket_settings_for",
    "ticket_settings_update",
    "ticket_transition",
    "ticket_type_create",
    "ticket_type_update",
    "ticket_update",
    "tickets_release_held",
]
