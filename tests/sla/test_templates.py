"""Every policy template against POLICIES.md, cell by cell. The expected tables are typed by hand
from POLICIES.md and the seeds, never derived from the template modules."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from helpdesk.demo import DEMO_TENANTS, demo_load_tenant
from helpdesk.models import Tenant
from sla.models import (
    BusinessCalendar,
    Contract,
    Severity,
    SLAPolicy,
    SLATarget,
    SupportPackage,
)
from sla.policies import available_templates, load_policy_template
from tests.conftest import World

MON_FRI = (0, 1, 2, 3, 4)
FR, RES = "first_response", "resolution"


def calendars(tenant: Tenant) -> dict[str, tuple[str, list[tuple[int, str, str]]]]:
    return {
        c.name: (c.timezone, [(h.weekday, h.start_label, h.end_label) for h in c.hours.all()])
        for c in BusinessCalendar.objects.for_tenant(tenant).prefetch_related("hours")
    }


def severities(tenant: Tenant) -> list[tuple[str, int, bool, str]]:
    return [
        (s.name, s.rank, s.escalation_eligible, s.description)
        for s in Severity.objects.for_tenant(tenant).order_by("rank")
    ]


def targets(tenant: Tenant) -> dict[tuple[str, str, str, int], tuple[Any, ...]]:
    """(package, severity, metric, position) -> (minutes, business days, calendar, eligible,
    condition, condition calendar)."""
    rows = SLATarget.objects.for_tenant(tenant).select_related(
        "package", "severity", "calendar", "condition_calendar"
    )
    return {
        (t.package.name, t.severity.name, t.metric, t.position): (
            t.target_minutes,
            t.target_business_days,
            t.calendar.name,
            t.escalation_eligible,
            t.condition,
            t.condition_calendar.name if t.condition_calendar else None,
        )
        for t in rows
    }


def coverage(tenant: Tenant) -> dict[str, tuple[list[str], list[str]]]:
    return {
        p.name: (sorted(p.channels), sorted(s.name for s in p.severities.all()))
        for p in SupportPackage.objects.for_tenant(tenant).prefetch_related("severities")
    }


def policy(tenant: Tenant) -> SLAPolicy:
    return SLAPolicy.objects.for_tenant(tenant).select_related("default_package").get()


def hours(days: tuple[int, ...], start: str, end: str) -> list[tuple[int, str, str]]:
    return [(d, start, end) for d in days]


def test_all_five_templates_are_registered() -> None:
    assert available_templates() == [
        "apiplatform",
        "officernd",
        "otcommerce",
        "spaceos",
        "webagency",
    ]


def test_officernd(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="officernd")
    t = alpha.tenant
    assert calendars(t) == {"24/5": ("Europe/London", hours(MON_FRI, "00:00", "24:00"))}
    assert severities(t) == [
        (
            "Critical / SEV 1",
            1,
            True,
            "A problem is preventing the platform from functioning normally and there is no "
            "workaround to enable you to continue executing your business operations.",
        ),
        (
            "Restricted Operations / SEV 2",
            2,
            True,
            "A less severe problem that may restrict the usage of the platform but does not "
            "prevent it from operating.",
        ),
        (
            "Normal / SEV 3",
            3,
            True,
            "Questions and feedback on the platform features and functionality.",
        ),
    ]
    s1, s2, s3 = "Critical / SEV 1", "Restricted Operations / SEV 2", "Normal / SEV 3"
    c = "24/5"
    assert targets(t) == {
        # First response: the faster column belongs to Ultimate (POLICIES.md).
        ("Ultimate", s1, FR, 0): (60, None, c, True, "", None),
        ("Ultimate", s2, FR, 0): (480, None, c, True, "", None),
        ("Ultimate", s3, FR, 0): (600, None, c, True, "", None),
        ("Standard", s1, FR, 0): (240, None, c, True, "", None),
        ("Standard", s2, FR, 0): (1440, None, c, True, "", None),
        ("Standard", s3, FR, 0): (1440, None, c, True, "", None),
        ("Ultimate", s1, RES, 0): (None, 5, c, True, "", None),
        ("Ultimate", s2, RES, 0): (None, 7, c, True, "", None),
        ("Ultimate", s3, RES, 0): (None, 14, c, True, "", None),
        ("Standard", s1, RES, 0): (None, 5, c, True, "", None),
        ("Standard", s2, RES, 0): (None, 7, c, True, "", None),
        ("Standard", s3, RES, 0): (None, 14, c, True, "", None),
    }
    assert coverage(t) == {
        "Ultimate": (["chat", "email", "phone", "web"], sorted([s1, s2, s3])),
        "Standard": (["chat", "email", "web"], sorted([s1, s2, s3])),
    }
    p = policy(t)
    assert p.template == "officernd"
    assert (
        p.no_contract_rule == "default_package"
        and p.default_package is not None
        and p.default_package.name == "Standard"
    )
    assert "wrong way round" in p.description and "Ultimate" in p.description


def test_apiplatform(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="apiplatform")
    t = alpha.tenant
    assert calendars(t) == {
        "Standard hours": ("America/Chicago", hours(MON_FRI, "08:00", "17:00")),
        "24/7": ("America/Chicago", hours((0, 1, 2, 3, 4, 5, 6), "00:00", "24:00")),
    }
    assert severities(t) == [
        (
            "Critical",
            1,
            True,
            "The service is completely down or inaccessible, resulting in a major business impact.",
        ),
        (
            "High",
            2,
            True,
            "Major functionality is severely impacted but not completely unavailable, causing "
            "some disruption to users or business processes.",
        ),
        (
            "Medium",
            3,
            True,
            "Partial functionality is affected, may interfere with a project but does not have "
            "current business impact.",
        ),
        (
            "Low",
            4,
            False,
            "Minor functionality is impacted, resulting in minimal disruption or inconvenience "
            "to users.",
        ),
        (
            "Cosmetic",
            5,
            False,
            "Non-critical issues related to visual or aesthetic aspects of the product, without "
            "significant impact on functionality or user experience.",
        ),
    ]
    std, all_ = "Standard hours", "24/7"
    assert targets(t) == {
        ("Break-Fix", "Critical", FR, 0): (1440, None, std, True, "", None),
        ("Break-Fix", "High", FR, 0): (1440, None, std, True, "", None),
        ("Advanced", "Critical", FR, 0): (720, None, std, True, "", None),
        ("Advanced", "High", FR, 0): (720, None, std, True, "", None),
        ("Premium", "Critical", FR, 0): (120, None, all_, True, "", None),
        ("Premium", "High", FR, 0): (240, None, all_, True, "", None),
        ("Premium", "Medium", FR, 0): (480, None, std, True, "", None),
        ("Premium", "Low", FR, 0): (1440, None, std, False, "", None),
        ("Premium", "Cosmetic", FR, 0): (2880, None, std, False, "", None),
    }
    cov = coverage(t)
    assert cov["Break-Fix"][1] == ["Critical", "High"]
    assert cov["Advanced"][1] == ["Critical", "High"]
    assert cov["Premium"][1] == sorted(["Critical", "High", "Medium", "Low", "Cosmetic"])
    p = policy(t)
    assert (
        p.no_contract_rule == "default_package"
        and p.default_package is not None
        and p.default_package.name == "Break-Fix"
    )


def test_webagency(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="webagency")
    t = alpha.tenant
    assert calendars(t) == {
        "Business hours": ("UTC", hours(MON_FRI, "09:00", "17:00")),
        "24/7": ("UTC", hours((0, 1, 2, 3, 4, 5, 6), "00:00", "24:00")),
    }
    assert [s[0] for s in severities(t)] == ["Emergency", "Normal request"]
    assert severities(t)[1][3] == (
        "Everything else, it is a normal request \u2013 no matter how urgent it is."
    )
    pkg = "Support & maintenance contract"
    assert targets(t) == {
        (pkg, "Emergency", FR, 0): (60, None, "24/7", True, "", None),
        (pkg, "Normal request", FR, 0): (480, None, "Business hours", True, "", None),
    }
    p = policy(t)
    assert p.no_contract_rule == "none" and p.default_package is None
    assert "first come, first served" in p.no_contract_note
    assert "example targets" in p.description


def test_otcommerce(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="otcommerce")
    t = alpha.tenant
    assert calendars(t) == {
        "Customer Support": ("Europe/Moscow", hours(MON_FRI, "07:00", "17:00")),
        "Technical Support": ("Europe/Moscow", hours(MON_FRI, "08:00", "17:00")),
        "Working days": ("Europe/Moscow", hours(MON_FRI, "00:00", "24:00")),
        "24/7": ("Europe/Moscow", hours((0, 1, 2, 3, 4, 5, 6), "00:00", "24:00")),
    }
    assert [s[0] for s in severities(t)] == ["Critical (severity 1)", "Normal"]
    crit, norm = "Critical (severity 1)", "Normal"
    assert targets(t) == {
        # Critical: 1 business hour of Technical Support on a working day, 3 wall-clock
        # hours on a weekend; first matching rule wins.
        ("Support", crit, FR, 0): (
            60,
            None,
            "Technical Support",
            True,
            "opened_within",
            "Working days",
        ),
        ("Support", crit, FR, 1): (180, None, "24/7", True, "opened_outside", "Working days"),
        ("Support", crit, RES, 0): (None, 5, "Technical Support", True, "", None),
        ("Support", norm, FR, 0): (60, None, "Customer Support", True, "", None),
        ("Support", norm, RES, 0): (None, 5, "Customer Support", True, "", None),
    }
    p = policy(t)
    assert (
        p.no_contract_rule == "default_package"
        and p.default_package is not None
        and p.default_package.name == "Support"
    )


def test_spaceos(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="spaceos")
    t = alpha.tenant
    assert calendars(t) == {"Support hours": ("Europe/Berlin", hours(MON_FRI, "09:00", "17:00"))}
    assert severities(t) == [
        (
            "System Down",
            1,
            True,
            "The product is nonfunctional or has unrecoverable service failure.",
        ),
        (
            "Critical",
            2,
            True,
            "The use of the Platform is only possible with significant impairments which "
            "render the Platform practically unusable or Business Critical Request.",
        ),
        (
            "High",
            3,
            True,
            "The product is functional, but with consistent issues, or one product area is "
            "nonfunctional, or has degraded functionality with some business impacts.",
        ),
        (
            "Medium",
            4,
            True,
            "The product is functional with minor or intermittent issues. Occasional "
            "functionality degradation :: Minimal business impact.",
        ),
        (
            "Low",
            5,
            True,
            "The product is functional, with no apparent issues. Requests for upgrade "
            "documentation, feature requests, technical information, how-to questions, product "
            "use questions :: No business impact.",
        ),
    ]
    cal = "Support hours"
    assert targets(t) == {
        ("Contract SLA", "System Down", FR, 0): (60, None, cal, True, "", None),
        ("Contract SLA", "Critical", FR, 0): (120, None, cal, True, "", None),
        ("Contract SLA", "High", FR, 0): (240, None, cal, True, "", None),
        ("Contract SLA", "Medium", FR, 0): (480, None, cal, True, "", None),
        ("Contract SLA", "Low", FR, 0): (960, None, cal, True, "", None),
    }
    p = policy(t)
    assert p.no_contract_rule == "none"
    assert "contact your sales representative" in p.no_contract_note


@pytest.mark.parametrize(
    "template", ["officernd", "apiplatform", "webagency", "otcommerce", "spaceos"]
)
def test_loading_twice_duplicates_nothing(alpha: World, template: str) -> None:
    load_policy_template(tenant=alpha.tenant, template=template)
    before = (targets(alpha.tenant), calendars(alpha.tenant), severities(alpha.tenant))
    load_policy_template(tenant=alpha.tenant, template=template)
    assert (targets(alpha.tenant), calendars(alpha.tenant), severities(alpha.tenant)) == before
    assert SLAPolicy.objects.for_tenant(alpha.tenant).count() == 1


def test_other_template_on_configured_tenant_is_refused(alpha: World) -> None:
    load_policy_template(tenant=alpha.tenant, template="spaceos")
    out = StringIO()
    with pytest.raises(CommandError, match="already uses the 'spaceos' template"):
        call_command("load_policy_template", "officernd", "--tenant", "alpha", stdout=out)


def test_management_command(alpha: World) -> None:
    out = StringIO()
    call_command("load_policy_template", "apiplatform", "--tenant", "alpha", stdout=out)
    call_command("load_policy_template", "apiplatform", "--tenant", "alpha", stdout=out)
    assert "Loaded template apiplatform" in out.getvalue()
    assert "nothing changed" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown template"):
        call_command("load_policy_template", "nope", "--tenant", "alpha", stdout=out)
    with pytest.raises(CommandError, match="No tenant"):
        call_command("load_policy_template", "spaceos", "--tenant", "ghost", stdout=out)


def test_create_tenant_with_template(db: None) -> None:
    call_command(
        "create_tenant",
        "acme",
        "--name",
        "Acme",
        "--template",
        "otcommerce",
        "--admin-email",
        "boss@acme.test",
        "--admin-password",
        "pw-123456789",
        stdout=StringIO(),
    )
    tenant = Tenant.objects.get(slug="acme")
    assert policy(tenant).template == "otcommerce"
    assert len(targets(tenant)) == 5


def test_demo_tenant_gets_template_and_example_contract(db: None) -> None:
    spec = next(s for s in DEMO_TENANTS if s.slug == "apiplatform")
    tenant = demo_load_tenant(spec)
    demo_load_tenant(spec)  # idempotent
    assert policy(tenant).template == "apiplatform"
    contracts = list(Contract.objects.for_tenant(tenant).select_related("package", "organization"))
    assert [(c.organization.name, c.package.name) for c in contracts] == [
        ("Globex Payments", "Premium")
    ]
    from channels.email.models import Mailbox

    mailboxes = list(Mailbox.objects.for_tenant(tenant))
    assert [(m.address, m.is_default) for m in mailboxes] == [
        ("support@apiplatform.localhost", True)
    ]
