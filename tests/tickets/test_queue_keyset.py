"""The agent queue's keyset pagination: following "Next" cursors lists every ticket of the
SLA-urgency order exactly once, in that order — tickets with several clocks, ties on the due
instant and on ``opened_at``, a page that ends in the first group and one that spans both —
and a malformed cursor is page 1, never an error."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import random
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import Metric, SLAClock
from tests.conftest import World
from tests.tickets.page_helpers import TUESDAY_9, file_ticket, officernd
from tickets.models import Team, TeamMember, Ticket
from tickets.views import agent_queue
from tickets.views.queue_query import (
    ACTIVE_STATUSES,
    QueueCursor,
    QueueFilters,
    queue_page,
)

HOUR = dt.timedelta(hours=1)
# Few distinct instants, so that many clocks (of one ticket and of several) tie on them.
INSTANTS = [TUESDAY_9 - 2 * HOUR, TUESDAY_9 + HOUR / 2, TUESDAY_9 + 3 * HOUR, TUESDAY_9 + 9 * HOUR]
OPENED = [TUESDAY_9 - 30 * HOUR, TUESDAY_9 - 20 * HOUR, TUESDAY_9 - 10 * HOUR]


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(TUESDAY_9, tick=False) as traveller:
        yield traveller


def queue_refs(html: str) -> list[str]:
    return re.findall(r'data-ticket-link><span class="ref"[^>]*>([A-Z0-9]+-\d+)</span>', html)


def link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', html)
    return html_lib.unescape(match.group(1)) if match else None


def expected_order(world: World, *, breaching: bool = False) -> list[int]:
    """The module docstring's order, computed in Python from the rows: an oracle that shares
    nothing with the queue's SQL."""
    tickets = Ticket.objects.for_tenant(world.tenant).filter(
        status__in=ACTIVE_STATUSES, held_for_verification=False
    )
    next_due: dict[int, dt.datetime] = {}
    for clock in SLAClock.objects.for_tenant(world.tenant).filter(ticket__in=tickets):
        if clock.met_at is None and clock.due_at is not None:
            current = next_due.get(clock.ticket_id)
            next_due[clock.ticket_id] = min(clock.due_at, current or clock.due_at)
    first = sorted(next_due, key=lambda pk: (next_due[pk], pk))
    if breaching:
        return [pk for pk in first if next_due[pk] <= TUESDAY_9 + HOUR]
    rest = sorted(
        ((t.opened_at, t.pk) for t in tickets if t.pk not in next_due), key=lambda row: row
    )
    return first + [pk for _, pk in rest]


def walk(world: World, page_size: int, filters: QueueFilters | None = None) -> list[list[int]]:
    """Every page, following the cursors from page 1."""
    filters = filters or QueueFilters()
    pages, after = [], None
    while True:
        page = queue_page(
            tenant=world.tenant,
            membership=world.agent,
            filters=filters,
            after=after,
            page_size=page_size,
        )
        pages.append([row.pk for row in page.rows])
        assert len(pages[-1]) == page_size or not page.has_next
        assert (page.next_cursor is not None) == page.has_next
        if page.next_cursor is None:
            return pages
        # What goes over the wire: the cursor's text.
        after = QueueCursor.decode(page.next_cursor.encode())
        assert after == page.next_cursor
        assert len(pages) < 100


def scramble_clocks(world: World, rng: random.Random, count: int) -> None:
    """``count`` tickets with clocks of every kind — several unstopped ones per ticket (all
    three metrics), met ones, paused ones (no due instant), ties everywhere — and tickets
    without any, some solved or held (out of the queue)."""
    severities = officernd(world)
    for n in range(count):
        kind = rng.choice(["clocks", "clocks", "clocks", "none"])
        severity = severities["sev2"] if kind == "clocks" else None
        ticket = file_ticket(world, world.contact1, f"Scrambled {n}", severity)
        Ticket.objects.filter(pk=ticket.pk).update(
            opened_at=rng.choice(OPENED),
            held_for_verification=rng.random() < 0.05,
            status="solved" if rng.random() < 0.1 else "open",
        )
        if severity is None:
            continue
        if not SLAClock.objects.filter(ticket=ticket, metric=Metric.NEXT_RESPONSE).exists():
            SLAClock.objects.create(
                tenant=world.tenant,
                ticket=ticket,
                metric=Metric.NEXT_RESPONSE,
                started_at=TUESDAY_9 - 40 * HOUR,
                due_at=TUESDAY_9,
            )
        for clock in SLAClock.objects.filter(ticket=ticket):
            state = rng.choice(["due", "due", "met", "paused"])
            SLAClock.objects.filter(pk=clock.pk).update(
                due_at=None if state == "paused" else rng.choice(INSTANTS),
                met_at=TUESDAY_9 - 3 * HOUR if state == "met" else None,
            )


def test_cursor_pages_follow_the_order_exactly_once(alpha: World, frozen: object) -> None:
    scramble_clocks(alpha, random.Random(20261121), 24)
    expected = expected_order(alpha)
    with_due = {
        c.ticket_id
        for c in SLAClock.objects.for_tenant(alpha.tenant).filter(
            met_at__isnull=True, due_at__isnull=False
        )
    }
    # The data has what the test is about: both groups, tickets with several unstopped clocks,
    # ties on the next due between tickets, ties on opened_at in the second group.
    several = (
        SLAClock.objects.for_tenant(alpha.tenant)
        .filter(met_at__isnull=True, due_at__isnull=False, ticket_id__in=expected)
        .values_list("ticket_id", flat=True)
    )
    assert len(list(several)) > len(set(several))
    assert any(pk in with_due for pk in expected) and any(pk not in with_due for pk in expected)
    for page_size in range(1, len(expected) + 2):
        pages = walk(alpha, page_size)
        flat = [pk for page in pages for pk in page]
        assert flat == expected, page_size
        # The offset pages (page=N, the first few) agree with the cursor pages.
        for number, cursor_page in enumerate(pages[:3], start=1):
            offset_page = queue_page(
                tenant=alpha.tenant,
                membership=alpha.agent,
                filters=QueueFilters(),
                page=number,
                page_size=page_size,
            )
            assert [row.pk for row in offset_page.rows] == cursor_page


def test_ties_on_the_due_instant_and_two_clocks_due_at_once(alpha: World, frozen: object) -> None:
    """Five tickets due at the same instant (one with two clocks due then, one with an earlier
    and a later clock), split over pages of two: each exactly once, by ticket id."""
    severities = officernd(alpha)
    tickets = [file_ticket(alpha, alpha.contact1, f"Tie {n}", severities["sev2"]) for n in range(5)]
    clocks = SLAClock.objects.for_tenant(alpha.tenant)
    clocks.update(due_at=INSTANTS[2], met_at=None)  # every clock of every ticket at one instant
    earlier = clocks.filter(ticket=tickets[3]).order_by("id").first()
    assert earlier is not None
    clocks.filter(pk=earlier.pk).update(due_at=INSTANTS[1])
    clocks.filter(ticket=tickets[3]).exclude(pk=earlier.pk).update(due_at=INSTANTS[3])
    pages = walk(alpha, 2)
    ids = [t.pk for t in tickets]
    assert pages == [[ids[3], ids[0]], [ids[1], ids[2]], [ids[4]]]
    page = queue_page(
        tenant=alpha.tenant, membership=alpha.agent, filters=QueueFilters(), page_size=2
    )
    assert [row.next_due for row in page.rows] == [INSTANTS[1], INSTANTS[2]]


def test_a_page_spans_both_groups_and_the_next_one_continues_the_second(
    alpha: World, frozen: object
) -> None:
    severities = officernd(alpha)
    due = [file_ticket(alpha, alpha.contact1, f"Due {n}", severities["sev2"]) for n in range(3)]
    plain = [file_ticket(alpha, alpha.contact2, f"Plain {n}") for n in range(4)]
    for n, ticket in enumerate(plain):  # opened_at ties: ids break them
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=OPENED[n // 2])
    pages = walk(alpha, 4)
    assert pages == [
        [due[0].pk, due[1].pk, due[2].pk, plain[0].pk],
        [plain[1].pk, plain[2].pk, plain[3].pk],
    ]
    # A page ending exactly at the first group's last ticket: the next starts the second.
    pages = walk(alpha, 3)
    assert pages == [[t.pk for t in due], [t.pk for t in plain[:3]], [plain[3].pk]]


def test_breaching_view_pages_have_no_second_group(alpha: World, frozen: object) -> None:
    scramble_clocks(alpha, random.Random(7), 14)
    expected = expected_order(alpha, breaching=True)
    assert expected
    for page_size in (1, 2, 3):
        pages = walk(alpha, page_size, QueueFilters(view="breaching"))
        assert [pk for page in pages for pk in page] == expected
    # A second-group cursor in the breaching view: an empty page, not an error.
    cursor = QueueCursor(group="opened", at=OPENED[0], ticket_id=1)
    page = queue_page(
        tenant=alpha.tenant,
        membership=alpha.agent,
        filters=QueueFilters(view="breaching"),
        after=cursor,
    )
    assert page.rows == [] and not page.has_next


def test_next_links_walk_the_queue_with_filters_kept(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 3)
    severities = officernd(alpha)
    team = Team.objects.create(tenant=alpha.tenant, name="Core")
    TeamMember.objects.create(tenant=alpha.tenant, team=team, membership=alpha.agent)
    mine = []
    for n in range(8):
        severity = severities["sev2"] if n % 2 else None
        mine.append(file_ticket(alpha, alpha.contact1, f"Printer {n}", severity, team=team))
        file_ticket(alpha, alpha.contact1, f"Other {n}", severity)  # not the team's
        file_ticket(alpha, alpha.contact1, f"Printer elsewhere {n}", severity)  # no team
    expected_ids = [pk for pk in expected_order(alpha) if pk in {t.pk for t in mine}]
    expected = [Ticket.objects.get(pk=pk).reference for pk in expected_ids]
    client = alpha.client(alpha.agent)
    url: str | None = "/agent/queue/?view=team&q=printer"
    seen, labels = [], []
    while url is not None:
        html = client.get(url).content.decode()
        seen.append(queue_refs(html))
        labels.append(re.search(r"<span>Page (\d+)</span>", html))
        if len(seen) > 1:
            assert link(html, "first") is None or len(seen) > 2
            assert link(html, "prev") is not None
        url = link(html, "next")
        if url is not None:
            assert "view=team" in url and "q=printer" in url and "after=" in url
    assert seen == [expected[:3], expected[3:6], expected[6:]]
    assert [m.group(1) if m else None for m in labels] == ["1", "2", "3"]
    assert link(html, "first") == "/agent/queue/?view=team&q=printer"
    # The bulk form returns to the page it was posted from (its cursor included).
    assert 'name="next" value="/agent/queue/?view=team&amp;q=printer&amp;after=' in html


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "d.1.2.3",
        "x.1.2",
        "d..5",
        "d.1.",
        "d.999999999999999999.1",  # past the year 9999
        "d.-999999999999999999.1",
        "o.1e5.3",
        "d.１２.3",  # noqa: RUF001 (full-width digits)
        "d.1.2%00",
        "d.1.2\n",
        "",
        "d." + "9" * 400 + ".1",
    ],
)
def test_a_malformed_cursor_is_page_one(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    for n in range(3):
        file_ticket(alpha, alpha.contact1, f"T{n}")
    client = alpha.client(alpha.agent)
    first = client.get("/agent/queue/")
    response = client.get("/agent/queue/", {"after": raw, "page": "7"})
    assert response.status_code == 200
    html = response.content.decode()
    assert queue_refs(html) == queue_refs(first.content.decode()) and len(queue_refs(html)) == 2
    assert "<span>Page 1</span>" in html and link(html, "prev") is None
    assert QueueCursor.decode(raw) is None


def test_cursor_text_round_trips_exactly() -> None:
    for at in (
        dt.datetime(2026, 3, 3, 9, 0, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ):
        for group in ("due", "opened"):
            cursor = QueueCursor(group=group, at=at, ticket_id=900_000_000_000_000_000)
            assert QueueCursor.decode(cursor.encode()) == cursor
    assert QueueCursor(group="due", at=TUESDAY_9, ticket_id=7).encode() == "d.1772528400000000.7"


def test_offset_pages_stop_at_the_first_few(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``page=N`` without a cursor (an old link) reads from the start: only up to
    MAX_OFFSET_PAGE; deeper numbers show that page."""
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 1)
    tickets = [file_ticket(alpha, alpha.contact1, f"T{n}") for n in range(12)]
    client = alpha.client(alpha.agent)
    html = client.get("/agent/queue/?page=3").content.decode()
    assert queue_refs(html) == [tickets[2].reference]
    assert link(html, "prev") == "/agent/queue/?page=2" and link(html, "first") == "/agent/queue/"
    html = client.get("/agent/queue/?page=500").content.decode()
    assert queue_refs(html) == [tickets[agent_queue.MAX_OFFSET_PAGE - 1].reference]


def test_cursor_page_query_count_does_not_grow_with_page_size(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    severities = officernd(alpha)
    client = alpha.client(alpha.agent)

    def count(page_size: int) -> int:
        monkeypatch.setattr(agent_queue, "PAGE_SIZE", page_size)
        html = client.get("/agent/queue/").content.decode()
        url = link(html, "next")
        assert url is not None
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200 and len(queue_refs(response.content.decode()))
        return len(queries)

    # A second page that spans both groups (a cursor in the first, then the second group from
    # its start), of 3 rows and then of 8: the same queries.
    for n in range(12):
        file_ticket(alpha, alpha.contact1, f"Plain {n}")
    for n in range(4):
        file_ticket(alpha, alpha.contact1, f"Due {n}", severities["sev2"])
    few = count(3)
    for n in range(6):
        file_ticket(alpha, alpha.contact1, f"More due {n}", severities["sev2"])
    assert count(8) == few


def test_a_cursor_reads_only_the_viewers_tenant(
    alpha: World, beta: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 1)
    alpha_tickets = [file_ticket(alpha, alpha.contact1, f"ALPHA-ONLY {n}") for n in range(3)]
    beta_ticket = file_ticket(beta, beta.contact1, "Beta's")
    cursor = QueueCursor(group="opened", at=OPENED[0], ticket_id=0).encode()
    html = beta.client(beta.agent).get(f"/agent/queue/?after={cursor}&page=2").content.decode()
    assert "ALPHA-ONLY" not in html and queue_refs(html) == [beta_ticket.reference]
    assert all(t.reference not in html for t in alpha_tickets)
