"""Creating tickets: the reference number, the catalogs, routing, the SLA clocks, the event."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from helpdesk.markup import render_markdown
from helpdesk.models import Membership, Organization, Tenant, User
from sla.clocks import sla_clocks_plan, sla_clocks_start, sla_ticket_opened
from sla.models import BusinessCalendar, Severity, SLAClock

from .. import outbox
from ..models import (
    BusinessImpact,
    Priority,
    ProductArea,
    Team,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketType,
)
from ..routing import routing_pick_assignee, routing_team_for
from .catalog import check_tenant, custom_fields_clean, priority_default
from .cc import cc_clean
from .events import event_new, event_record, events_record

logger = logging.getLogger(__name__)

_NUMBER_NEXT = (
    "INSERT INTO tickets_ticketcounter (tenant_id, last_number) VALUES (%s, %s) "
    "ON CONFLICT (tenant_id) DO UPDATE SET last_number = tickets_ticketcounter.last_number + 1 "
    "RETURNING last_number"
)


def ticket_number_next(*, tenant: Tenant) -> int:
    """The next reference number: the increment holds the counter row's lock until commit, so
    concurrent creations never share a number and numbers increase in commit order. Must run
    inside a transaction.

    One statement (the tenant's first ticket inserts the counter, later ones increment it, and
    the number comes back with it): the lock serialises every creation of the tenant from here
    to commit, so ``ticket_create`` takes it as late as it can."""
    first = TicketCounter._meta.get_field("last_number").get_default() + 1
    with connection.cursor() as cursor:
        cursor.execute(_NUMBER_NEXT, [tenant.pk, first])
        return int(cursor.fetchone()[0])


def _check_impact_text(impact: BusinessImpact | None, text: str) -> str:
    text = (text or "").strip()
    if impact is not None and impact.requires_text and not text:
        raise ValidationError({"business_impact_text": f"Describe the impact ({impact.name})."})
    return text if impact is not None else ""


def _has_active_contract(organization: Organization | None, on: dt.datetime) -> bool:
    from sla.selectors import contract_active_for  # a read of the SLA engine

    if organization is None:
        return False
    return contract_active_for(organization=organization, on=on.date()) is not None


def _out_of_hours(ticket: Ticket, at: dt.datetime) -> bool:
    """Outside the handling team's calendar (or, lacking one, the tenant's first calendar)."""
    from sla import businesstime as bt
    from sla.selectors import calendar_evaluate

    calendar = None
    if ticket.team is not None and ticket.team.calendar_id is not None:
        calendar = BusinessCalendar.objects.filter(pk=ticket.team.calendar_id).first()
    if calendar is None:
        calendar = BusinessCalendar.objects.for_tenant(ticket.tenant_id).order_by("id").first()
    if calendar is None:
        return False
    return not calendar_evaluate(calendar, lambda cal: bt.is_open(cal, at), start=at)


@transaction.atomic
def ticket_create(
    *,
    tenant: Tenant,
    subject: str,
    requester_email: str,
    description: str = "",
    organization: Organization | None = None,
    requester: User | None = None,
    channel: str = Ticket.Channel.WEB,
    opened_at: dt.datetime | None = None,
    severity: Severity | None = None,
    cc: Sequence[str] | None = None,
    sla_exempt: bool = False,
    ticket_type: TicketType | None = None,
    business_impact: BusinessImpact | None = None,
    business_impact_text: str = "",
    product_area: ProductArea | None = None,
    custom_fields: Mapping[str, Any] | None = None,
    priority: Priority | None = None,
    requested_due_date: dt.date | None = None,
    billable: bool | None = None,
    team: Team | None = None,
    assignee: Membership | None = None,
    by: Membership | User | None = None,
    route: bool = True,
    requester_membership: Membership | None = None,
    started_clocks: list[SLAClock] | None = None,
) -> Ticket:
    """Create a ticket, route it, start its SLA clocks and log the event.

    * The requester is explicit (``requester_email``, and ``requester`` when a user is known):
      never the caller by accident.
    * Catalog rows must be the tenant's; custom fields are checked against the catalog for the
      type; a business impact that asks for text needs ``business_impact_text``.
    * Priority: ``priority`` given means an agent chose it (``priority_overridden``), else the
      tenant's matrix gives it from severity x impact.
    * Routing (``route``): unless ``team`` is given, routing rules then the product area choose
      the team; unless ``assignee`` is given, the team's strategy picks an available agent.
    * SLA (``sla.clocks.sla_ticket_opened``): clocks from ``opened_at``, which an import may
      set in the past; no severity means no clock, and the ticket says why. A requester who is a
      pending contact gets a held ticket (seed 003): kept, out of the queue until verified.
    * Seed 002: an emergency from an organization without a contract is billable.

    ``requester_membership``: the requester's membership in ``tenant`` when the caller has
    already read it (not read again). ``started_clocks``, when given, receives the SLA clocks
    started (the API answers with them instead of reading them back).
    """
    if not subject.strip():
        raise ValidationError({"subject": "A subject is required."})
    check_tenant(
        tenant,
        severity=severity,
        organization=organization,
        type=ticket_type,
        business_impact=business_impact,
        product_area=product_area,
        priority=priority,
        team=team,
        assignee=assignee,
    )
    if assignee is not None and not (assignee.is_staff_member and assignee.is_active):
        raise ValidationError({"assignee": "Assign to an active agent or admin."})
    impact_text = _check_impact_text(business_impact, business_impact_text)
    fields = custom_fields_clean(tenant=tenant, ticket_type=ticket_type, values=custom_fields)
    requester_email = requester_email.strip().lower()
    cc_list = cc_clean(cc or [], requester_email=requester_email)

    contact = None
    if requester is not None:
        contact = requester_membership
        if contact is None or contact.tenant_id != tenant.pk or contact.user_id != requester.pk:
            contact = Membership.objects.for_tenant(tenant).filter(user=requester).first()
    if organization is None and contact is not None:
        organization = contact.organization
    held = contact is not None and contact.contact_role == Membership.ContactRole.PENDING
    now = timezone.now()
    if opened_at is not None and opened_at > now:
        opened_at = now  # a sender's clock running ahead (a mail Date header) is not a plan
    if billable is None:
        billable = bool(
            ticket_type is not None
            and ticket_type.is_emergency
            and not _has_active_contract(organization, opened_at or now)
        )
    overridden = priority is not None
    if priority is None:
        priority = priority_default(
            tenant=tenant, severity=severity, business_impact=business_impact
        )
    ticket = Ticket(
        tenant=tenant,
        subject=subject.strip(),
        description=description,
        description_html=render_markdown(description),
        organization=organization,
        requester=requester,
        requester_email=requester_email,
        channel=channel,
        held_for_verification=held,
        opened_at=opened_at or now,
        severity=severity,
        cc=cc_list,
        sla_exempt=sla_exempt,
        type=ticket_type,
        priority=priority,
        priority_overridden=overridden,
        business_impact=business_impact,
        business_impact_text=impact_text,
        product_area=product_area,
        custom_fields=fields,
        requested_due_date=requested_due_date,
        billable=billable,
        team=team,
        assignee=assignee,
        created_at=now,
        updated_at=now,
    )
    ticket.tenant = tenant
    # Everything that only reads (routing rules, SLA coverage, the clocks' due times) is worked
    # out on the unsaved ticket before the number is taken: from the counter's lock to commit,
    # every other creation of the tenant waits, so only the writes run under it. The rows then
    # go in with their final values, each in one INSERT (no insert-then-update).
    routed = route and not held  # a held ticket is routed when it is released
    team_at = None
    if routed and team is None:
        ticket.team = routing_team_for(ticket=ticket)
        team_at = timezone.now() if ticket.team is not None else None
    clocks_now = timezone.now().replace(microsecond=0)  # the SLA engine's whole seconds
    coverage, clocks = sla_clocks_plan(ticket=ticket, now=clocks_now)
    ticket.sla_note = coverage.note
    ticket.number = ticket_number_next(tenant=tenant)
    picked, picked_at = None, now
    if routed and assignee is None and ticket.team is not None:
        # After the counter, as before: the counter's lock is always taken before a team's.
        picked = routing_pick_assignee(team=ticket.team)
        ticket.assignee = picked
        picked_at = timezone.now()
    ticket.save()
    events = [
        event_new(
            ticket=ticket,
            kind=TicketEvent.Kind.CREATED,
            by=by,
            after={
                "reference": ticket.reference,
                "subject": ticket.subject,
                "status": ticket.status,
                "channel": channel,
                "requester_email": requester_email,
                "severity": severity,
                "priority": priority,
                "type": ticket_type,
                "business_impact": business_impact,
                "product_area": product_area,
                "organization": organization,
                "cc": cc_list,
                "custom_fields": fields,
            },
            at=now,
        )
    ]
    if team_at is not None:
        events.append(
            event_new(
                ticket=ticket,
                kind=TicketEvent.Kind.TEAM,
                by=None,
                field="team",
                after=ticket.team,
                at=team_at,
            )
        )
    if picked is not None:
        events.append(
            event_new(
                ticket=ticket,
                kind=TicketEvent.Kind.ASSIGNEE,
                by=None,
                field="assignee",
                after=picked,
                at=picked_at,
            )
        )
    events_record(events)
    if picked is not None:
        outbox.publish(
            "ticket.assigned", tenant_id=tenant.pk, ticket_id=ticket.pk, assignee_id=picked.pk
        )
    sla_clocks_start(ticket=ticket, clocks=clocks, now=clocks_now)
    outbox.publish(
        "ticket.created",
        tenant_id=tenant.pk,
        ticket_id=ticket.pk,
        page_on_call=_pages_on_call(ticket, now),
        channel=channel,
        held=held,
    )
    if started_clocks is not None:
        started_clocks.extend(clocks)
    return ticket


def _route(
    ticket: Ticket, *, by: Membership | User | None, team_given: bool, assignee_given: bool
) -> None:
    changed = []
    if not team_given:
        team = routing_team_for(ticket=ticket)
        if team is not None:
            ticket.team = team
            changed.append("team")
            event_record(
                ticket=ticket, kind=TicketEvent.Kind.TEAM, by=None, field="team", after=team
            )
    if not assignee_given and ticket.team is not None:
        assignee = routing_pick_assignee(team=ticket.team)
        if assignee is not None:
            ticket.assignee = assignee
            changed.append("assignee")
            event_record(
                ticket=ticket,
                kind=TicketEvent.Kind.ASSIGNEE,
                by=None,
                field="assignee",
                after=assignee,
            )
            outbox.publish(
                "ticket.assigned",
                tenant_id=ticket.tenant_id,
                ticket_id=ticket.pk,
                assignee_id=assignee.pk,
            )
    if changed:
        ticket.save(update_fields=changed)


def _pages_on_call(ticket: Ticket, at: dt.datetime) -> bool:
    """Emergencies page every on-call agent at once (seed 002); an incident out of hours does
    too (seed 004)."""
    ticket_type = ticket.type
    if ticket_type is None:
        return False
    if ticket_type.is_emergency:
        return True
    return ticket_type.pages_on_call_out_of_hours and _out_of_hours(ticket, at)


@transaction.atomic
def tickets_release_held(*, tenant: Tenant, contact: Membership) -> int:
    """Release a newly verified contact's held tickets into the queue and start their SLA
    clocks now (the wait for verification is not the provider's); returns how many."""
    held = Ticket.objects.for_tenant(tenant).filter(
        requester_id=contact.user_id, held_for_verification=True
    )
    ids = list(held.values_list("id", flat=True))
    now = timezone.now()
    released = held.update(
        held_for_verification=False,
        organization_id=contact.organization_id,
        updated_at=now,
    )
    tickets = Ticket.objects.for_tenant(tenant).select_related("tenant", "team", "product_area")
    for ticket in tickets.filter(pk__in=ids):
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.RELEASED,
            by=None,
            field="held_for_verification",
            before=True,
            after=False,
            at=now,
        )
        _route(
            ticket,
            by=None,
            team_given=ticket.team_id is not None,
            assignee_given=ticket.assignee_id is not None,
        )
        sla_ticket_opened(ticket=ticket, at=now)
    return released
