"""Journeys of the portal and the agent workspace in real headless Chromium: a customer files a
ticket and sees its clock; an agent finds it at the top of the queue, replies and notes; a
package's SLA target changes and the due time moves; organizations and tenants stay apart."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import dateformat

from kb.models import Article
from kb.services import article_create
from sla.models import Metric, SLAClock, SupportPackage
from tests.browser.conftest import Shooter, tenant_url
from tests.browser.test_foundation_journeys import log_in
from tests.conftest import World, build_world
from tests.tickets.page_helpers import file_ticket, officernd
from tickets.models import Ticket

pytestmark = pytest.mark.browser

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
BERLIN = "Europe/Berlin"


def logged_in(new_page: Any, live_server: Any, world: World, email: str) -> tuple[Any, str]:
    page = new_page(timezone_id=BERLIN)
    base = tenant_url(live_server, world.tenant.slug)
    log_in(page, base, email)
    page.wait_for_url(base)
    return page, base


def berlin_words(at: dt.datetime) -> str:
    """How the pages write a near instant for a viewer in Berlin ("Tue 10:00")."""
    from zoneinfo import ZoneInfo

    return dateformat.format(at.astimezone(ZoneInfo(BERLIN)), "D H:i")


class CspWatch:
    """Collects the console's Content Security Policy complaints of the pages it watches."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def __call__(self, page: Any) -> Any:
        def listen(msg: Any) -> None:
            if "Content Security Policy" in msg.text:
                self.violations.append(msg.text)

        page.on("console", listen)
        return page


@pytest.fixture
def watch_csp() -> CspWatch:
    return CspWatch()


@pytest.mark.django_db(transaction=True)
def test_customer_files_agent_answers_note_stays_internal(
    live_server: Any, new_page: Any, shoot: Shooter, watch_csp: CspWatch, tmp_path: Path
) -> None:
    alpha = build_world("alpha")
    severities = officernd(alpha)
    article_create(
        tenant=alpha.tenant,
        author=alpha.admin.user,
        title="Reset your password",
        body_markdown="Use the reset link on the login page.",
        status=Article.Status.PUBLISHED,
    )
    # Tickets already waiting: a slower SEV 3 and one without a clock.
    later = file_ticket(alpha, alpha.contact2, "Export question", severities["sev3"])
    no_clock = file_ticket(alpha, alpha.contact2, "No severity given")

    # 1. The customer files a SEV 1 ticket with a CC and an attachment.
    customer, base = logged_in(new_page, live_server, alpha, alpha.contact1.user.email)
    watch_csp(customer)
    customer.goto(base + "tickets/new/")
    customer.get_by_label("Subject").press_sequentially("Cannot reset my password", delay=20)
    customer.locator("#kb-suggestions").get_by_role("link", name="Reset your password").wait_for()
    shoot(customer, "kb-suggestion")
    customer.get_by_text("Critical / SEV 1", exact=True).click()
    customer.get_by_label("Description").fill("The reset e-mail never arrives.")
    customer.get_by_label("Copy others (CC)").fill("boss@example.org")
    screenshot = tmp_path / "screen.png"
    screenshot.write_bytes(PNG)
    customer.get_by_label("Attachments").set_input_files(str(screenshot))
    customer.locator("[data-file-list] li").filter(has_text="screen.png").wait_for()
    shoot(customer, "form-filled")
    customer.get_by_role("button", name="Send ticket").click()
    customer.wait_for_url(re.compile(r"/tickets/AL-\d+/$"))
    ticket = Ticket.objects.for_tenant(alpha.tenant).get(subject="Cannot reset my password")
    assert ticket.cc == ["boss@example.org"] and ticket.attachments.count() == 1
    clock = customer.locator("#sla [data-clock=first_response]")
    first = SLAClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert first.due_at is not None
    assert "First response due in" in clock.inner_text()
    assert f"{berlin_words(first.due_at)} your time" in clock.inner_text()
    assert customer.get_by_role("link", name="screen.png").is_visible()
    shoot(customer, "ticket-with-clock")

    # 2. The agent finds it at the top of the queue (j selects, o opens).
    agent, _ = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    watch_csp(agent)
    agent.goto(base + "agent/queue/")
    rows = agent.locator("[data-queue-row] a[data-ticket-link]")
    assert rows.nth(0).inner_text().startswith(ticket.reference)
    queue_text = agent.locator("#queue-results").inner_text()
    assert queue_text.index(later.reference) < queue_text.index(no_clock.reference)
    shoot(agent, "queue")
    agent.keyboard.press("j")
    assert "is-current" in (agent.locator("[data-queue-row]").nth(0).get_attribute("class") or "")
    agent.keyboard.press("o")
    agent.wait_for_url(re.compile(rf"/agent/tickets/{ticket.reference}/$"))

    # 3. It replies (r focuses the reply): the first response is met, and the clock says so.
    agent.keyboard.press("r")
    assert agent.evaluate("document.activeElement.id") == "reply-body"
    agent.keyboard.type("Hello! We are resending the reset e-mail now.")
    agent.get_by_role("button", name="Send reply").click()
    agent.wait_for_url(re.compile(r"#message-\d+$"))
    assert "First response met" in agent.locator("#sla").inner_text()
    shoot(agent, "replied")

    # 4. And adds an internal note (n focuses it).
    agent.keyboard.press("n")
    assert agent.evaluate("document.activeElement.id") == "note-body"
    agent.keyboard.type("NOTE: mail relay was blocking this domain.")
    agent.get_by_role("button", name="Add internal note").click()
    agent.wait_for_url(re.compile(r"#message-\d+$"))
    note = agent.locator(".msg-note").filter(has_text="mail relay was blocking")
    assert note.is_visible()
    shoot(agent, "noted")

    # 5. The customer sees the reply and the met clock, never the note.
    customer.reload()
    body = customer.locator("main").inner_text()
    assert "We are resending the reset e-mail now." in body
    assert "First response met" in body
    assert "mail relay" not in customer.content() and "Internal note" not in body
    shoot(customer, "customer-sees-reply-not-note")
    assert not watch_csp.violations


@pytest.mark.django_db(transaction=True)
def test_package_target_change_moves_the_due_time(
    live_server: Any, new_page: Any, shoot: Shooter, watch_csp: CspWatch
) -> None:
    """The admin opens the package in the console's SLA matrix editor, changes one cell
    (Ultimate x SEV 2 x first response: 8 → 2 business hours) and saves; the agent's page shows
    the moved due time."""
    alpha = build_world("alpha")
    severities = officernd(alpha)
    ticket = file_ticket(alpha, alpha.contact1, "VAT is wrong", severities["sev2"])
    before = SLAClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE).due_at
    assert before is not None

    agent, base = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    agent.goto(base + f"agent/tickets/{ticket.reference}/")
    assert berlin_words(before) in agent.locator("#sla [data-clock=first_response]").inner_text()
    shoot(agent, "before")

    admin, _ = logged_in(new_page, live_server, alpha, alpha.admin.user.email)
    watch_csp(admin)
    package = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    admin.goto(base + f"manage/packages/{package.pk}/")
    cell = f"{severities['sev2'].name}, First response, rule 1: "
    duration = admin.get_by_label(cell + "Duration")
    assert duration.input_value() == "8"
    assert admin.get_by_label(cell + "Unit").input_value() == "hours"
    duration.fill("2")
    shoot(admin, "matrix-cell-changed")
    admin.get_by_role("button", name="Save package").click()
    admin.get_by_text("the open tickets' clocks were recomputed").wait_for()
    assert admin.get_by_label(cell + "Duration").input_value() == "2"
    shoot(admin, "matrix-saved")
    after = SLAClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE).due_at
    assert after is not None and after < before

    agent.reload()
    text = agent.locator("#sla [data-clock=first_response]").inner_text()
    assert berlin_words(after) in text and berlin_words(before) not in text
    assert "2 h of business time" in agent.locator("#sla").inner_text()  # the explanation
    shoot(agent, "after")
    assert not watch_csp.violations


@pytest.mark.django_db(transaction=True)
def test_customer_of_one_organization_cannot_open_anothers_ticket(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    theirs = file_ticket(alpha, alpha.contact2, "ORG-TWO-SECRET outage")
    page, base = logged_in(new_page, live_server, alpha, alpha.owner1.user.email)
    response = page.goto(base + f"tickets/{theirs.reference}/")
    assert response is not None and response.status == 404
    assert "ORG-TWO-SECRET" not in page.content()
    page.goto(base + "tickets/")
    assert theirs.reference not in page.content()
    shoot(page, "not-found")


@pytest.mark.django_db(transaction=True)
def test_session_of_one_tenant_shows_nothing_on_another(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    beta = build_world("beta")
    secret = file_ticket(beta, beta.contact1, "BETA-SECRET invoice")
    page, alpha_base = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    page.goto(alpha_base + "agent/queue/")
    shoot(page, "alpha-queue")
    beta_base = tenant_url(live_server, "beta")
    for path in ("agent/queue/", "tickets/", f"tickets/{secret.reference}/"):
        page.goto(beta_base + path)
        assert "/accounts/login/" in page.url, path
        assert "BETA-SECRET" not in page.content()
    # Alpha's session cookie replayed on beta's host is anonymous there too.
    cookie = next(c for c in page.context.cookies(alpha_base) if c["name"] == "sessionid")
    page.context.add_cookies([{"name": "sessionid", "value": cookie["value"], "url": beta_base}])
    page.goto(beta_base + f"agent/tickets/{secret.reference}/")
    assert "/accounts/login/" in page.url and "BETA-SECRET" not in page.content()
    shoot(page, "beta-asks-to-log-in")
