"""The agent queue as a query: saved views, filters and the SLA-urgency order.

Order (the definition the tests hold us to): a ticket's *next due* is the earliest ``due_at``
among its SLA clocks that are not stopped (``met_at`` null) and have a due instant (a paused
clock has none). The queue lists

1. the tickets with a next due, by next due ascending — so breached tickets come first (their
   next due is in the past), the longest overdue on top, then the nearest due; ties by ticket id;
2. then the tickets without one (no contract: first come, first served; paused clocks; no
   severity), by ``opened_at``, oldest first, then id.

Held tickets (a pending contact's, waiting for verification) are never in the queue: the
"held" view lists them. Solved and closed tickets are out unless the status filter asks for
them.

How it stays fast at 100k+ tickets: the page is read from the clocks' side. Unstopped clocks
in ``due_at`` order (the clocks' ``due_at`` index), joined to the ticket for the filters, stop as
soon as the page is full: a ticket has at most one clock per metric, so ``3 x (offset + page +
1)`` clock rows always hold enough distinct tickets. Only a page that runs past the last
ticket with a due instant reads the second group (an anti-join, ordered by ``opened_at``). Then
one joined query fetches the page's rows as plain values. Three queries at most, whatever the
page size. (A partial index on unstopped clocks, ``(tenant, due_at) WHERE met_at
IS NULL`` (migration sla 0005), spares the scan the met clocks; see bench/queue_page.py.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Membership, Tenant
from sla.models import Metric, SLAClock
from tickets.models import TeamMember, Ticket

ACTIVE_STATUSES = (
    Ticket.Status.NEW,
    Ticket.Status.OPEN,
    Ticket.Status.PENDING,
    Ticket.Status.ON_HOLD,
)

SAVED_VIEWS: dict[str, Any] = {
    "open": _("All open"),
    "mine": _("Mine"),
    "unassigned": _("Unassigned"),
    "team": _("My teams"),
    "breaching": _("Breaching within 1 h"),
    "pending": _("Pending customer"),
    "held": _("Held for verification"),
}
DEFAULT_VIEW = "open"
BREACHING_WITHIN = dt.timedelta(hours=1)
CLOCKS_PER_TICKET = len(Metric.values)
_REFERENCE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9]{0,9}-)?(\d{1,18})\s*$")


def next_due_subquery(tenant: Tenant) -> Subquery:
    """The earliest due instant among a ticket's unstopped clocks (null: none running). For
    short lists (a customer's page of tickets): it runs once per row shown."""
    return Subquery(
        SLAClock.objects.for_tenant(tenant)
        .filter(ticket_id=OuterRef("pk"), met_at__isnull=True, due_at__isnull=False)
        .order_by("due_at")
        .values("due_at")[:1]
    )


@dataclass(frozen=True)
class QueueFilters:
    view: str = DEFAULT_VIEW
    status: str = ""
    severity_id: int | None = None
    team_id: int | None = None
    assignee: str = ""  # a membership id, "none", or ""
    organization_id: int | None = None
    search: str = ""


@dataclass(frozen=True)
class QueueRow:
    """What a queue row shows: plain values from one joined query (no model instances: a
    page is 50 of them, and building Ticket + 7 related objects per row costs more than the
    query)."""

    pk: int
    reference: str
    subject: str
    status: str
    status_label: str
    severity: str
    priority: str
    type: str
    team: str
    organization: str
    requester_email: str
    assignee: str
    opened_at: dt.datetime
    next_due: dt.datetime | None


ROW_FIELDS = (
    "pk",
    "number",
    "subject",
    "status",
    "severity__name",
    "priority__name",
    "type__name",
    "team__name",
    "organization__name",
    "requester_email",
    "assignee__user__name",
    "assignee__user__email",
    "opened_at",
)
_STATUS_LABELS = dict(Ticket.Status.choices)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    has_next: bool


def _conditions(
    *, tenant: Tenant, membership: Membership, filters: QueueFilters, prefix: str = ""
) -> Q:
    """The view's and the filters' conditions on the ticket (``prefix``: from a related
    model, e.g. ``ticket__`` from a clock)."""

    def q(**lookups: Any) -> Q:
        return Q(**{prefix + k: v for k, v in lookups.items()})

    view = filters.view if filters.view in SAVED_VIEWS else DEFAULT_VIEW
    cond = q(tenant_id=tenant.pk)
    if view == "held":
        cond &= q(held_for_verification=True) & ~q(status=Ticket.Status.CLOSED)
    else:
        cond &= q(held_for_verification=False)
        if filters.status:
            cond &= q(status=filters.status)
        elif view == "pending":
            cond &= q(status=Ticket.Status.PENDING)
        else:
            cond &= q(status__in=ACTIVE_STATUSES)
    if view == "mine":
        cond &= q(assignee_id=membership.pk)
    elif view == "unassigned":
        cond &= q(assignee__isnull=True)
    elif view == "team":
        teams = TeamMember.objects.for_tenant(tenant).filter(membership=membership)
        cond &= q(team_id__in=teams.values("team_id"))
    if filters.severity_id is not None:
        cond &= q(severity_id=filters.severity_id)
    if filters.team_id is not None:
        cond &= q(team_id=filters.team_id)
    if filters.assignee == "none":
        cond &= q(assignee__isnull=True)
    elif filters.assignee.isdigit():
        cond &= q(assignee_id=int(filters.assignee))
    if filters.organization_id is not None:
        cond &= q(organization_id=filters.organization_id)
    if filters.search:
        cond &= _search(filters.search, q, prefix)
    return cond


class _ILike(Func):
    """``column ILIKE pattern``: PostgreSQL's trigram index on the subject serves it (Django's
    ``icontains`` compares ``UPPER(...)``, which that index cannot)."""

    arg_joiner = " ILIKE "
    template = "%(expressions)s"
    output_field = BooleanField()


def _contains(field: str, text: str) -> Q | _ILike:
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__icontains": text})
    pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
    return _ILike(F(field), Value(pattern))


def _search(text: str, q: Callable[..., Q], prefix: str) -> Q:
    """A reference or its number, an email address (the requester's), or words of the
    subject."""
    text = text.strip()[:200]
    match = _REFERENCE.match(text)
    if "@" in text:
        condition = q(requester_email__icontains=text)
    else:
        condition = Q(_contains(prefix + "subject", text))
    if match:
        condition |= q(number=int(match.group(1)))
    return condition


def _unstopped_due(tenant: Tenant) -> QuerySet[SLAClock]:
    return SLAClock.objects.for_tenant(tenant).filter(met_at__isnull=True, due_at__isnull=False)


def queue_page(
    *,
    tenant: Tenant,
    membership: Membership,
    filters: QueueFilters,
    page: int = 1,
    page_size: int = 50,
    now: dt.datetime | None = None,
) -> QueuePage:
    """One page of the tenant's queue for a staff ``membership``, filtered, in SLA-urgency
    order (module doc), as rows of what the page shows (with each ticket's next due).

    Preconditions: ``membership`` is a staff member of ``tenant``; ``page`` >= 1."""
    assert membership.is_staff_member and membership.tenant_id == tenant.pk
    with transaction.atomic():
        _serial_plans()
        return _queue_page(
            tenant=tenant,
            membership=membership,
            filters=filters,
            page=page,
            page_size=page_size,
            now=now,
        )


def _serial_plans() -> None:
    """No parallel workers for the queue's queries (this transaction only): they read a few
    thousand index entries at most and stop at the page's end, and PostgreSQL's parallel
    plan spends more starting its workers (tens of ms on a busy machine, measured with
    bench/queue_page.py) than the whole serial scan takes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def _queue_page(
    *,
    tenant: Tenant,
    membership: Membership,
    filters: QueueFilters,
    page: int,
    page_size: int,
    now: dt.datetime | None,
) -> QueuePage:
    now = now or timezone.now()
    offset = (page - 1) * page_size
    wanted = offset + page_size + 1  # one more: is there a next page?

    # 1. Tickets with a next due, read from the clocks in due order.
    clocks = _unstopped_due(tenant).filter(
        _conditions(tenant=tenant, membership=membership, filters=filters, prefix="ticket__")
    )
    if filters.view == "breaching":
        clocks = clocks.filter(due_at__lte=now + BREACHING_WITHIN)
    limit = CLOCKS_PER_TICKET * wanted
    clock_rows = list(
        clocks.order_by("due_at", "ticket_id").values_list("ticket_id", "due_at")[:limit]
    )
    due: dict[int, dt.datetime | None] = {}
    for ticket_id, due_at in clock_rows:
        due.setdefault(ticket_id, due_at)
    ordered = list(due)
    page_ids = ordered[offset:wanted]

    # 2. Past the last ticket with a due instant: the tickets without one, oldest first.
    exhausted = len(clock_rows) < limit
    if exhausted and len(page_ids) < page_size + 1 and filters.view != "breaching":
        rest = (
            Ticket.objects.filter(
                _conditions(tenant=tenant, membership=membership, filters=filters)
            )
            .filter(~Exists(_unstopped_due(tenant).filter(ticket_id=OuterRef("pk"))))
            .order_by("opened_at", "id")
            .values_list("id", flat=True)
        )
        skip = max(0, offset - len(ordered))
        page_ids += list(rest[skip : skip + page_size + 1 - len(page_ids)])

    # 3. The page's rows, with what a row shows.
    has_next = len(page_ids) > page_size
    page_ids = page_ids[:page_size]
    found = {
        v.pk: v
        for v in Ticket.objects.for_tenant(tenant)
        .filter(pk__in=page_ids)
        .values_list(*ROW_FIELDS, named=True)
    }
    rows = [
        QueueRow(
            pk=v.pk,
            reference=f"{tenant.ticket_prefix}-{v.number}",
            subject=v.subject,
            status=v.status,
            status_label=str(_STATUS_LABELS.get(v.status, v.status)),
            severity=v.severity__name or "",
            priority=v.priority__name or "",
            type=v.type__name or "",
            team=v.team__name or "",
            organization=v.organization__name or "",
            requester_email=v.requester_email,
            assignee=v.assignee__user__name or v.assignee__user__email or "",
            opened_at=v.opened_at,
            next_due=due.get(v.pk),
        )
        for v in (found[pk] for pk in page_ids if pk in found)
    ]
    return QueuePage(rows=rows, has_next=has_next)
