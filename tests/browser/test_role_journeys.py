"""Each role's everyday path, walked in real headless Chromium from the login page: a customer
files a ticket and finds it in their list; an agent answers from the queue with a knowledge-base
link the customer can follow; an admin opens every section of the console without an error or
a Content Security Policy complaint."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kb.models import Article
from kb.services import article_create
from tests.browser.conftest import Shooter, tenant_url
from tests.browser.test_foundation_journeys import log_in
from tests.conftest import World, build_world
from tests.tickets.page_helpers import file_ticket, officernd
from tickets.models import Message, Ticket

pytestmark = pytest.mark.browser


class Watch:
    """What the browser complains about on the pages it watches: CSP violations, script errors,
    and any response of the site that is a server error."""

    def __init__(self) -> None:
        self.csp: list[str] = []
        self.errors: list[str] = []
        self.server_errors: list[str] = []

    def __call__(self, page: Any) -> Any:
        def console(msg: Any) -> None:
            if "Content Security Policy" in msg.text:
                self.csp.append(msg.text)

        def response(resp: Any) -> None:
            if resp.status >= 500:
                self.server_errors.append(f"{resp.status} {resp.url}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", response)
        return page

    def assert_clean(self) -> None:
        assert not self.csp, self.csp
        assert not self.errors, self.errors
        assert not self.server_errors, self.server_errors


def logged_in(new_page: Any, live_server: Any, world: World, email: str) -> tuple[Any, str]:
    page = new_page(timezone_id="Europe/Berlin")
    base = tenant_url(live_server, world.tenant.slug)
    log_in(page, base, email)
    page.wait_for_url(base)
    return page, base


@pytest.mark.django_db(transaction=True)
def test_customer_files_a_ticket_and_finds_it_in_the_list(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    officernd(alpha)
    watch = Watch()
    customer, base = logged_in(new_page, live_server, alpha, alpha.contact1.user.email)
    watch(customer)

    customer.goto(base + "tickets/new/")
    # Sent incomplete first: the errors show inline and what was written stays.
    customer.get_by_label("Description").fill("Every invoice since Monday shows 0 % VAT.")
    customer.get_by_role("button", name="Send ticket").click()
    customer.locator(".errorlist").first.wait_for()
    assert customer.get_by_label("Description").input_value().startswith("Every invoice")
    shoot(customer, "inline-errors")

    customer.get_by_label("Subject").fill("Invoices show the wrong VAT")
    customer.get_by_text("Restricted Operations / SEV 2", exact=True).click()
    customer.get_by_label("Copy others (CC)").fill("finance@example.org")
    shoot(customer, "form-filled")
    customer.get_by_role("button", name="Send ticket").click()
    customer.wait_for_url(re.compile(r"/tickets/AL-\d+/$"))
    ticket = Ticket.objects.for_tenant(alpha.tenant).get(subject="Invoices show the wrong VAT")
    assert ticket.cc == ["finance@example.org"]
    assert "First response due in" in customer.locator("#sla").inner_text()
    shoot(customer, "ticket-page")

    customer.goto(base + "tickets/")
    row = customer.locator("table.tickets tbody tr").filter(has_text=ticket.reference)
    assert row.count() == 1
    assert "Invoices show the wrong VAT" in row.inner_text()
    shoot(customer, "ticket-list")
    row.get_by_role("link", name=ticket.reference).click()
    customer.wait_for_url(re.compile(rf"/tickets/{ticket.reference}/$"))
    watch.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_agent_links_a_kb_article_and_the_customer_follows_it(
    live_server: Any, new_page: Any, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    severities = officernd(alpha)
    article = article_create(
        tenant=alpha.tenant,
        author=alpha.admin.user,
        title="Correcting the VAT rate",
        body_markdown="Open **Settings → Taxes** and pick the rate of your country.",
        status=Article.Status.PUBLISHED,
    )
    ticket = file_ticket(alpha, alpha.contact1, "Invoices show the wrong VAT", severities["sev2"])
    watch = Watch()

    agent, base = logged_in(new_page, live_server, alpha, alpha.agent.user.email)
    watch(agent)
    agent.goto(base + "agent/queue/")
    agent.locator("[data-queue-row] a[data-ticket-link]").filter(has_text=ticket.reference).click()
    agent.wait_for_url(re.compile(rf"/agent/tickets/{ticket.reference}/$"))
    agent.get_by_label("Reply to the customer").fill("This article shows how:")
    agent.get_by_label("Link an article").press_sequentially("VAT rate", delay=20)
    results = agent.locator("#kb-results")
    results.get_by_role("link", name="Correcting the VAT rate").wait_for()
    shoot(agent, "picker-results")
    results.get_by_role("button", name="Insert link").click()
    body = agent.get_by_label("Reply to the customer").input_value()
    # The inserted link keeps the address the agent is on, port included.
    expected = f"[Correcting the VAT rate]({base}kb/{article.slug}/)"
    assert body.startswith("This article shows how:") and body.endswith(expected), body
    agent.get_by_role("button", name="Send reply").click()
    agent.wait_for_url(re.compile(r"#message-\d+$"))
    assert "First response met" in agent.locator("#sla").inner_text()
    shoot(agent, "replied")
    reply = Message.objects.for_tenant(alpha.tenant).get(ticket=ticket, public=True)
    assert f'href="{base}kb/{article.slug}/"' in reply.body_html

    customer, _ = logged_in(new_page, live_server, alpha, alpha.contact1.user.email)
    watch(customer)
    customer.goto(base + f"tickets/{ticket.reference}/")
    link = customer.locator(".conversation").get_by_role("link", name="Correcting the VAT rate")
    assert link.get_attribute("href") == f"{base}kb/{article.slug}/"
    shoot(customer, "customer-sees-link")
    link.click()
    customer.wait_for_url(f"{base}kb/{article.slug}/")
    assert customer.get_by_role("heading", name="Correcting the VAT rate").is_visible()
    shoot(customer, "article-opened")
    watch.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_admin_opens_every_console_section(live_server: Any, new_page: Any, shoot: Shooter) -> None:
    alpha = build_world("alpha")
    officernd(alpha)
    watch = Watch()
    admin, base = logged_in(new_page, live_server, alpha, alpha.admin.user.email)
    watch(admin)
    admin.goto(base + "manage/")
    sections = admin.locator("nav.console-nav a").evaluate_all(
        "links => links.map(a => [a.textContent.trim(), a.getAttribute('href')])"
    )
    hrefs = [href for _label, href in sections]
    for wanted in ("/manage/catalogs/", "/manage/packages/", "/manage/organizations/"):
        assert wanted in hrefs, hrefs
    for label, href in sections:
        response = admin.goto(base + href.lstrip("/"))
        assert response is not None and response.status == 200, (label, href)
        assert admin.locator("main h1").first.is_visible(), (label, href)
        side = admin.locator("nav.console-nav a[aria-current=page]")
        if side.count():  # the sections drawn inside the console mark where the admin is
            assert side.get_attribute("href") == href, (label, href)
        # Nothing wider than a laptop screen pushes the page sideways.
        assert admin.evaluate("document.documentElement.scrollWidth") <= 1280, (label, href)
        shoot(admin, re.sub(r"\W+", "-", label.lower()).strip("-"))
    watch.assert_clean()
