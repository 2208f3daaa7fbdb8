"""Journeys of the foundation: logging in per tenant host; sessions stay on their host."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Shooter, tenant_url
from tests.conftest import PASSWORD, build_world

pytestmark = pytest.mark.browser


def log_in(page: object, url: str, email: str) -> None:
    page.goto(url + "accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.django_db(transaction=True)
def test_customer_logs_in_and_session_stays_on_its_host(
    live_server: object, new_page: object, shoot: Shooter
) -> None:
    alpha = build_world("alpha")
    build_world("beta")
    page = new_page()  # type: ignore[operator]
    alpha_url = tenant_url(live_server, "alpha")
    log_in(page, alpha_url, alpha.contact1.user.email)
    page.wait_for_url(alpha_url)
    assert alpha.contact1.user.email in page.content()
    shoot(page, "alpha-logged-in")

    # The same browser on beta's host: no session there.
    page.goto(tenant_url(live_server, "beta"))
    assert "Beta" in page.title()
    assert alpha.contact1.user.email not in page.content()
    assert page.get_by_role("link", name="Log in").first.is_visible()
    shoot(page, "beta-anonymous")

    # Replaying alpha's session cookie on beta's host grants nothing either.
    cookie = next(c for c in page.context.cookies(alpha_url) if c["name"] == "sessionid")
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie["value"], "url": tenant_url(live_server, "beta")}]
    )
    page.goto(tenant_url(live_server, "beta"))
    assert alpha.contact1.user.email not in page.content()
    shoot(page, "beta-replayed-cookie")


@pytest.mark.django_db(transaction=True)
def test_member_of_other_tenant_cannot_log_in(
    live_server: object, new_page: object, shoot: Shooter
) -> None:
    build_world("alpha")
    beta = build_world("beta")
    page = new_page()  # type: ignore[operator]
    alpha_url = tenant_url(live_server, "alpha")
    log_in(page, alpha_url, beta.agent.user.email)
    assert "/accounts/login/" in page.url
    assert (
        page.locator(".errorlist, [role=alert], .alert").count() > 0
        or "not correct" in page.content()
    )
    shoot(page, "refused")
