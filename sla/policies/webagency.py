"""webagency (seeds/002): maintenance contracts get their SLA; everyone else first come, first
served; an emergency form."""

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

BIZ = "Business hours"
ALL = "24/7"
PACKAGE = "Support & maintenance contract"

TEMPLATE = PolicyTemplate(
    name="webagency",
    description=(
        "Seed 002 (webagency) as configuration. Readings chosen: (1) clients without a "
        "support and maintenance contract get no SLA clock and are served first come, first "
        "served (no-contract rule: none); they may ask for a due date. (2) The seed gives no "
        'figures for its contracts ("the SLA outlined in your support and maintenance '
        'contract"), so the contract package ships with example targets to edit: Emergency, '
        "first response within 1 hour on the 24/7 calendar (the whole team is paged at any "
        'hour); Normal request, first response within 8 business hours on "Business hours". '
        '(3) The seed names no location, so "Business hours" is Monday to Friday '
        "09:00-17:00 in the tenant's own time zone (UTC unless set). (4) The severities are "
        "the seed's two kinds of request: Emergency (the emergency form's three cases) and "
        "Normal request; agents may re-classify an emergency as a normal request."
    ),
    calendars=(
        CalendarDef(BIZ, None, hours(WEEKDAYS_MON_FRI, "09:00", "17:00")),
        CalendarDef(ALL, None, hours(EVERY_DAY, "00:00", "24:00")),
    ),
    severities=(
        SeverityDef(
            "emergency",
            "Emergency",
            1,
            "Website is offline/down, website seems to be hacked, or the main website "
            "functionality is not working.",
        ),
        SeverityDef(
            "normal",
            "Normal request",
            2,
            "Everything else, it is a normal request \u2013 no matter how urgent it is.",
        ),
    ),
    packages=(
        PackageDef(
            PACKAGE,
            "The SLA of a support and maintenance contract (example figures: edit them to "
            "match your contracts).",
            ("web", "email", "api"),
            ("emergency", "normal"),
            (
                TargetDef("emergency", Metric.FIRST_RESPONSE, ALL, minutes=60),
                TargetDef("normal", Metric.FIRST_RESPONSE, BIZ, minutes=8 * 60),
            ),
        ),
    ),
    no_contract_rule="none",
    no_contract_note=(
        "No support and maintenance contract: your request is processed first come, first "
        "served. If you need it completed by a certain date, let us know and we will try our "
        "best to accommodate."
    ),
    data={
        "emergency_cases": [
            "Website is offline/down",
            "Website seems to be hacked",
            "The main website functionality is not working",
        ],
        "emergency_pages_whole_team": True,
        "emergency_without_contract_is_billable": True,
        "request_form": ["subject", "description", "screenshots"],
        "embeddable_create_ticket_button": True,
    },
    demo_contracts=((0, PACKAGE),),
)
