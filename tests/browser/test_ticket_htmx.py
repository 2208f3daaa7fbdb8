"""The htmx parts of the ticket pages in real Chromium: the form's fields follow the chosen
ticket type, and the queue's filters swap the results in place (and push the URL)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sla.models import Severity
from sla.policies import load_policy_template
from tests.browser.conftest import Shooter
from tests.browser.test_ticket_journeys import logged_in
from tests.conftest import build_world
from tests.tickets.page_helpers import file_ticket

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_custom_fields_follow_the_ticket_type(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    load_policy_template(tenant=alpha.tenant, template="spaceos")  # types, "where" on bugs
    page, base = logged_in(new_page, live_server, alpha, alpha.contact1.user.email)
    page.goto(base + "tickets/new/")
    page.get_by_label("Subject").fill("Typed before the type changed")
    where = page.get_by_label("Where does it happen?")
    assert where.count() == 0  # the first type, feature request, has no such field
    assert not page.get_by_role("button", name="Update the form for this type").is_visible()
    page.get_by_label("Type of request").select_option(label="Bug")
    where.wait_for()
    where.select_option(label="Mobile app")
    assert page.get_by_label("Subject").input_value() == "Typed before the type changed"
    shoot(page, "bug-fields")
    page.get_by_label("Type of request").select_option(label="Question")
    where.wait_for(state="detached")
    shoot(page, "question-fields")


@pytest.mark.django_db(transaction=True)
def test_queue_filters_swap_results_in_place(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    load_policy_template(tenant=alpha.tenant, template="officernd")
    severities = {s.key: s for s in Severity.objects.for_tenant(alpha.tenant)}
    critical = file_ticket(alpha, alpha.contact1, "Critical one", severities["sev1"])
    normal = file_ticket(alpha, alpha.contact1, "Normal one", severities["sev3"])
    page, base = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    page.goto(base + "agent/queue/")
    page.evaluate("window.__marker = 'same page'")
    page.get_by_label("Severity").select_option(label=severities["sev3"].name)
    page.wait_for_url(re.compile(r"severity="))
    results = page.locator("#queue-results")
    results.get_by_text(normal.reference).wait_for()
    assert critical.reference not in results.inner_text()
    assert page.evaluate("window.__marker") == "same page"  # swapped, not reloaded
    shoot(page, "filtered")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("Critical")
    page.get_by_label("Severity").select_option(index=0)
    results.get_by_text(critical.reference).wait_for()
    shoot(page, "searched")
