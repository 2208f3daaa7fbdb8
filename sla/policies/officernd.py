"""officernd (seeds/000): 24/5 support, SEV 1-3, Ultimate and Standard packages."""

from __future__ import annotations

from ..models import Metric
from .base import (
    WEEKDAYS_MON_FRI,
    CalendarDef,
    PackageDef,
    PolicyTemplate,
    SeverityDef,
    TargetDef,
    hours,
)

CAL = "24/5"

# severity key -> (first response hours: Ultimate, Standard; resolution business days).
TABLE: dict[str, tuple[int, int, int]] = {
    "sev1": (1, 4, 5),
    "sev2": (8, 24, 7),
    "sev3": (10, 24, 14),
}


def _targets(package: str) -> tuple[TargetDef, ...]:
    out = []
    for key, (ultimate, standard, days) in TABLE.items():
        first_hours = ultimate if package == "Ultimate" else standard
        out.append(TargetDef(key, Metric.FIRST_RESPONSE, CAL, minutes=first_hours * 60))
        out.append(TargetDef(key, Metric.RESOLUTION, CAL, business_days=days))
    return tuple(out)


TEMPLATE = PolicyTemplate(
    name="officernd",
    description=(
        "Seed 000 (officernd) as configuration. Readings chosen where the seed is ambiguous: "
        "(1) the seed's first-response table has its two package columns the wrong way round "
        "(it would make the premium package slower); the faster times belong to Ultimate: "
        "Ultimate 1 / 8 / 10 business hours, Standard 4 / 24 / 24 (SEV 1 / 2 / 3). "
        '(2) Business hours are the "24/5" calendar, Monday 00:00 to Friday 24:00 in '
        "Europe/London (the provider's home time zone); no holidays are listed, so none are "
        "loaded. (3) Resolution, both packages: 5 / 7 / 14 business days on the same calendar. "
        '(4) The seed\'s "RestricNormal / SEV 3" is read as "Normal / SEV 3". '
        "(5) The seed does not say what a customer without a contract gets; this template "
        "gives them the Standard package (no-contract rule: default package). "
        "(6) Phone is included with Ultimate only (the caller gives a personal code)."
    ),
    calendars=(CalendarDef(CAL, "Europe/London", hours(WEEKDAYS_MON_FRI, "00:00", "24:00")),),
    severities=(
        SeverityDef(
            "sev1",
            "Critical / SEV 1",
            1,
            "A problem is preventing the platform from functioning normally and there is no "
            "workaround to enable you to continue executing your business operations.",
        ),
        SeverityDef(
            "sev2",
            "Restricted Operations / SEV 2",
            2,
            "A less severe problem that may restrict the usage of the platform but does not "
            "prevent it from operating.",
        ),
        SeverityDef(
            "sev3",
            "Normal / SEV 3",
            3,
            "Questions and feedback on the platform features and functionality.",
        ),
    ),
    packages=(
        PackageDef(
            "Ultimate",
            "Ultimate support package: the fastest first response, and phone support.",
            ("web", "email", "chat", "phone"),
            ("sev1", "sev2", "sev3"),
            _targets("Ultimate"),
        ),
        PackageDef(
            "Standard",
            "Standard support package.",
            ("web", "email", "chat"),
            ("sev1", "sev2", "sev3"),
            _targets("Standard"),
        ),
    ),
    no_contract_rule="default_package",
    default_package="Standard",
    data={
        "product_areas": ["API", "Mobile Apps", "Integrations", "Data Analytics", "Core Product"],
        "agent_tiers": ["agent", "team_lead", "manager", "principal"],
        "phone_requires_personal_code": True,
        "knowledge_base_suggestions": True,
    },
    demo_contracts=((0, "Ultimate"),),
)
