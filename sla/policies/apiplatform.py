"""apiplatform (seeds/001): Break-Fix, Advanced and Premium; acknowledgement times."""

from __future__ import annotations

from ..models import Metric
from .base import (
    EVERY_DAY,
    WEEKDAYS_MON_FRI,
    CalendarDef,
    PackageDef,
    PolicyTemplate,
    SeverityDef,
    TargetDef,
    hours,
)

STD = "Standard hours"
ALL = "24/7"
FR = Metric.FIRST_RESPONSE

TEMPLATE = PolicyTemplate(
    name="apiplatform",
    description=(
        'Seed 001 (apiplatform) as configuration. Readings chosen: (1) "Response time '
        '(incident acknowledgement)" is the first-response metric; the seed sets no '
        "resolution or next-response targets, so none are loaded. (2) Standard hours are "
        'Monday to Friday 08:00-17:00 America/Chicago (the seed says "8am to 5pm US, CT"); '
        "no holidays are listed (import US holidays from the calendar if you observe them). "
        "(3) Premium Critical (2 h) and High (4 h) run on the 24/7 calendar; Medium (8 h), "
        'Low (24 h) and Cosmetic (48 h) on standard hours; "within minutes up to N hours" is '
        "read as N hours. (4) Low and Cosmetic are not eligible for escalation. (5) Break-Fix "
        "and Advanced cover Critical and High only: a Medium, Low or Cosmetic ticket from such "
        "a customer carries no SLA clock and says so. (6) Break-Fix is included with every "
        "licence, so a customer without a contract gets Break-Fix (no-contract rule: default "
        "package). (7) A breached acknowledgement escalates to the escalation distribution "
        "list and the organization's account executive (escalation rules, a later issue)."
    ),
    calendars=(
        CalendarDef(STD, "America/Chicago", hours(WEEKDAYS_MON_FRI, "08:00", "17:00")),
        CalendarDef(ALL, "America/Chicago", hours(EVERY_DAY, "00:00", "24:00")),
    ),
    severities=(
        SeverityDef(
            "critical",
            "Critical",
            1,
            "The service is completely down or inaccessible, resulting in a major business impact.",
        ),
        SeverityDef(
            "high",
            "High",
            2,
            "Major functionality is severely impacted but not completely unavailable, causing "
            "some disruption to users or business processes.",
        ),
        SeverityDef(
            "medium",
            "Medium",
            3,
            "Partial functionality is affected, may interfere with a project but does not have "
            "current business impact.",
        ),
        SeverityDef(
            "low",
            "Low",
            4,
            "Minor functionality is impacted, resulting in minimal disruption or inconvenience "
            "to users.",
            escalation_eligible=False,
        ),
        SeverityDef(
            "cosmetic",
            "Cosmetic",
            5,
            "Non-critical issues related to visual or aesthetic aspects of the product, without "
            "significant impact on functionality or user experience.",
            escalation_eligible=False,
        ),
    ),
    packages=(
        PackageDef(
            "Break-Fix",
            "Included in the licence: critical issues, standard hours.",
            ("web", "email"),
            ("critical", "high"),
            (
                TargetDef("critical", FR, STD, minutes=24 * 60),
                TargetDef("high", FR, STD, minutes=24 * 60),
            ),
        ),
        PackageDef(
            "Advanced",
            "Break/fix with a faster response, standard hours.",
            ("web", "email"),
            ("critical", "high"),
            (
                TargetDef("critical", FR, STD, minutes=12 * 60),
                TargetDef("high", FR, STD, minutes=12 * 60),
            ),
        ),
        PackageDef(
            "Premium",
            "24/7 for Critical and High; Medium, Low and Cosmetic in standard hours.",
            ("web", "email"),
            ("critical", "high", "medium", "low", "cosmetic"),
            (
                TargetDef("critical", FR, ALL, minutes=2 * 60),
                TargetDef("high", FR, ALL, minutes=4 * 60),
                TargetDef("medium", FR, STD, minutes=8 * 60),
                TargetDef("low", FR, STD, minutes=24 * 60),
                TargetDef("cosmetic", FR, STD, minutes=48 * 60),
            ),
        ),
    ),
    no_contract_rule="default_package",
    default_package="Break-Fix",
    data={
        "acknowledgement_breach_escalates_to": [
            "escalation_distribution_list",
            "account_executive",
        ],
    },
    demo_contracts=((0, "Premium"),),
)
