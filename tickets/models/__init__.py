"""Tickets and everything that hangs off them (a package: catalogs, teams and routing, the
ticket, its conversation and its event log)."""

from .catalog import (
    DEFAULT_ALLOWED_CONTENT_TYPES,
    BusinessImpact,
    CustomField,
    CustomFieldTicketType,
    Priority,
    PriorityMatrixEntry,
    ProductArea,
    TicketSettings,
    TicketType,
)
from .conversation import AppendOnlyError, Attachment, Message, TicketEvent
from .macros import CannedResponse
from .teams import RoutingRule, Team, TeamMember
from .ticket import Ticket, TicketCounter

__all__ = [
    "DEFAULT_ALLOWED_CONTENT_TYPES",
    "AppendOnlyError",
    "Attachment",
    "BusinessImpact",
    "CannedResponse",
    "CustomField",
    "CustomFieldTicketType",
    "Message",
    "Priority",
    "PriorityMatrixEntry",
    "ProductArea",
    "RoutingRule",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "TicketSettings",
    "TicketType",
]
