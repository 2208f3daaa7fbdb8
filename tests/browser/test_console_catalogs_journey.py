"""A tenant admin's journey through the catalogs, the priority matrix and branding in real
headless Chromium (no JavaScript needed by these pages; the CSP must not block anything)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sla.models import Severity
from tests.browser.conftest import Shooter, tenant_url
from tests.browser.test_foundation_journeys import log_in
from tests.conftest import build_world
from tests.factories import BusinessImpactFactory
from tests.sweep_makers.console_catalogs import tiny_png
from tickets.models import Priority
from tickets.services import priority_default

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_admin_builds_catalogs_and_brands_the_desk(
    live_server: object, new_page: Any, shoot: Shooter, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    alpha = build_world("alpha")
    impact = BusinessImpactFactory(tenant=alpha.tenant, name="Everyone")
    page = new_page()
    # Every stylesheet, script and image loads (CSP violations and missing files alike).
    failed: list[str] = []
    page.on(
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.url}")
            if r.status >= 400
            and r.request.resource_type != "document"
            and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("console", lambda m: failed.append(m.text) if "Content Security" in m.text else None)
    base = tenant_url(live_server, "alpha")
    log_in(page, base, alpha.admin.user.email)
    page.wait_for_url(base)

    page.goto(base + "manage/catalogs/severities/")
    page.get_by_label("Key").fill("critical")
    page.get_by_label("Name").fill("Critical")
    page.get_by_label("Rank").fill("1")
    page.get_by_label("Description for customers").fill("Production is down.")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(base + "manage/catalogs/severities/")
    assert page.get_by_role("cell", name="Production is down.").is_visible()
    shoot(page, "severity-added")

    # A duplicate key: the error sits next to the field, the text typed is still there.
    page.get_by_label("Key").fill("critical")
    page.get_by_label("Name").fill("Again")
    page.get_by_label("Rank").fill("2")
    page.get_by_role("button", name="Add").click()
    assert "already" in page.locator(".field.has-error .errorlist").first.inner_text()
    assert page.get_by_label("Name").input_value() == "Again"
    shoot(page, "severity-duplicate")

    page.goto(base + "manage/catalogs/priorities/")
    page.get_by_label("Key").fill("p1")
    page.get_by_label("Name").fill("Urgent")
    page.get_by_label("Rank").fill("1")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(base + "manage/catalogs/priorities/")

    page.goto(base + "manage/catalogs/priority-matrix/")
    page.get_by_label("Critical, Everyone").select_option(label="Urgent")
    shoot(page, "matrix")
    page.get_by_role("button", name="Save the matrix").click()
    page.wait_for_url(base + "manage/catalogs/priority-matrix/")
    assert "1 cells changed" in page.content()
    critical = Severity.objects.get(tenant=alpha.tenant, key="critical")
    urgent = Priority.objects.get(tenant=alpha.tenant, key="p1")
    assert (
        priority_default(tenant=alpha.tenant, severity=critical, business_impact=impact) == urgent
    )

    logo = tmp_path / "logo.png"
    logo.write_bytes(tiny_png(b"journey"))
    page.goto(base + "manage/branding/")
    page.get_by_label("Desk name").fill("Alpha Support")
    page.get_by_label("Upload a logo").set_input_files(str(logo))
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(base + "manage/branding/")
    assert page.locator(".brand img").count() == 1
    assert page.evaluate("document.querySelector('.brand img').naturalWidth") == 1
    assert "Alpha Support" in page.locator(".brand").inner_text()
    shoot(page, "branded")
    assert not failed, failed
