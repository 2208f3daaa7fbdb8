"""Emergency paging (seeds 002 and 004): an emergency pages every on-call agent at once, at any
hour, by pager/SMS, email and in-app; it pages again every ``repage_minutes`` until someone
acknowledges (up to ``max_pages`` rounds); an agent may downgrade a false emergency, which makes
the ticket billable for a client without a contract (seed 002).

Who is on call: the tenant's active :class:`~sla.models.OnCallEntry` rows that cover the instant
(tenant local time, weekday and minutes; an entry may wrap midnight). A tenant with no roster,
or a roster with a gap at that instant, pages every active agent ("the whole team at once",
seed 002): an emergency never pages nobody.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from channels.notifications.emails import render_email, tenant_base_url
from channels.notifications.models import Notification
from channels.notifications.services import (
    Notice,
    Recipient,
    deliveries_cancel,
    notice_send,
)
from helpdesk.models import Membership, Tenant
from tickets.models import Ticket

from .. import businesstime as bt
from ..models import BusinessCalendar, EmergencyPage, OnCallEntry
from ..selectors import calendar_evaluate, contract_active_for
from .rules import policy_for


def needs_emergency_page(
    *,
    is_emergency: bool,
    pages_out_of_hours: bool,
    calendar: BusinessCalendar | None,
    at: dt.datetime,
) -> bool:
    """Should a new ticket page the on-call agents? An emergency (the emergency form, an
    emergency type) always does; a type that pages out of hours (spaceOS' incident) does when
    ``at`` is outside ``calendar``'s business hours, holidays included. Without a calendar
    there are no business hours, so such a ticket pages."""
    if is_emergency:
        return True
    if not pages_out_of_hours:
        return False
    if calendar is None:
        return True
    return not calendar_evaluate(calendar, lambda cal: bt.is_open(cal, at), start=at)


def _covers(entry: OnCallEntry, local: dt.datetime) -> bool:
    minute = local.hour * 60 + local.minute
    start, end = entry.start_minute, entry.end_minute
    if start < end:
        day, inside = local.weekday(), start <= minute < end
    else:  # wraps midnight: the evening belongs to its own weekday, the small hours to the eve
        inside = minute >= start or minute < end
        day = local.weekday() if minute >= start else (local.weekday() - 1) % 7
    return inside and (not entry.weekdays or day in entry.weekdays)


def on_call_now(*, tenant: Tenant, at: dt.datetime) -> list[Recipient]:
    """The members to page at ``at`` (module doc), one per address."""
    try:
        zone = ZoneInfo(tenant.time_zone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    entries = list(
        OnCallEntry.objects.for_tenant(tenant)
        .filter(active=True, membership__is_active=True)
        .select_related("membership__user")
    )
    chosen = [e for e in entries if _covers(e, local)]
    if chosen:
        found = [
            Recipient(
                email=e.membership.user.email.lower(),
                membership_id=e.membership_id,
                time_zone=e.membership.user.time_zone or tenant.time_zone,
                pager_address=e.pager_address,
            )
            for e in chosen
        ]
    else:
        agents = (
            Membership.objects.for_tenant(tenant)
            .filter(role=Membership.Role.AGENT, is_active=True)
            .select_related("user")
            .order_by("id")
        )
        found = [
            Recipient(
                email=m.user.email.lower(),
                membership_id=m.pk,
                time_zone=m.user.time_zone or tenant.time_zone,
            )
            for m in agents
        ]
    seen: set[str] = set()
    return [r for r in found if not (r.email in seen or seen.add(r.email))]  # type: ignore[func-returns-value]


def page_ack_url(page: EmergencyPage) -> str:
    return f"{tenant_base_url(page.ticket.tenant)}/agent/pages/{page.pk}/ack/"


def _page_round(page: EmergencyPage, now: dt.datetime) -> None:
    """Page everyone on call now (round n), and plan round n + 1. Precondition: ``page`` is
    locked (or just created) in the caller's transaction and still open."""
    ticket = page.ticket
    tenant = ticket.tenant
    policy = policy_for(tenant.pk)
    recipients = on_call_now(tenant=tenant, at=now)
    page.rounds += 1
    url = page_ack_url(page)
    context = {
        "tenant": tenant,
        "ticket": ticket,
        "reference": ticket.reference,
        "reason": page.reason,
        "round": page.rounds,
        "ack_url": url,
    }
    notice_send(
        notice=Notice(
            tenant_id=tenant.pk,
            tenant_slug=tenant.slug,
            source_key=f"page:{page.pk}:{page.rounds}",
            kind=Notification.Kind.EMERGENCY_PAGE,
            text=f"EMERGENCY {ticket.reference}: {ticket.subject[:120]} — acknowledge: {url}",
            email=render_email("emergency_page", context),
            ticket_id=ticket.pk,
            url=url,
            reference=ticket.reference,
        ),
        recipients=recipients,
        channels=["pager", "email", "inapp"],
        now=now,
    )  # any hour: pages never wait for quiet hours
    page.last_paged_at = now
    page.paged = sorted({*page.paged, *(r.email for r in recipients)})
    more = page.rounds < policy.max_pages
    page.next_page_at = now + dt.timedelta(minutes=policy.repage_minutes) if more else None
    page.save(update_fields=["rounds", "last_paged_at", "paged", "next_page_at"])


@transaction.atomic
def emergency_page(
    *, ticket: Ticket, reason: str = "", now: dt.datetime | None = None
) -> EmergencyPage:
    """Page every on-call agent about ``ticket`` now. Once per ticket: calling again returns
    the existing page (a retried request or a duplicated email pages nobody twice).

    Precondition: ``ticket`` is saved; call it in the transaction that created it (the pages
    leave after commit)."""
    now = now or timezone.now()
    existing = EmergencyPage.objects.for_tenant(ticket.tenant_id).filter(ticket=ticket).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            page = EmergencyPage.objects.create(
                tenant_id=ticket.tenant_id, ticket=ticket, reason=reason[:200], opened_at=now
            )
    except IntegrityError:  # a concurrent call made it
        return EmergencyPage.objects.for_tenant(ticket.tenant_id).get(ticket=ticket)
    page.ticket = ticket
    _page_round(page, now)
    return page


def emergency_ticket_opened(*, ticket: Ticket, reason: str = "") -> EmergencyPage:
    """For the ticket services: a ticket that :func:`needs_emergency_page` was just created."""
    return emergency_page(ticket=ticket, reason=reason or "Emergency ticket opened")


def pages_repage_due(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Page again every open page whose re-page time has come (beat, ``sla.repage``). Each page
    is locked with SKIP LOCKED, so concurrent runs never page the same round twice (and the
    round's source key would refuse it anyway). Returns how many pages went out."""
    now = now or timezone.now()
    ids = list(
        EmergencyPage.objects.filter(next_page_at__lte=now)
        .order_by("next_page_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            page = (
                EmergencyPage.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("ticket__tenant")
                .filter(pk=pk, next_page_at__lte=now)
                .first()
            )
            if page is None:
                continue
            if not page.is_open:
                EmergencyPage.objects.filter(pk=pk).update(next_page_at=None)
                continue
            _page_round(page, now)
            done += 1
    return done


def page_get(*, tenant: Tenant, membership: Membership, page_id: int) -> EmergencyPage:
    """A page of the tenant for its staff; 404 for a missing id, another tenant's page and a
    customer alike."""
    if not membership.is_staff_member or membership.tenant_id != tenant.pk:
        raise Http404("No such page")
    page = (
        EmergencyPage.objects.for_tenant(tenant)
        .select_related("ticket__tenant", "acknowledged_by__user", "downgraded_by__user")
        .filter(pk=page_id)
        .first()
    )
    if page is None:
        raise Http404("No such page")
    return page


@transaction.atomic
def page_acknowledge(
    *, page: EmergencyPage, by: Membership, now: dt.datetime | None = None
) -> EmergencyPage:
    """``by`` has it: stop re-paging and cancel pages still queued. The first acknowledgement
    counts; later ones change nothing. Precondition: ``by`` is staff of the page's tenant."""
    if by.tenant_id != page.tenant_id or not by.is_staff_member:
        raise PermissionDenied("Only the tenant's agents acknowledge pages.")
    now = now or timezone.now()
    claimed = EmergencyPage.objects.filter(pk=page.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=by, next_page_at=None
    )
    if claimed:
        deliveries_cancel(
            tenant_id=page.tenant_id,
            source_keys=[f"page:{page.pk}:{n}" for n in range(1, page.rounds + 1)],
            reason=f"Acknowledged by {by.user.email}.",
        )
    page.refresh_from_db()
    return page


@transaction.atomic
def emergency_downgrade(
    *, ticket: Ticket, by: Membership, now: dt.datetime | None = None
) -> EmergencyPage | None:
    """A false emergency: stop paging, and mark the ticket billable when its organization has
    no active contract today (seed 002). Changing the ticket's type back to a normal request
    is the ticket services' (``ticket.billable`` is the only ticket field written here).
    Returns the page, if there was one.

    Precondition: ``by`` is staff of the ticket's tenant."""
    if by.tenant_id != ticket.tenant_id or not by.is_staff_member:
        raise PermissionDenied("Only the tenant's agents downgrade emergencies.")
    now = now or timezone.now()
    page = (
        EmergencyPage.objects.for_tenant(ticket.tenant_id)
        .select_for_update()
        .filter(ticket=ticket)
        .first()
    )
    if page is not None and page.downgraded_at is None:
        page.downgraded_at, page.downgraded_by, page.next_page_at = now, by, None
        page.save(update_fields=["downgraded_at", "downgraded_by", "next_page_at"])
        deliveries_cancel(
            tenant_id=ticket.tenant_id,
            source_keys=[f"page:{page.pk}:{n}" for n in range(1, page.rounds + 1)],
            reason="Downgraded: not an emergency.",
        )
    if not _has_contract(ticket, now) and not ticket.billable:
        ticket.billable = True
        ticket.updated_at = now
        Ticket.objects.filter(pk=ticket.pk).update(billable=True, updated_at=now)
    return page


def _has_contract(ticket: Ticket, now: dt.datetime) -> bool:
    organization = ticket.organization
    if organization is None:
        return False
    try:
        zone = ZoneInfo(ticket.tenant.time_zone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return (
        contract_active_for(organization=organization, on=now.astimezone(zone).date()) is not None
    )


def validate_on_call(*, weekdays: list[int], start_minute: int, end_minute: int) -> None:
    errors = {}
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        errors["weekdays"] = "Weekdays are 0 (Monday) to 6 (Sunday)."
    if not 0 <= start_minute <= 1440 or not 0 <= end_minute <= 1440:
        errors["start_minute"] = "Minutes run from 0 to 1440."
    if errors:
        raise ValidationError(errors)
