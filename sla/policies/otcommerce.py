"""otcommerce (seeds/003): two departments' calendars, 1 business hour / 5 working days, and
Critical within 1 business hour on working days or 3 hours on weekends."""

from __future__ import annotations

from ..models import Metric, SLATarget
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

CS = "Customer Support"
TS = "Technical Support"
WORKDAYS = "Working days"
ALL = "24/7"
FR, RES = Metric.FIRST_RESPONSE, Metric.RESOLUTION
PACKAGE = "Support"

TEMPLATE = PolicyTemplate(
    name="otcommerce",
    description=(
        "Seed 003 (otcommerce) as configuration. Readings chosen: (1) two departments, two "
        "calendars in Europe/Moscow: Customer Support Monday to Friday 07:00-17:00, Technical "
        "Support Monday to Friday 08:00-17:00; weekends are best effort (duty manager), no "
        'clock runs then. (2) "Initial consideration within an hour during business hours" '
        "is a first response of 1 business hour on the handling team's calendar: Technical "
        "Support's for Critical (severity 1 issues go to Technical Support only), Customer "
        'Support\'s otherwise. (3) "Detailed consideration and solution up to 5 working days" '
        "is a resolution target of 5 business days on the same calendar. (4) Critical errors: "
        "1 business hour (Technical Support) when opened on a working day (Monday-Friday, any "
        'hour, per the "Working days" calendar), 3 hours of wall-clock time (24/7 calendar) '
        "when opened on a weekend: two first-response rules with conditions, the first "
        "matching wins. (5) Every registered customer is served, so there is one package, "
        "Support, and it is the default package for organizations without a contract. "
        '(6) The seed has no severity list beyond "severity 1 / critical errors" and '
        '"non-critical" questions: the catalog is Critical and Normal. (7) A duplicate filed '
        "without being asked carries no SLA of its own: agents mark it SLA-exempt."
    ),
    calendars=(
        CalendarDef(CS, "Europe/Moscow", hours(WEEKDAYS_MON_FRI, "07:00", "17:00")),
        CalendarDef(TS, "Europe/Moscow", hours(WEEKDAYS_MON_FRI, "08:00", "17:00")),
        CalendarDef(WORKDAYS, "Europe/Moscow", hours(WEEKDAYS_MON_FRI, "00:00", "24:00")),
        CalendarDef(ALL, "Europe/Moscow", hours(EVERY_DAY, "00:00", "24:00")),
    ),
    severities=(
        SeverityDef(
            "critical",
            "Critical (severity 1)",
            1,
            "Critical errors. Within an hour during business hours, within 3 hours on weekends. "
            "For severity 1 issues a customer should contact technical support solely and "
            "exclusively.",
        ),
        SeverityDef(
            "normal",
            "Normal",
            2,
            "Issues related to website settings, working in the admin panel and organizational "
            "issues. It is recommended to ask non-urgent and uncritical questions after "
            "weekend.",
        ),
    ),
    packages=(
        PackageDef(
            PACKAGE,
            "Customer and technical support for registered customers.",
            ("web", "email", "chat"),
            ("critical", "normal"),
            (
                TargetDef(
                    "critical",
                    FR,
                    TS,
                    minutes=60,
                    condition=SLATarget.Condition.OPENED_WITHIN,
                    condition_calendar=WORKDAYS,
                ),
                TargetDef(
                    "critical",
                    FR,
                    ALL,
                    minutes=180,
                    condition=SLATarget.Condition.OPENED_OUTSIDE,
                    condition_calendar=WORKDAYS,
                ),
                TargetDef("critical", RES, TS, business_days=5),
                TargetDef("normal", FR, CS, minutes=60),
                TargetDef("normal", RES, CS, business_days=5),
            ),
        ),
    ),
    no_contract_rule="default_package",
    default_package=PACKAGE,
    data={
        "teams": [
            {"name": CS, "calendar": CS, "scope": "website settings, admin panel, organization"},
            {"name": TS, "calendar": TS, "scope": "technical issues; all severity 1 issues"},
        ],
        "severity_1_team": TS,
        "only_verified_contacts_file": True,
        "duplicates_without_request_are_sla_exempt": True,
    },
)
