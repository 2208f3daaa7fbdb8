"""The agent workspace through the Django test client: access by role, the queue's SLA-urgency
order, saved views, filters, bulk actions and query counts; the ticket page with notes, clocks
and events, and every action on it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from tests.conftest import World
from tests.factories import ContactFactory
from tests.tickets.page_helpers import TUESDAY_9, assert_csp_clean, file_ticket, officernd
from tickets.models import Team, TeamMember, Ticket
from tickets.services import ticket_note, ticket_reply, ticket_transition

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(TUESDAY_9, tick=False) as traveller:
        yield traveller


def queue_refs(html: str) -> list[str]:
    return re.findall(r'data-ticket-link><span class="ref"[^>]*>([A-Z0-9]+-\d+)</span>', html)


# --- access -----------------------------------------------------------------------------------


def test_workspace_is_staff_only(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Staff only")
    anonymous = Client(HTTP_HOST=alpha.host)
    for path in ("/agent/queue/", f"/agent/tickets/{ticket.reference}/"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        for member in (alpha.contact1, alpha.owner1):
            assert alpha.client(member).get(path).status_code == 404
        for member in (alpha.agent, alpha.admin):
            assert alpha.client(member).get(path).status_code == 200
    customer = alpha.client(alpha.owner1)
    for action in ("message", "assign", "status", "reclassify", "merge", "cc", "presence"):
        url = f"/agent/tickets/{ticket.reference}/{action}/"
        assert customer.post(url, {"body": "x", "kind": "reply"}).status_code == 404
    assert customer.post("/agent/queue/bulk/", {"tickets": [ticket.pk]}).status_code == 404


def test_other_tenants_ticket_is_404_for_staff(alpha: World, beta: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "ALPHA-SECRET")
    client = beta.client(beta.agent)
    assert client.get(f"/agent/tickets/{ticket.reference}/").status_code == 404
    response = client.post(
        f"/agent/tickets/{ticket.reference}/message/", {"kind": "note", "body": "x"}
    )
    assert response.status_code == 404
    # Bulk with alpha's ids from beta changes nothing of alpha's.
    client.post(
        "/agent/queue/bulk/", {"tickets": [ticket.pk], "action": "status", "status": "solved"}
    )
    ticket.refresh_from_db()
    assert ticket.status == "new"


# --- the queue ----------------------------------------------------------------------------------


def test_queue_order_breached_then_nearest_due_then_first_come(alpha: World) -> None:
    severities = officernd(alpha)
    with time_machine.travel(TUESDAY_9 - dt.timedelta(hours=3), tick=False):
        # Ultimate SEV 1: first response 1 h → due 07:00: breached at 09:00.
        breached = file_ticket(alpha, alpha.contact1, "Breached", severities["sev1"])
    with time_machine.travel(TUESDAY_9 - dt.timedelta(hours=2), tick=False):
        no_clock_old = file_ticket(alpha, alpha.contact1, "No severity, older")
    with time_machine.travel(TUESDAY_9 - dt.timedelta(hours=1), tick=False):
        no_clock_new = file_ticket(alpha, alpha.contact2, "No severity, newer")
    with time_machine.travel(TUESDAY_9, tick=False):
        far = file_ticket(alpha, alpha.contact1, "SEV 3 far", severities["sev3"])  # 10 h
        near = file_ticket(alpha, alpha.contact1, "SEV 1 near", severities["sev1"])  # 1 h
        solved = file_ticket(alpha, alpha.contact1, "Solved", severities["sev1"])
        ticket_transition(ticket=solved, status="solved", by=alpha.agent)
        pending = ContactFactory(tenant=alpha.tenant, organization=None, contact_role="pending")
        held = file_ticket(alpha, pending, "Held", severities["sev1"])
        html = alpha.client(alpha.agent).get("/agent/queue/").content.decode()
    refs = queue_refs(html)
    assert refs == [
        breached.reference,
        near.reference,
        far.reference,
        no_clock_old.reference,
        no_clock_new.reference,
    ]
    assert solved.reference not in refs and held.reference not in refs
    assert "overdue by 2 h" in html and "no clock" in html
    assert_csp_clean(html)


def test_saved_views(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    team = Team.objects.create(tenant=alpha.tenant, name="Core")
    TeamMember.objects.create(tenant=alpha.tenant, team=team, membership=alpha.agent)
    mine = file_ticket(alpha, alpha.contact1, "Mine", severities["sev3"], assignee=alpha.agent)
    leads = file_ticket(alpha, alpha.contact1, "Lead's", severities["sev3"], assignee=alpha.lead)
    teams = file_ticket(alpha, alpha.contact1, "Team's", severities["sev3"], team=team)
    soon = file_ticket(alpha, alpha.contact1, "Soon", severities["sev1"])
    waiting = file_ticket(alpha, alpha.contact1, "Waiting", severities["sev3"])
    ticket_transition(ticket=waiting, status="pending", by=alpha.agent)
    pending_contact = ContactFactory(tenant=alpha.tenant, organization=None, contact_role="pending")
    held = file_ticket(alpha, pending_contact, "Held one")
    client = alpha.client(alpha.agent)

    def view(name: str) -> list[str]:
        return queue_refs(client.get(f"/agent/queue/?view={name}").content.decode())

    assert view("mine") == [mine.reference]
    assert leads.reference not in view("unassigned") and mine.reference not in view("unassigned")
    assert soon.reference in view("unassigned")
    assert view("team") == [teams.reference]
    assert view("breaching") == [soon.reference]
    assert view("pending") == [waiting.reference]
    assert view("held") == [held.reference]
    everything = view("open")
    assert held.reference not in everything and waiting.reference in everything
    assert set(view("nonsense")) == set(everything)


def test_filters(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    a = file_ticket(alpha, alpha.contact1, "Printer jam", severities["sev1"])
    b = file_ticket(alpha, alpha.contact2, "Login fails", severities["sev3"], assignee=alpha.lead)
    ticket_transition(ticket=b, status="open", by=alpha.agent)
    client = alpha.client(alpha.agent)

    def refs(query: str) -> list[str]:
        return queue_refs(client.get(f"/agent/queue/?{query}").content.decode())

    assert refs(f"severity={severities['sev1'].pk}") == [a.reference]
    assert refs("status=open") == [b.reference]
    assert refs(f"assignee={alpha.lead.pk}") == [b.reference]
    assert refs("assignee=none") == [a.reference]
    assert refs(f"organization={alpha.org2.pk}") == [b.reference]
    assert refs("q=printer") == [a.reference]
    assert refs(f"q={b.reference}") == [b.reference]
    assert refs(f"q={b.number}") == [b.reference]
    assert refs(f"q={alpha.contact2.user.email}") == [b.reference]
    assert set(refs("severity=notanumber&team=x")) == {a.reference, b.reference}
    # LIKE's wildcards are searched for, not obeyed.
    c = file_ticket(alpha, alpha.contact1, "Discount 100% off_now")
    assert refs("q=100%25") == [c.reference] and refs("q=%25") == [c.reference]
    assert refs("q=f_n") == [c.reference] and refs("q=_") == [c.reference]
    # Filters by htmx: the results region only is swapped (hx-select), the URL pushed.
    html = client.get("/agent/queue/?q=printer").content.decode()
    assert 'hx-select="#queue-results"' in html and 'hx-push-url="true"' in html


def test_queue_query_count_does_not_grow_with_page_size(alpha: World) -> None:
    severities = officernd(alpha)
    team = Team.objects.create(tenant=alpha.tenant, name="Core")
    client = alpha.client(alpha.agent)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/agent/queue/").status_code == 200
        return len(queries)

    for i in range(3):
        file_ticket(alpha, alpha.contact1, f"Few {i}", severities["sev2"], team=team)
    few = count()
    for i in range(40):
        requester = alpha.contact1 if i % 2 else alpha.contact2
        file_ticket(
            alpha, requester, f"Many {i}", severities["sev1"], team=team, assignee=alpha.lead
        )
    assert count() == few


def test_queue_paginates(alpha: World) -> None:
    from tickets.views import agent_queue

    for i in range(agent_queue.PAGE_SIZE + 3):
        file_ticket(alpha, alpha.contact1, f"T{i}")
    client = alpha.client(alpha.agent)
    first = client.get("/agent/queue/").content.decode()
    assert len(queue_refs(first)) == agent_queue.PAGE_SIZE and 'rel="next"' in first
    second = client.get("/agent/queue/?page=2").content.decode()
    assert len(queue_refs(second)) == 3 and 'rel="prev"' in second and 'rel="next"' not in second
    assert not set(queue_refs(first)) & set(queue_refs(second))


def test_bulk_assign_and_transition(alpha: World) -> None:
    officernd(alpha)
    team = Team.objects.create(tenant=alpha.tenant, name="Core")
    t1 = file_ticket(alpha, alpha.contact1, "Bulk 1")
    t2 = file_ticket(alpha, alpha.contact1, "Bulk 2")
    t3 = file_ticket(alpha, alpha.contact1, "Bulk 3")
    ticket_transition(ticket=t3, status="solved", by=alpha.agent)
    client = alpha.client(alpha.agent)
    response = client.post(
        "/agent/queue/bulk/",
        {
            "tickets": [t1.pk, t2.pk],
            "action": "assign",
            "assignee": alpha.lead.pk,
            "team": team.pk,
            "next": "/agent/queue/?view=open",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/agent/queue/?view=open"
    for t in (t1, t2):
        t.refresh_from_db()
        assert t.assignee == alpha.lead and t.team == team
    # A transition the table refuses (solved → pending) is reported; the others go through.
    response = client.post(
        "/agent/queue/bulk/",
        {"tickets": [t1.pk, t3.pk], "action": "status", "status": "pending"},
        follow=True,
    )
    html = response.content.decode()
    t1.refresh_from_db()
    t3.refresh_from_db()
    assert t1.status == "pending" and t3.status == "solved"
    assert "1 ticket updated." in html and t3.reference in html
    # Nothing ticked, or an open redirect: refused politely.
    response = client.post(
        "/agent/queue/bulk/", {"action": "status", "status": "open", "next": "https://evil.test/"}
    )
    assert response.status_code == 302 and response["Location"] == "/agent/queue/"
    # A GET of the bulk URL is the queue.
    assert client.get("/agent/queue/bulk/").status_code == 200


# --- the ticket page ----------------------------------------------------------------------------


def test_ticket_page_shows_notes_distinctly_clocks_events_and_allowed_statuses(
    alpha: World, frozen: object
) -> None:
    severities = officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "Full page", severities["sev2"])
    ticket_reply(ticket=ticket, body="We are on it", author=alpha.agent.user)
    ticket_note(ticket=ticket, body="Only for us", by=alpha.agent)
    html = alpha.client(alpha.lead).get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert_csp_clean(html)
    assert "Only for us" in html and "msg-note" in html
    assert "Internal note — customers never see this" in html
    assert "First response met" in html and "Resolution due in" in html
    assert "Resolution: 7 business days on 24/5" in html  # the clock's explanation
    assert "Reply added" in html and "Internal note added" in html and "Created via web" in html
    status_select = re.search(r'<select name="status"[^>]*>(.*?)</select>', html, re.S)
    assert status_select is not None
    options = re.findall(r'value="(\w+)"', status_select.group(1))
    assert set(options) == {"pending", "on_hold", "solved"}  # open → these only
    assert 'data-shortcut="reply"' in html and 'data-shortcut="note"' in html


def test_reply_meets_first_response_and_note_stays_internal(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "Answer me", severities["sev1"])
    client = alpha.client(alpha.agent)
    url = f"/agent/tickets/{ticket.reference}/message/"
    response = client.post(url, {"kind": "reply", "body": "Hello from support"})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/agent/tickets/{ticket.reference}/#message-")
    response = client.post(url, {"kind": "note", "body": "NOTE-XYZ internal only"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "open"
    agent_html = client.get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert "First response met" in agent_html and "NOTE-XYZ" in agent_html
    customer_html = (
        alpha.client(alpha.contact1).get(f"/tickets/{ticket.reference}/").content.decode()
    )
    assert "Hello from support" in customer_html and "First response met" in customer_html
    assert "NOTE-XYZ" not in customer_html


def test_reply_errors_keep_the_text(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Errors")
    ticket_transition(ticket=ticket, status="solved", by=alpha.agent)
    ticket_transition(ticket=ticket, status="closed", by=alpha.agent)
    client = alpha.client(alpha.agent)
    response = client.post(
        f"/agent/tickets/{ticket.reference}/message/",
        {"kind": "reply", "body": "My carefully typed reply"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "closed" in html and "My carefully typed reply" in html
    empty = client.post(f"/agent/tickets/{ticket.reference}/message/", {"kind": "note"})
    assert empty.status_code == 400 and 'id="note-body_error"' in empty.content.decode()


def test_assign_reclassify_status_cc_and_merge(alpha: World, frozen: object) -> None:
    severities = officernd(alpha)
    team = Team.objects.create(tenant=alpha.tenant, name="Core")
    ticket = file_ticket(alpha, alpha.contact1, "Printer jam in office", severities["sev3"])
    original = file_ticket(alpha, alpha.contact2, "Printer jam in the office")
    client = alpha.client(alpha.agent)
    base = f"/agent/tickets/{ticket.reference}/"

    assert (
        client.post(base + "assign/", {"assignee": alpha.lead.pk, "team": team.pk}).status_code
        == 302
    )
    ticket.refresh_from_db()
    assert ticket.assignee == alpha.lead and ticket.team == team

    response = client.post(base + "reclassify/", {"severity": severities["sev1"].pk})
    assert response.status_code == 302
    html = client.get(base).content.decode()
    assert "First response due in 1 h" in html and "Severity re-classified" in html

    assert client.post(base + "status/", {"status": "closed"}).status_code == 400  # not allowed
    assert client.post(base + "status/", {"status": "on_hold"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "on_hold"

    bad = client.post(base + "cc/", {"emails": "nope"})
    assert bad.status_code == 400 and 'value="nope"' in bad.content.decode()
    assert client.post(base + "cc/", {"emails": "a@example.org, b@example.org"}).status_code == 302
    assert client.post(base + "cc/", {"remove": "a@example.org"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.cc == ["b@example.org"]

    html = client.get(base).content.decode()
    assert original.reference in html  # a similar-ticket suggestion
    unknown = client.post(base + "merge/", {"into": "AL-999999"})
    assert unknown.status_code == 400 and "There is no ticket AL-999999" in unknown.content.decode()
    response = client.post(base + "merge/", {"into": original.reference})
    assert response.status_code == 302 and response["Location"] == (
        f"/agent/tickets/{original.reference}/"
    )
    ticket.refresh_from_db()
    assert ticket.merged_into == original and ticket.status == "closed"
    html = client.get(base).content.decode()
    assert f"Merged into {original.reference}" in html


@override_settings(CACHES=LOCMEM)
def test_presence_shows_who_else_is_replying(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Two agents")
    url = f"/agent/tickets/{ticket.reference}/presence/"
    agent, lead = alpha.client(alpha.agent), alpha.client(alpha.lead)
    assert agent.post(url, {"state": "viewing"}).content.decode().strip() == ""
    html = lead.post(url, {"state": "replying"}).content.decode()
    assert alpha.agent.user.email in html or (alpha.agent.user.name or "") in html
    assert "is viewing this ticket" in html
    html = agent.get(url).content.decode()
    assert "is replying to this ticket" in html
    page = agent.get(f"/agent/tickets/{ticket.reference}/").content.decode()
    assert 'hx-trigger="load, every 10s, presence"' in page and "is replying" in page
    with time_machine.travel(dt.timedelta(seconds=60)):
        assert agent.get(url).content.decode().strip() == ""


def test_canned_response_prefills_the_reply_without_js(alpha: World) -> None:
    from tickets.models import CannedResponse

    macro = CannedResponse.objects.create(
        tenant=alpha.tenant, title="Thanks", body="Thanks for waiting!"
    )
    ticket = file_ticket(alpha, alpha.contact1, "Macro")
    client = alpha.client(alpha.agent)
    html = client.get(f"/agent/tickets/{ticket.reference}/?macro={macro.pk}").content.decode()
    reply_box = r'<textarea[^>]*id="reply-body"[^>]*>\s*Thanks for waiting!</textarea>'
    assert re.search(reply_box, html)
    assert 'data-body="Thanks for waiting!"' in html


def test_ticket_in_queue_links_to_agent_page(alpha: World) -> None:
    ticket = file_ticket(alpha, alpha.contact1, "Link me")
    html = alpha.client(alpha.agent).get("/agent/queue/").content.decode()
    assert f'href="/agent/tickets/{ticket.reference}/" data-ticket-link' in html
    assert Ticket.objects.for_tenant(alpha.tenant).count() == 1
