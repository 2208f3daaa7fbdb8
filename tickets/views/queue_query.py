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
them; then the list is theirs by ``opened_at``, oldest first, then id — the second group's
order, with no anti-join: solving or closing a ticket stops every clock
(:data:`sla.clocks.STOPPED_STATUSES`), so the first group would be empty, and proving it
empty means reading every running clock of the tenant (~90 ms at 100k tickets). The
"solved" filter reads the partial index ``ticket_queue_solved`` ``(tenant, opened_at, id)``.

How it stays fast at 100k+ tickets, on every page: keyset ("cursor") pagination. A page
ends with a :class:`QueueCursor` of its last row — ``(due_at, ticket id)`` in the first group,
``(opened_at, id)`` in the second — and the next page reads only what comes after it:

- the first group from the clocks' side: each ticket's *earliest* unstopped clock (``NOT
  EXISTS`` an unstopped clock of the same ticket with a smaller ``(due_at, id)``), joined to
  the ticket for the filters, ``(due_at, ticket_id) > cursor`` in that order, ``LIMIT page + 1``.
  The row comparison is one index condition on the partial index ``sla_clock_unstopped_due``
  ``(tenant, due_at, ticket) WHERE met_at IS NULL AND due_at IS NOT NULL``, so the scan starts
  at the cursor and reads about a page of index entries (plus one clock lookup per row by
  ticket), page 1 or page 2,000 alike (EXPLAIN ANALYZE at 100k tickets: ~60 entries);
- when that runs out (fewer than ``page + 1`` rows), the second group from its start — or
  after the cursor, when the previous page already ended in it: the tickets with no unstopped
  due clock (an anti-join), ``(opened_at, id) > cursor`` on the partial index
  ``ticket_queue_fcfs`` of active, non-held tickets. The "breaching" view has no second group.

"Previous" reads the same way backwards from the page's *first* row (``before`` a cursor):
``(…) < cursor ORDER BY … DESC LIMIT page + 1`` on the same two indexes, the second group first
when the cursor is in it and then the first group from its end — so the page before the first
page of the second group ends with the last tickets that have a due instant — and the rows are
put back in order. The extra row says whether there is a page before that one; when fewer
than a page precede the cursor (tickets solved since), the first page is read instead.

Then one joined query fetches the page's rows as plain values: three queries at most, whatever
the page size and the direction (five in that fallback). ``page=N`` without a cursor (the
first few pages, old links) reads the same queries from the start with an offset. A cursor
reflects the queue when its page was shown: a ticket whose next due moved since may be shown
again or missed on a later page, as in any live list; a ticket never appears twice nor is
skipped when nothing changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Membership, Tenant
from sla.clocks import STOPPED_STATUSES
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


CursorGroup = Literal["due", "opened"]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_CURSOR = re.compile(r"([do])\.(-?[0-9]{1,18})\.([0-9]{1,18})")
_GROUP_CODES: dict[str, CursorGroup] = {"d": "due", "o": "opened"}


@dataclass(frozen=True)
class QueueCursor:
    """The last row of a page, in its group's order: the first group's ``(next due, ticket
    id)`` (``group="due"``) or the second's ``(opened_at, id)`` (``group="opened"``). The next
    page starts right after it."""

    group: CursorGroup
    at: dt.datetime
    ticket_id: int

    def encode(self) -> str:
        """``d.<µs since the epoch>.<id>``: short, URL-safe, and exact to the microsecond
        (the database's precision), so a tie on the instant is broken by the id alone."""
        micros = (self.at - _EPOCH) // _MICROSECOND
        return f"{self.group[0]}.{micros}.{self.ticket_id}"

    @classmethod
    def decode(cls, raw: str) -> QueueCursor | None:
        """The cursor ``raw`` encodes, or None when it is malformed (the caller shows page 1).
        A well-formed cursor needs no signature: it only says where to start reading this
        tenant's queue, under the viewer's own filters."""
        match = _CURSOR.fullmatch(raw or "")
        if match is None:
            return None
        code, micros, ticket_id = match.groups()
        try:
            at = _EPOCH + int(micros) * _MICROSECOND
        except OverflowError:
            return None
        return cls(group=_GROUP_CODES[code], at=at, ticket_id=int(ticket_id))


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    has_next: bool
    next_cursor: QueueCursor | None = None  # the last row's, when there is a next page
    # The first row's, when there is a page before (the "Previous" link reads what precedes it).
    previous_cursor: QueueCursor | None = None


class _RowCompare(Func):
    """``(a, b) > (c, d)`` (or ``<``): a row comparison. PostgreSQL reads it as one index
    condition on an index ``(…, a, b)`` — the scan starts at the cursor — where the same test
    spelled ``a > c OR (a = c AND b > d)`` would only filter the rows an index scan returns."""

    output_field = BooleanField()

    def __init__(self, left: tuple[Any, Any], op: Literal["<", ">"], right: tuple[Any, Any]):
        super().__init__(*left, *right)
        self.op = op

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        parts: list[str] = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        a, b, c, d = parts
        return f"({a}, {b}) {self.op} ({c}, {d})", tuple(params)


def _beyond(columns: tuple[str, str], op: Literal["<", ">"], cursor: QueueCursor) -> Expression:
    """``(columns) > cursor`` (after it) or ``< cursor`` (before it)."""
    return _RowCompare(
        (F(columns[0]), F(columns[1])), op, (Value(cursor.at), Value(cursor.ticket_id))
    )


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
    after: QueueCursor | None = None,
    before: QueueCursor | None = None,
    page_size: int = 50,
    now: dt.datetime | None = None,
) -> QueuePage:
    """One page of the tenant's queue for a staff ``membership``, filtered, in SLA-urgency
    order (module doc), as rows of what the page shows (with each ticket's next due), the
    cursor of its last row when there is a next page and of its first when there is one before.

    ``after``: the page after that cursor; ``before``: the page before it, read backwards
    (keyset, either way: the same cost on any page). When fewer than a page precede
    ``before``, the first page. Without either, page ``page`` counted from the start (an
    offset: meant for the first few pages only).

    Preconditions: ``membership`` is a staff member of ``tenant``; ``page`` >= 1; not both
    ``after`` and ``before``."""
    assert membership.is_staff_member and membership.tenant_id == tenant.pk
    assert page >= 1
    assert after is None or before is None
    query = _QueueQuery(tenant=tenant, membership=membership, filters=filters, now=now)
    with transaction.atomic():
        _serial_plans()
        if before is not None:
            previous = query.page_before(before, page_size=page_size)
            if previous is not None:
                return previous
            page, after = 1, None  # fewer than a page before it: the first page
        return query.page_after(
            offset=0 if after is not None else (page - 1) * page_size,
            after=after,
            page_size=page_size,
        )


def _serial_plans() -> None:
    """No parallel workers for the queue's queries (this transaction only): they read a few
    hundred index entries at most and stop at the page's end, and PostgreSQL's parallel
    plan spends more starting its workers (tens of ms on a busy machine, measured with
    bench/queue_page.py) than the whole serial scan takes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def _earliest_unstopped_due(tenant: Tenant) -> QuerySet[SLAClock]:
    """Each ticket's earliest unstopped clock with a due instant (ties on ``due_at``: the
    smaller clock id): one row per ticket with a next due, whose ``due_at`` is that next due."""
    earlier = _unstopped_due(tenant).filter(
        _RowCompare((F("due_at"), F("id")), "<", (OuterRef("due_at"), OuterRef("id"))),
        ticket_id=OuterRef("ticket_id"),
    )
    return _unstopped_due(tenant).filter(~Exists(earlier))


class _QueueQuery:
    """The queue's two groups for one viewer and filter (module doc), read forwards from a
    cursor or an offset, or backwards from a cursor."""

    def __init__(
        self,
        *,
        tenant: Tenant,
        membership: Membership,
        filters: QueueFilters,
        now: dt.datetime | None,
    ) -> None:
        self.tenant = tenant
        self.membership = membership
        self.filters = filters
        self.now = now or timezone.now()

    @property
    def clocks_stopped(self) -> bool:
        """The status filter asks for solved or closed tickets: no first group (module doc)."""
        return self.filters.view != "held" and self.filters.status in STOPPED_STATUSES

    def due_clocks(self) -> QuerySet[SLAClock] | None:
        """The first group: each queued ticket's earliest unstopped clock (none for solved or
        closed tickets)."""
        if self.clocks_stopped:
            return None
        clocks = _earliest_unstopped_due(self.tenant).filter(
            _conditions(
                tenant=self.tenant,
                membership=self.membership,
                filters=self.filters,
                prefix="ticket__",
            )
        )
        if self.filters.view == "breaching":
            clocks = clocks.filter(due_at__lte=self.now + BREACHING_WITHIN)
        return clocks

    def fcfs_tickets(self) -> QuerySet[Ticket] | None:
        """The second group: the queued tickets without an unstopped due clock (none in the
        "breaching" view)."""
        if self.filters.view == "breaching":
            return None
        tickets = Ticket.objects.filter(
            _conditions(tenant=self.tenant, membership=self.membership, filters=self.filters)
        )
        if self.clocks_stopped:
            # Even one whose clock was left running (data older than that rule) is listed.
            return tickets
        return tickets.filter(~Exists(_unstopped_due(self.tenant).filter(ticket_id=OuterRef("pk"))))

    def page_after(self, *, offset: int, after: QueueCursor | None, page_size: int) -> QueuePage:
        wanted = offset + page_size + 1  # one more: is there a next page?

        # 1. Tickets with a next due (each ticket's earliest clock), in (due_at, ticket) order.
        due_rows: list[tuple[int, dt.datetime]] = []
        clocks = self.due_clocks()
        if clocks is not None and (after is None or after.group == "due"):
            if after is not None:
                clocks = clocks.filter(_beyond(("due_at", "ticket_id"), ">", after))
            due_rows = _due_rows(clocks.order_by("due_at", "ticket_id"), wanted)
        entries: list[QueueCursor] = [
            QueueCursor(group="due", at=due_at, ticket_id=ticket_id)
            for ticket_id, due_at in due_rows[offset:]
        ]

        # 2. Past the last ticket with a due instant: the tickets without one, oldest first.
        rest = self.fcfs_tickets()
        if len(due_rows) < wanted and rest is not None:
            if after is not None and after.group == "opened":
                rest = rest.filter(_beyond(("opened_at", "id"), ">", after))
            skip = max(0, offset - len(due_rows))
            entries += _opened_entries(
                rest.order_by("opened_at", "id"), skip, skip + page_size + 1 - len(entries)
            )

        # 3. The page's rows, with what a row shows.
        has_next = len(entries) > page_size
        entries = entries[:page_size]
        return QueuePage(
            rows=_rows(self.tenant, entries),
            has_next=has_next,
            next_cursor=entries[-1] if has_next and entries else None,
            previous_cursor=entries[0] if entries and (after is not None or offset) else None,
        )

    def page_before(self, before: QueueCursor, *, page_size: int) -> QueuePage | None:
        """The page ending right before ``before``: the same queries and indexes as
        :meth:`page_after` read backwards — the second group before a cursor in it, then the
        first group from its end (or before a cursor in it) — then put back in order. None
        when fewer than a page precede the cursor (the caller shows the first page)."""
        wanted = page_size + 1  # one more: is there a page before this one?
        entries: list[QueueCursor] = []  # nearest first
        rest = self.fcfs_tickets()
        if before.group == "opened" and rest is not None:
            rest = rest.filter(_beyond(("opened_at", "id"), "<", before))
            entries += _opened_entries(rest.order_by("-opened_at", "-id"), 0, wanted)
        clocks = self.due_clocks()
        if len(entries) < wanted and clocks is not None:
            if before.group == "due":
                clocks = clocks.filter(_beyond(("due_at", "ticket_id"), "<", before))
            entries += [
                QueueCursor(group="due", at=due_at, ticket_id=ticket_id)
                for ticket_id, due_at in _due_rows(
                    clocks.order_by("-due_at", "-ticket_id"), wanted - len(entries)
                )
            ]
        if len(entries) < page_size:
            return None
        has_previous = len(entries) > page_size
        entries = entries[:page_size][::-1]
        return QueuePage(
            rows=_rows(self.tenant, entries),
            has_next=True,  # the cursor's own row follows
            next_cursor=entries[-1],
            previous_cursor=entries[0] if has_previous else None,
        )


def _due_rows(clocks: QuerySet[SLAClock], limit: int) -> list[tuple[int, dt.datetime]]:
    return [
        (ticket_id, due_at)
        for ticket_id, due_at in clocks.values_list("ticket_id", "due_at")[:limit]
        if due_at is not None  # always: the clocks are filtered on it
    ]


def _opened_entries(tickets: QuerySet[Ticket], start: int, stop: int) -> list[QueueCursor]:
    return [
        QueueCursor(group="opened", at=opened_at, ticket_id=pk)
        for pk, opened_at in tickets.values_list("id", "opened_at")[start:stop]
    ]


def _rows(tenant: Tenant, entries: list[QueueCursor]) -> list[QueueRow]:
    """What the page shows for ``entries``, in their order: one joined query."""
    page_ids = [entry.ticket_id for entry in entries]
    due = {entry.ticket_id: entry.at for entry in entries if entry.group == "due"}
    found = {
        v.pk: v
        for v in Ticket.objects.for_tenant(tenant)
        .filter(pk__in=page_ids)
        .values_list(*ROW_FIELDS, named=True)
    }
    return [
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
