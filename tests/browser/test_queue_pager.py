"""The queue's pager in real Chromium: "Next" and "Previous" (a reverse cursor past page 2)
swap the results in place with htmx and push each page's URL, and the pushed URL opened anew
(no JavaScript needed for it) shows the same page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Shooter
from tests.browser.test_ticket_journeys import logged_in
from tests.conftest import build_world
from tests.tickets.page_helpers import file_ticket
from tickets.views import agent_queue

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_pager_walks_forward_and_back_in_place(
    live_server: Any, new_page: Any, shoot: Shooter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_queue, "PAGE_SIZE", 2)
    alpha = build_world("alpha")
    refs = [file_ticket(alpha, alpha.contact1, f"Paged {n}").reference for n in range(7)]
    page, base = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    page.goto(base + "agent/queue/")
    page.evaluate("window.__marker = 'same page'")
    results = page.locator("#queue-results")
    pager = results.get_by_role("navigation", name="Pages")

    def shows(first: str, gone: str) -> None:
        results.get_by_text(first).wait_for()
        results.get_by_text(gone).wait_for(state="detached")

    for number in (2, 3, 4):
        pager.get_by_role("link", name="Next").click()
        page.wait_for_url(re.compile(rf"after=.*page={number}"))
        shows(refs[2 * number - 2], refs[2 * number - 4])
    assert pager.get_by_role("link", name="Next").count() == 0
    shoot(page, "page-4")
    pager.get_by_role("link", name="Previous").click()
    page.wait_for_url(re.compile(r"before=.*page=3"))
    shows(refs[4], refs[6])
    assert [results.get_by_text(ref).count() for ref in refs] == [0, 0, 0, 0, 1, 1, 0]
    page_three = page.url
    pager.get_by_role("link", name="Previous").click()
    page.wait_for_url(re.compile(r"before=.*page=2"))
    shows(refs[2], refs[4])
    pager.get_by_role("link", name="Previous").click()
    page.wait_for_url(base + "agent/queue/")
    shows(refs[0], refs[2])
    assert pager.get_by_role("link", name="Previous").count() == 0
    assert page.evaluate("window.__marker") == "same page"  # swapped, never reloaded
    shoot(page, "back-to-page-1")
    # The pushed URL of a page reached backwards, opened anew: the same page.
    page.goto(page_three)
    assert [results.get_by_text(ref).count() for ref in refs] == [0, 0, 0, 0, 1, 1, 0]
    assert "Page 3" in pager.inner_text()
