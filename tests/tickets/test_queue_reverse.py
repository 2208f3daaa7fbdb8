"""The agent queue's "Previous" links: a reverse keyset cursor (``before=`` the page's first
row) read backwards on the same indexes. Walking forward by "Next" and all the way back by
"Previous" shows the same pages, across the boundary between the tickets with a due instant and
the first-come-first-served tail, in the default view, a filtered view, a search and the
"solved" filter; every page costs the same queries; a cursor is only a position in the viewer's
own tenant's queue; a malformed one is page 1."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sla.models import SLAClock
from tests.conftest import World
from tests.tickets.page_helpers import TUESDAY_9, file_ticket, officernd
from tests.tickets.test_queue_keyset import expected_order, link, queue_refs, scramble_clocks
from tickets.models import Team, TeamMember, Ticket
from tickets.services import ticket_transition
from tickets.views import agent_queue
from tickets.views.queue_query import QueueCursor, QueueFilters, QueuePage, queue_page

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def frozen() -> Iterator[object]:
    with time_machine.travel(TUESDAY_9, tick=False) as traveller:
        yield traveller


@dataclass
class Shown:
    refs: list[str]
    label: str
    html: str


def show(client: Client, url: str) -> Shown:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    label = re.search(r"<span>Page (\d+)</span>", html)
    return Shown(queue_refs(html), label.group(1) if label else "", html)


def forward_then_back(client: Client, start: str) -> tuple[list[Shown], list[Shown]]:
    """Every page by "Next" from ``start``, then every page back by "Previous" from the last
    (each Previous past page 2 carrying a ``before`` cursor)."""
    forward = [show(client, start)]
    assert link(forward[0].html, "prev") is None and link(forward[0].html, "first") is None
    while (url := link(forward[-1].html, "next")) is not None:
        assert "after=" in url and "before=" not in url
        forward.append(show(client, url))
        assert len(forward) < 50
    backward = [forward[-1]]
    while (url := link(backward[-1].html, "prev")) is not None:
        if backward[-1].label != "2":
            assert "before=" in url and "after=" not in url, url
        backward.append(show(client, url))
        assert len(backward) < 50
    return forward, backward[1:]


def assert_same_pages_back(
    client: Client, forward: list[Shown], backward: list[Shown], page_size: int
) -> None:
    assert len(forward) >= 4  # deep enough that "Previous" is a cursor at least twice
    assert [p.refs for p in backward] == [p.refs for p in reversed(forward[:-1])]
    assert [p.label for p in backward] == [p.label for p in reversed(forward[:-1])]
    assert [p.label for p in forward] == [str(n) for n in range(1, len(forward) + 1)]
    assert all(len(p.refs) == page_size for p in forward[:-1])
    # The first page reached back: no Previous, no First page; its Next goes on as before.
    assert link(backward[-1].html, "prev") is None and link(backward[-1].html, "first") is None
    # A page reached backwards has a Next link that leads where the forward walk went.
    for page, after in zip(backward, reversed(forward), strict=False):
        url = link(page.html, "next")
        assert url is not None and show(client, url).refs == after.refs


@dataclass
class Boundary:
    due: list[Ticket]  # with a due instant, in the queue's order
    plain: list[Ticket]  # without a clock, oldest first
    team: Team


def boundary_queue(world: World) -> Boundary:
    """Eight tickets with SLA clocks (org1's Ultimate contract) and nine without (no
    severity), opened an hour apart so that the second group's order is the filing order; the
    odd ones in a team the agent belongs to, all about printers (and one other ticket that is
    not, with neither team nor clock)."""
    severities = officernd(world)
    team = Team.objects.create(tenant=world.tenant, name="Printers")
    TeamMember.objects.create(tenant=world.tenant, team=team, membership=world.agent)
    due, plain = [], []
    for n in range(8):
        due.append(
            file_ticket(
                world,
                world.contact1,
                f"Printer due {n}",
                severities["sev2"],
                team=team if n % 2 else None,
            )
        )
    for n in range(9):
        ticket = file_ticket(
            world, world.contact1, f"Printer plain {n}", team=team if n % 2 else None
        )
        Ticket.objects.filter(pk=ticket.pk).update(opened_at=TUESDAY_9 - (20 - n) * HOUR)
        plain.append(ticket)
    file_ticket(world, world.contact2, "Coffee machine")
    # Distinct due instants, in filing order: the first group's order is the filing order too.
    for n, ticket in enumerate(due):
        SLAClock.objects.filter(ticket=ticket).update(due_at=TUESDAY_9 + (n + 1) * HOUR)
    return Boundary(due=due, plain=plain, team=team)


def walk_both_ways(
    client: Client, start: str, page_size: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Shown], list[Shown]]:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", page_size)
    forward, backward = forward_then_back(client, start)
    assert_same_pages_back(client, forward, backward, page_size)
    return forward, backward


# Page size 3: a page spans both groups (due 6, 7 and plain 0), so the page before the first
# page of the second group ends with the last tickets that have a due instant. Page size 4:
# page 2 ends exactly with the last due ticket, page 3 starts the second group.
@pytest.mark.parametrize("page_size", [3, 4])
def test_default_view_back_across_the_boundary(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch, page_size: int
) -> None:
    queue = boundary_queue(alpha)
    forward, _ = walk_both_ways(alpha.client(alpha.agent), "/agent/queue/", page_size, monkeypatch)
    order = [t.reference for t in queue.due + queue.plain]
    assert [ref for page in forward for ref in page.refs][: len(order)] == order
    edge = {queue.due[-1].reference, queue.plain[0].reference}
    crossing = [p for p in forward if edge & set(p.refs)]
    assert len(crossing) == (1 if page_size == 3 else 2)


def test_team_filter_back_across_the_boundary(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = boundary_queue(alpha)
    client = alpha.client(alpha.agent)
    forward, backward = walk_both_ways(
        client, f"/agent/queue/?team={queue.team.pk}", 2, monkeypatch
    )
    expected = [t.reference for t in queue.due + queue.plain if t.team_id == queue.team.pk]
    assert [ref for page in forward for ref in page.refs] == expected
    # The filter is kept on every link, both ways.
    for page in forward + backward:
        for rel in ("prev", "next", "first"):
            url = link(page.html, rel)
            assert url is None or f"team={queue.team.pk}" in url
    # The saved view "My teams" reads the same tickets the same way.
    mine, _ = walk_both_ways(client, "/agent/queue/?view=team", 2, monkeypatch)
    assert [p.refs for p in mine] == [p.refs for p in forward]


def test_search_back_across_the_boundary(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = boundary_queue(alpha)
    forward, _ = walk_both_ways(
        alpha.client(alpha.agent), "/agent/queue/?q=printer", 3, monkeypatch
    )
    expected = [t.reference for t in queue.due + queue.plain]
    assert [ref for page in forward for ref in page.refs] == expected  # not the coffee machine


def test_solved_filter_back_and_forth(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "solved" filter: solved tickets oldest first (solving stopped their clocks), the
    same pages both ways — one whose clock was left running (a solve older than that rule)
    among them, not lost."""
    queue = boundary_queue(alpha)
    for ticket in queue.due[::2] + queue.plain[1:]:
        ticket_transition(
            ticket=Ticket.objects.get(pk=ticket.pk), status=Ticket.Status.SOLVED, by=alpha.agent
        )
    stray = queue.due[1]
    Ticket.objects.filter(pk=stray.pk).update(status=Ticket.Status.SOLVED)
    unstopped = SLAClock.objects.filter(met_at__isnull=True, due_at__isnull=False)
    assert unstopped.filter(ticket=stray).exists()
    assert not unstopped.filter(ticket=queue.due[0]).exists()
    forward, _ = walk_both_ways(
        alpha.client(alpha.agent), "/agent/queue/?status=solved", 3, monkeypatch
    )
    solved = Ticket.objects.for_tenant(alpha.tenant).filter(status=Ticket.Status.SOLVED)
    expected = [t.reference for t in solved.order_by("opened_at", "id")]
    assert len(expected) == 13 and stray.reference in expected
    assert [ref for page in forward for ref in page.refs] == expected
    assert all("no clock" in page.html for page in forward)


def test_queue_page_before_reverses_every_page_of_every_size(alpha: World, frozen: object) -> None:
    """The selector alone, on scrambled clocks (several per ticket, ties on the instants,
    paused and met ones, held and solved tickets): for every page size, reading back from each
    page's first row gives the page before it, and the first page has no previous cursor."""
    scramble_clocks(alpha, random.Random(20261122), 24)
    cases = [(QueueFilters(), expected_order(alpha))]
    cases.append((QueueFilters(view="breaching"), expected_order(alpha, breaching=True)))
    assert len(cases[0][1]) > len(cases[1][1]) > 2
    for filters, expected in cases:
        for page_size in range(1, len(expected) + 1):
            pages: list[QueuePage] = []
            after = None
            while not pages or pages[-1].next_cursor is not None:
                pages.append(
                    queue_page(
                        tenant=alpha.tenant,
                        membership=alpha.agent,
                        filters=filters,
                        after=after,
                        page_size=page_size,
                    )
                )
                cursor = pages[-1].next_cursor
                after = QueueCursor.decode(cursor.encode()) if cursor else None
            assert [row.pk for page in pages for row in page.rows] == expected
            assert pages[0].previous_cursor is None
            for number in range(len(pages) - 1, 0, -1):
                cursor = pages[number].previous_cursor
                assert cursor is not None and cursor.ticket_id == pages[number].rows[0].pk
                back = queue_page(
                    tenant=alpha.tenant,
                    membership=alpha.agent,
                    filters=filters,
                    before=QueueCursor.decode(cursor.encode()),
                    page_size=page_size,
                )
                want = pages[number - 1]
                assert [row.pk for row in back.rows] == [row.pk for row in want.rows], (
                    filters.view,
                    page_size,
                    number,
                )
                assert [row.next_due for row in back.rows] == [row.next_due for row in want.rows]
                assert (back.previous_cursor is None) == (number == 1)
                assert back.next_cursor == want.next_cursor


def count_queries(client: Client, url: str) -> tuple[int, Shown]:
    with CaptureQueriesContext(connection) as queries:
        page = show(client, url)
    return len(queries), page


def test_query_count_is_the_same_on_page_one_and_page_five_both_ways(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Page 1 (the first group only), page 5 by Next and page 5 by Previous from page 6 (the
    second group only): the same number of queries; a page that spans the groups one more."""
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    queue = boundary_queue(alpha)
    # Six tickets with a due instant (three pages): page 4 crosses over, page 5 is the
    # second group's alone.
    SLAClock.objects.filter(ticket__in=queue.due[6:]).update(met_at=TUESDAY_9 - HOUR)
    client = alpha.client(alpha.agent)
    counts, url = [], "/agent/queue/"
    pages: list[Shown] = []
    while url is not None:
        count, page = count_queries(client, url)
        counts.append(count)
        pages.append(page)
        url = link(page.html, "next")
    assert len(pages) >= 7 and pages[4].label == "5"
    back_url = link(pages[5].html, "prev")
    assert back_url is not None and "before=" in back_url and "page=5" in back_url
    back_count, back = count_queries(client, back_url)
    assert back.refs == pages[4].refs and back.label == "5"
    assert counts[0] == counts[4] == back_count
    assert max(counts) <= counts[0] + 1  # the spanning page: the second group's query too
    # Backwards over the boundary: the same as forwards over it.
    spanning = next(n for n, c in enumerate(counts) if c == counts[0] + 1)
    prev_url = link(pages[spanning + 1].html, "prev")
    assert prev_url is not None
    count, page = count_queries(client, prev_url)
    assert page.refs == pages[spanning].refs and count == counts[spanning]


def test_solved_view_query_count_does_not_grow(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The "solved" filter (solved tickets by opened_at, on the index ``ticket_queue_solved``):
    the same queries on page 1 and deeper, forwards and back, whatever the page size — one
    fewer than the open tickets' view, which looks for running clocks first."""
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    for n in range(12):
        ticket = file_ticket(alpha, alpha.contact2, f"Done {n}")
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.SOLVED)
    client = alpha.client(alpha.agent)
    first_count, first = count_queries(client, "/agent/queue/?status=solved")
    counts, url = [], link(first.html, "next")
    last = first
    while url is not None:
        count, last = count_queries(client, url)
        counts.append(count)
        url = link(last.html, "next")
    assert len(counts) == 5 and set(counts) == {first_count}
    prev_url = link(last.html, "prev")
    assert prev_url is not None and "before=" in prev_url
    assert count_queries(client, prev_url)[0] == first_count
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 10)
    assert count_queries(client, "/agent/queue/?status=solved")[0] == first_count
    file_ticket(alpha, alpha.contact2, "Still open")
    assert count_queries(client, "/agent/queue/")[0] == first_count + 1


def test_the_first_page_reached_backwards_has_no_previous(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "Previous" link whose label promised page 5 but has exactly a page before it: the
    first page, labelled 1, without Previous; and when fewer than a page are left before it
    (a ticket solved since), the first page in full."""
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 3)
    tickets = [file_ticket(alpha, alpha.contact1, f"T{n}") for n in range(7)]
    refs = [t.reference for t in tickets]
    client = alpha.client(alpha.agent)
    cursor = QueueCursor(group="opened", at=tickets[3].opened_at, ticket_id=tickets[3].pk)
    url = f"/agent/queue/?before={cursor.encode()}&page=5"
    page = show(client, url)
    assert page.refs == refs[:3] and page.label == "1"
    assert link(page.html, "prev") is None and link(page.html, "first") is None
    last = QueueCursor(group="opened", at=tickets[2].opened_at, ticket_id=tickets[2].pk)
    assert link(page.html, "next") == f"/agent/queue/?after={last.encode()}&page=2"
    Ticket.objects.filter(pk=tickets[1].pk).update(status=Ticket.Status.SOLVED)
    page = show(client, url)
    assert page.refs == [refs[0], refs[2], refs[3]] and page.label == "1"
    assert link(page.html, "prev") is None


@pytest.mark.parametrize("raw", ["garbage", "d.1.2.3", "x.1.2", "", "o.1e5.3", "d.1.2\n"])
def test_a_malformed_before_cursor_is_page_one(
    alpha: World, frozen: object, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    for n in range(5):
        file_ticket(alpha, alpha.contact1, f"T{n}")
    client = alpha.client(alpha.agent)
    first = show(client, "/agent/queue/")
    response = client.get("/agent/queue/", {"before": raw, "page": "4"})
    assert response.status_code == 200
    html = response.content.decode()
    assert queue_refs(html) == first.refs and len(first.refs) == 2
    assert "<span>Page 1</span>" in html and link(html, "prev") is None
    # "before" wins over a stray "after" alongside it: still page 1, not the page after.
    good = QueueCursor(group="opened", at=TUESDAY_9 - 100 * HOUR, ticket_id=0).encode()
    html = client.get("/agent/queue/", {"before": raw, "after": good}).content.decode()
    assert queue_refs(html) == first.refs


def test_a_cursor_from_another_tenants_queue_shows_nothing_of_theirs(
    alpha: World, beta: World, frozen: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    alpha_tickets = [file_ticket(alpha, alpha.contact1, f"ALPHA-ONLY {n}") for n in range(9)]
    beta_tickets = [file_ticket(beta, beta.contact1, f"Beta's {n}") for n in range(5)]
    alpha_client = alpha.client(alpha.agent)
    url: str | None = "/agent/queue/"
    for _ in range(3):  # page 4 of alpha's queue
        assert url is not None
        url = link(show(alpha_client, url).html, "next")
    assert url is not None
    previous = link(show(alpha_client, url).html, "prev")
    assert previous is not None and "before=" in previous
    beta_client = beta.client(beta.agent)
    for copied in (previous, url):
        html = show(beta_client, copied).html
        assert "ALPHA-ONLY" not in html
        assert all(t.reference not in html for t in alpha_tickets)
        assert set(queue_refs(html)) <= {t.reference for t in beta_tickets}
    # Beta's own queue read back from alpha's position: beta's tickets only, in beta's order.
    raw = previous.split("before=")[1].split("&")[0]
    page = queue_page(
        tenant=beta.tenant,
        membership=beta.agent,
        filters=QueueFilters(),
        before=QueueCursor.decode(raw),
        page_size=2,
    )
    assert {row.pk for row in page.rows} <= {t.pk for t in beta_tickets}
    shown = Ticket.objects.filter(pk__in=[row.pk for row in page.rows], tenant=beta.tenant)
    assert page.rows and shown.count() == len(page.rows)


def test_the_pager_swaps_the_results_in_place_with_htmx(alpha: World, frozen: object) -> None:
    """The pager's plain links are boosted by htmx into the results' region (the same region
    the filters swap), so Previous and Next work with and without JavaScript."""
    for n in range(agent_queue.PAGE_SIZE * 3):
        file_ticket(alpha, alpha.contact1, f"T{n}")
    client = alpha.client(alpha.agent)
    second = show(client, link(show(client, "/agent/queue/").html, "next") or "")
    third_url = link(second.html, "next")
    assert third_url is not None
    third = client.get(third_url, headers={"HX-Request": "true", "HX-Boosted": "true"})
    html = third.content.decode()
    results = html[html.index('<div id="queue-results">') :]
    nav = re.search(r'<nav class="pager"[^>]*>', results)
    assert nav is not None
    assert 'hx-boost="true"' in nav.group(0) and 'hx-target="#queue-results"' in nav.group(0)
    assert 'hx-select="#queue-results"' in nav.group(0)
    previous = link(results, "prev")
    assert previous is not None and "before=" in previous
    assert show(client, previous).refs == second.refs
