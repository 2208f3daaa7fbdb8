"""Console packages (/manage/packages/): the SLA matrix editor, coverage, delete, the SLA policy,
roles and tenants. A matrix change goes through package_update and moves open clocks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from sla.models import (
    BusinessCalendar,
    Metric,
    PackageSeverity,
    Severity,
    SLAClock,
    SLAPolicy,
    SLATarget,
    SupportPackage,
)
from sla.policies import load_policy_template
from sla.services import contract_create
from tests.conftest import World
from tests.console.test_service_calendars import form_fields
from tests.factories import BusinessCalendarFactory, SeverityFactory, SupportPackageFactory
from tests.tickets.page_helpers import TUESDAY_9, assert_csp_clean, file_ticket, officernd

pytestmark = pytest.mark.django_db


def cell(severity: Severity, metric: str, rule: int = 0) -> str:
    return f"t-{severity.pk}-{metric}-{rule}"


def targets_of(package: SupportPackage) -> list[tuple[object, ...]]:
    return list(
        SLATarget.objects.filter(package=package)
        .order_by("severity__rank", "metric", "position")
        .values_list(
            "severity__key",
            "metric",
            "position",
            "target_minutes",
            "target_business_days",
            "calendar__name",
            "condition",
            "condition_calendar__name",
            "escalation_eligible",
            "warn_at_percent",
        )
    )


def test_list_and_edit_render(alpha: World) -> None:
    officernd(alpha)
    client = alpha.client(alpha.admin)
    response = client.get("/manage/packages/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ultimate" in html and "Standard" in html and "default" in html
    assert_csp_clean(html)
    ultimate = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    html = client.get(f"/manage/packages/{ultimate.pk}/").content.decode()
    assert_csp_clean(html)
    sev2 = Severity.objects.for_tenant(alpha.tenant).get(key="sev2")
    fields = form_fields(html, "package")
    assert fields[f"{cell(sev2, 'first_response')}-amount"] == "8"
    assert fields[f"{cell(sev2, 'first_response')}-unit"] == "hours"
    assert fields[f"{cell(sev2, 'resolution')}-unit"] == "days"
    assert fields[f"{cell(sev2, 'first_response', 1)}-amount"] == ""  # room for another rule
    assert fields[f"cover-{sev2.pk}"] == "on"
    assert alpha.org1.name in html  # held by


@time_machine.travel(TUESDAY_9, tick=False)
def test_matrix_cell_change_moves_the_open_tickets_due_time(alpha: World) -> None:
    severities = officernd(alpha)
    sev2 = severities["sev2"]
    ticket = file_ticket(alpha, alpha.contact1, "VAT is wrong", sev2)
    clock = SLAClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert clock.due_at == TUESDAY_9 + dt.timedelta(hours=8)
    ultimate = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    before = targets_of(ultimate)

    client = alpha.client(alpha.admin)
    url = f"/manage/packages/{ultimate.pk}/"
    data = form_fields(client.get(url).content.decode(), "package")
    data[f"{cell(sev2, 'first_response')}-amount"] = "90"
    data[f"{cell(sev2, 'first_response')}-unit"] = "minutes"
    data[f"{cell(sev2, 'first_response')}-warn"] = "50"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    target = SLATarget.objects.get(package=ultimate, severity=sev2, metric=Metric.FIRST_RESPONSE)
    assert (target.target_minutes, target.target_business_days) == (90, None)
    assert target.warn_at_percent == 50
    clock.refresh_from_db()
    assert clock.due_at == TUESDAY_9 + dt.timedelta(minutes=90)
    assert clock.target_id == target.pk  # the same row: the clock keeps its link
    # Nothing else in the matrix changed.
    after = targets_of(ultimate)
    assert [t for t in after if t[:2] != ("sev2", "first_response")] == [
        t for t in before if t[:2] != ("sev2", "first_response")
    ]
    page = client.get(response["Location"]).content.decode()
    assert "recomputed" in page


@time_machine.travel(TUESDAY_9, tick=False)
def test_clearing_a_cell_removes_the_target_and_its_clock(alpha: World) -> None:
    severities = officernd(alpha)
    sev2 = severities["sev2"]
    ticket = file_ticket(alpha, alpha.contact1, "Slow sync", sev2)
    ultimate = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    client = alpha.client(alpha.admin)
    url = f"/manage/packages/{ultimate.pk}/"
    data = form_fields(client.get(url).content.decode(), "package")
    data[f"{cell(sev2, 'resolution')}-amount"] = ""
    assert client.post(url, data).status_code == 302
    assert not SLATarget.objects.filter(
        package=ultimate, severity=sev2, metric=Metric.RESOLUTION
    ).exists()
    assert not SLAClock.objects.filter(
        ticket=ticket, metric=Metric.RESOLUTION, met_at__isnull=True, due_at__isnull=False
    ).exists()


def test_invalid_cells_show_inline_errors_and_keep_everything(alpha: World) -> None:
    severities = officernd(alpha)
    sev1, sev2, sev3 = severities["sev1"], severities["sev2"], severities["sev3"]
    ultimate = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    before = targets_of(ultimate)
    client = alpha.client(alpha.admin)
    url = f"/manage/packages/{ultimate.pk}/"
    data = form_fields(client.get(url).content.decode(), "package")
    data["name"] = "Ultimate Plus"
    data[f"{cell(sev1, 'first_response')}-amount"] = "soon"
    data[f"{cell(sev2, 'first_response')}-warn"] = "150"
    data[f"{cell(sev2, 'resolution')}-amount"] = "1.5"  # business days are whole
    data[f"{cell(sev3, 'next_response')}-amount"] = "4"  # a new target, valid
    data[f"{cell(sev3, 'next_response')}-unit"] = "hours"
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert_csp_clean(html)
    assert "Nothing was saved" in html
    assert f'id="{cell(sev1, "first_response")}-errors"' in html
    assert "The duration must be a number" in html
    assert "Warn at a share from 1 to 100" in html
    assert "Business days are a whole number" in html
    kept = form_fields(html, "package")
    assert kept["name"] == "Ultimate Plus"
    assert kept[f"{cell(sev1, 'first_response')}-amount"] == "soon"
    assert kept[f"{cell(sev2, 'first_response')}-warn"] == "150"
    assert kept[f"{cell(sev3, 'next_response')}-amount"] == "4"
    assert kept[f"{cell(sev3, 'next_response')}-unit"] == "hours"
    assert targets_of(ultimate) == before
    assert SupportPackage.objects.get(pk=ultimate.pk).name == "Ultimate"


def test_uncovered_severity_with_targets_and_always_rule_order(alpha: World) -> None:
    severities = officernd(alpha)
    sev1, sev3 = severities["sev1"], severities["sev3"]
    ultimate = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    client = alpha.client(alpha.admin)
    url = f"/manage/packages/{ultimate.pk}/"
    data = form_fields(client.get(url).content.decode(), "package")
    data.pop(f"cover-{sev3.pk}")
    # A second rule after an "always" rule would never apply.
    data[f"{cell(sev1, 'first_response', 1)}-amount"] = "3"
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f"{sev3.name} is not covered" in html
    assert "must come last" in html
    assert PackageSeverity.objects.filter(package=ultimate, severity=sev3).exists()

    # Clearing sev3's cells makes the coverage change valid.
    data = form_fields(client.get(url).content.decode(), "package")
    data.pop(f"cover-{sev3.pk}")
    for metric in Metric.values:
        data[f"{cell(sev3, metric)}-amount"] = ""
    assert client.post(url, data).status_code == 302
    assert not PackageSeverity.objects.filter(package=ultimate, severity=sev3).exists()
    assert not SLATarget.objects.filter(package=ultimate, severity=sev3).exists()


def test_conditional_rules_round_trip_unchanged(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="otcommerce")
    package = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Support")
    before = targets_of(package)
    assert any(t[6] == "opened_within" for t in before)
    client = alpha.client(alpha.admin)
    url = f"/manage/packages/{package.pk}/"
    html = client.get(url).content.decode()
    assert "Opened within business hours" in html
    response = client.post(url, form_fields(html, "package"))
    assert response.status_code == 302
    assert targets_of(package) == before


def test_add_a_conditional_rule(alpha: World) -> None:
    severity = SeverityFactory(tenant=alpha.tenant, key="crit", name="Critical", rank=1)
    office = BusinessCalendarFactory(tenant=alpha.tenant, name="Office")
    always = BusinessCalendarFactory(
        tenant=alpha.tenant, name="Always", hours=[(d, 0, 1440) for d in range(7)]
    )
    package = SupportPackageFactory(tenant=alpha.tenant, name="Premium")
    client = alpha.client(alpha.admin)
    url = f"/manage/packages/{package.pk}/"
    data = form_fields(client.get(url).content.decode(), "package")
    assert f"cover-{severity.pk}" not in data  # a package starts covering nothing
    data[f"cover-{severity.pk}"] = "on"
    c0, c1 = cell(severity, "first_response"), cell(severity, "first_response", 1)
    data.update(
        {
            f"{c0}-amount": "1",
            f"{c0}-unit": "hours",
            f"{c0}-calendar": str(office.pk),
            f"{c0}-condition": "opened_within",
            f"{c0}-condition_calendar": "",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302
    # The saved cell shows a blank second rule; fill it as the fallback.
    data = form_fields(client.get(url).content.decode(), "package")
    data.update(
        {
            f"{c1}-amount": "3",
            f"{c1}-unit": "hours",
            f"{c1}-calendar": str(always.pk),
            f"{c1}-condition": "",
            f"{c1}-escalate": "",
        }
    )
    data.pop(f"{c1}-escalate")
    assert client.post(url, data).status_code == 302
    assert targets_of(package) == [
        ("crit", "first_response", 0, 60, None, "Office", "opened_within", "Office", True, 75),
        ("crit", "first_response", 1, 180, None, "Always", "", None, False, 75),
    ]


def test_create_package(alpha: World) -> None:
    severity = SeverityFactory(tenant=alpha.tenant, key="high", name="High", rank=1)
    SeverityFactory(tenant=alpha.tenant, key="low", name="Low", rank=2)
    calendar = BusinessCalendarFactory(tenant=alpha.tenant, name="Office")
    client = alpha.client(alpha.admin)
    page = client.get("/manage/packages/new/")
    assert page.status_code == 200
    data = form_fields(page.content.decode(), "package")
    data.update(
        {
            "name": "Gold",
            "channels": ["web", "phone"],
            f"{cell(severity, 'resolution')}-amount": "3",
            f"{cell(severity, 'resolution')}-unit": "days",
            f"{cell(severity, 'resolution')}-calendar": str(calendar.pk),
        }
    )
    response = client.post("/manage/packages/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    package = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Gold")
    assert package.channels == ["web", "phone"]
    assert set(package.severities.values_list("key", flat=True)) == {"high", "low"}
    assert targets_of(package) == [("high", "resolution", 0, None, 3, "Office", "", None, True, 75)]
    # The same name again is a field error, with the matrix kept.
    response = client.post("/manage/packages/new/", data)
    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_matrix_without_calendars_says_so(alpha: World) -> None:
    severity = SeverityFactory(tenant=alpha.tenant)
    client = alpha.client(alpha.admin)
    html = client.get("/manage/packages/new/").content.decode()
    assert "There is no business calendar yet" in html
    data = form_fields(html, "package")
    data.update({"name": "X", f"{cell(severity, 'resolution')}-amount": "2"})
    response = client.post("/manage/packages/new/", data)
    assert response.status_code == 400
    assert "Create a calendar first." in response.content.decode()
    assert not BusinessCalendar.objects.for_tenant(alpha.tenant).exists()


def test_delete_refused_while_held_or_default(alpha: World) -> None:
    officernd(alpha)
    client = alpha.client(alpha.admin)
    ultimate = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Ultimate")
    standard = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Standard")
    for package in (ultimate, standard):  # held by org1; the default package
        page = client.get(f"/manage/packages/{package.pk}/delete/").content.decode()
        assert "cannot be deleted" in page
        assert client.post(f"/manage/packages/{package.pk}/delete/").status_code == 409
        assert SupportPackage.objects.filter(pk=package.pk).exists()
    spare = SupportPackageFactory(tenant=alpha.tenant, name="Spare")
    response = client.post(f"/manage/packages/{spare.pk}/delete/")
    assert response.status_code == 302
    assert not SupportPackage.objects.filter(pk=spare.pk).exists()


def test_sla_policy(alpha: World) -> None:
    officernd(alpha)
    standard = SupportPackage.objects.for_tenant(alpha.tenant).get(name="Standard")
    client = alpha.client(alpha.admin)
    page = client.get("/manage/packages/policy/")
    assert page.status_code == 200
    assert_csp_clean(page.content.decode())
    data = form_fields(page.content.decode(), "policy")
    assert data["no_contract_rule"] == "default_package"
    assert data["default_package"] == str(standard.pk)

    data.update({"default_package": "", "no_contract_note": "Typed note"})
    response = client.post("/manage/packages/policy/", data)
    assert response.status_code == 400
    assert "Choose the package that applies by default." in response.content.decode()
    assert "Typed note" in response.content.decode()

    data.update({"no_contract_rule": "none", "pause_on_hold": "on"})
    assert client.post("/manage/packages/policy/", data).status_code == 302
    policy = SLAPolicy.objects.get(tenant=alpha.tenant)
    assert policy.no_contract_rule == "none" and policy.default_package is None
    assert policy.pause_on_hold and policy.no_contract_note == "Typed note"


def test_contract_package_select_is_tenant_scoped(alpha: World, beta: World) -> None:
    theirs = SupportPackageFactory(tenant=beta.tenant, name="BETA-ONLY")
    client = alpha.client(alpha.admin)
    page = client.get("/manage/packages/policy/").content.decode()
    assert "BETA-ONLY" not in page
    data = form_fields(page, "policy")
    data.update({"no_contract_rule": "default_package", "default_package": str(theirs.pk)})
    response = client.post("/manage/packages/policy/", data)
    assert response.status_code == 400
    assert SLAPolicy.objects.get(tenant=alpha.tenant).default_package_id is None


@pytest.mark.parametrize(
    "path",
    [
        "/manage/packages/",
        "/manage/packages/new/",
        "/manage/packages/policy/",
        "/manage/packages/{pk}/",
        "/manage/packages/{pk}/delete/",
    ],
)
def test_roles(alpha: World, path: str) -> None:
    package = SupportPackageFactory(tenant=alpha.tenant)
    url = path.format(pk=package.pk)
    for member in (alpha.agent, alpha.contact1):
        assert alpha.client(member).get(url).status_code == 404, (member, url)
        assert alpha.client(member).post(url, {"name": "x"}).status_code == 404, (member, url)
    anonymous = Client(HTTP_HOST=alpha.host).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert SupportPackage.objects.filter(pk=package.pk).exists()


def test_other_tenants_package_is_404(alpha: World, beta: World) -> None:
    package = SupportPackageFactory(tenant=alpha.tenant, name="ALPHA-ONLY")
    contract_create(
        tenant=alpha.tenant, organization=alpha.org1, package=package, starts_on=dt.date(2020, 1, 1)
    )
    client = beta.client(beta.admin)
    for path in ("", "delete/"):
        assert client.get(f"/manage/packages/{package.pk}/{path}").status_code == 404
        assert client.post(f"/manage/packages/{package.pk}/{path}", {}).status_code == 404
    assert "ALPHA-ONLY" not in client.get("/manage/packages/").content.decode()
