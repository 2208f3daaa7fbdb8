"""Writes of the phone channel: personal codes, and calls logged as tickets or notes.

Tickets change only through :mod:`tickets.services`; a call becomes ``ticket_create`` with the
channel ``phone`` and the verified caller as requester, so it gets its SLA clocks, routing and
event log like every other arrival.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.models import Membership, User
from sla.models import Severity
from tickets.models import BusinessImpact, Message, ProductArea, Ticket, TicketType
from tickets.services import ticket_create, ticket_note

from .models import CODE_LENGTH, PhoneCode, code_digest
from .selectors import phone_code_of, phone_entitlement_for

_ATTEMPTS = 20


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"


def _require_entitled(membership: Membership) -> None:
    entitlement = phone_entitlement_for(membership=membership)
    if not entitlement.entitled:
        raise ValidationError(str(entitlement.reason))


def _save_with_fresh_code(row: PhoneCode, fields: list[str] | None) -> PhoneCode:
    """Give ``row`` a random code no other contact of the tenant holds and save it. A clash
    (one in tens of millions per contact) is retried inside a savepoint."""
    for _attempt in range(_ATTEMPTS):
        code = _new_code()
        row.code = code
        row.code_digest = code_digest(row.tenant_id, code)
        try:
            with transaction.atomic():
                row.save(update_fields=fields)
        except IntegrityError:
            if fields is None and phone_code_of(membership=row.membership) is not None:
                raise  # a concurrent first view created it: the caller re-reads
            continue
        return row
    raise RuntimeError("could not draw a free phone code")  # pragma: no cover


def phone_code_ensure(*, membership: Membership) -> PhoneCode:
    """The contact's personal code, created on first use (a contact sees it in the portal).

    Preconditions: ``membership`` is entitled to phone support (``phone_entitlement_for``);
    otherwise ValidationError with the reason."""
    existing = phone_code_of(membership=membership)
    if existing is not None:
        return existing
    _require_entitled(membership)
    row = PhoneCode(tenant_id=membership.tenant_id, membership=membership)
    try:
        return _save_with_fresh_code(row, None)
    except IntegrityError:
        # Two first views at once: the other one's row stands.
        existing = phone_code_of(membership=membership)
        assert existing is not None
        return existing


@transaction.atomic
def phone_code_regenerate(*, membership: Membership, by: Membership) -> PhoneCode:
    """Replace the contact's code with a new one (the old one stops verifying at once).

    Preconditions: ``by`` is the contact themself or an admin of the same tenant; the contact
    is entitled to phone support."""
    if by.tenant_id != membership.tenant_id or not (by.pk == membership.pk or by.is_admin):
        raise ValidationError(_("Only the contact or an admin may regenerate a phone code."))
    _require_entitled(membership)
    row = (
        PhoneCode.objects.for_tenant(membership.tenant_id)
        .select_for_update()
        .filter(membership=membership)
        .first()
    )
    if row is None:
        return phone_code_ensure(membership=membership)
    row.regenerated_at = timezone.now()
    row.regenerated_by = by.user
    return _save_with_fresh_code(row, ["code", "code_digest", "regenerated_at", "regenerated_by"])


def _require_agent(agent: Membership, caller: Membership) -> None:
    if agent.tenant_id != caller.tenant_id or not (agent.is_staff_member and agent.is_active):
        raise ValidationError(_("Only the tenant's agents and admins log calls."))


@transaction.atomic
def phone_call_ticket_create(
    *,
    agent: Membership,
    caller: Membership,
    subject: str,
    description: str,
    severity: Severity | None = None,
    ticket_type: TicketType | None = None,
    business_impact: BusinessImpact | None = None,
    product_area: ProductArea | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    assign_to_agent: bool = False,
) -> Ticket:
    """A ticket from a phone call: channel ``phone``, requested by the verified ``caller`` (a
    contact of ``agent``'s tenant entitled to phone support), logged by ``agent``.

    Preconditions: the caller was verified by their personal code (the views and the API do
    that); ``agent`` is an active agent or admin of the same tenant."""
    _require_agent(agent, caller)
    _require_entitled(caller)
    user: User = caller.user
    return ticket_create(
        tenant=caller.tenant,
        subject=subject,
        description=description,
        requester=user,
        requester_email=user.email,
        organization=caller.organization,
        channel=Ticket.Channel.PHONE,
        severity=severity,
        ticket_type=ticket_type,
        business_impact=business_impact,
        product_area=product_area,
        custom_fields=custom_fields,
        assignee=agent if assign_to_agent else None,
        by=agent,
    )


@transaction.atomic
def phone_call_note(
    *, agent: Membership, caller: Membership, ticket: Ticket, notes: str
) -> Message:
    """An internal note on ``ticket`` recording a call with the verified ``caller``.

    Preconditions: ``ticket`` is one of the caller's organization's tickets (the views choose
    it with ``caller_ticket_get``); ``agent`` is an active agent or admin of the tenant."""
    _require_agent(agent, caller)
    _require_entitled(caller)
    if ticket.tenant_id != caller.tenant_id:
        raise ValidationError(_("Unknown ticket."))
    if not notes.strip():
        raise ValidationError({"notes": _("Write what the call was about.")})
    user = caller.user
    who = f"{user.name} <{user.email}>" if user.name else user.email
    header = _("Phone call with %(who)s (verified by personal code).") % {"who": who}
    return ticket_note(ticket=ticket, body=f"{header}\n\n{notes.strip()}", by=agent)
