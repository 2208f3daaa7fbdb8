"""spaceos (seeds/004): the priority catalog drives the SLA; SLAs only per contract."""

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

CAL = "Support hours"
PACKAGE = "Contract SLA"
FR = Metric.FIRST_RESPONSE

TEMPLATE = PolicyTemplate(
    name="spaceos",
    description=(
        "Seed 004 (spaceos) as configuration. Readings chosen: (1) the portal is staffed "
        "Monday to Friday 09:00-17:00; the seed says CET, read as Europe/Berlin (CET in "
        "winter, CEST in summer). (2) The seed's case priority catalog (System Down, Critical, "
        "High, Medium, Low) drives the SLA, so it is the severity catalog. (3) SLAs are "
        "defined only in each customer's contract: without a contract no clock runs and the "
        "ticket points to the sales representative. (4) The seed gives no figures, so the "
        "contract package ships with example first-response targets to edit per contract: "
        "System Down 1, Critical 2, High 4, Medium 8, Low 16 business hours on Support hours."
    ),
    calendars=(CalendarDef(CAL, "Europe/Berlin", hours(WEEKDAYS_MON_FRI, "09:00", "17:00")),),
    severities=(
        SeverityDef(
            "system_down",
            "System Down",
            1,
            "The product is nonfunctional or has unrecoverable service failure.",
        ),
        SeverityDef(
            "critical",
            "Critical",
            2,
            "The use of the Platform is only possible with significant impairments which "
            "render the Platform practically unusable or Business Critical Request.",
        ),
        SeverityDef(
            "high",
            "High",
            3,
            "The product is functional, but with consistent issues, or one product area is "
            "nonfunctional, or has degraded functionality with some business impacts.",
        ),
        SeverityDef(
            "medium",
            "Medium",
            4,
            "The product is functional with minor or intermittent issues. Occasional "
            "functionality degradation :: Minimal business impact.",
        ),
        SeverityDef(
            "low",
            "Low",
            5,
            "The product is functional, with no apparent issues. Requests for upgrade "
            "documentation, feature requests, technical information, how-to questions, product "
            "use questions :: No business impact.",
        ),
    ),
    packages=(
        PackageDef(
            PACKAGE,
            "SLA as defined in the customer's contract (example figures: edit them to match).",
            ("web", "email"),
            ("system_down", "critical", "high", "medium", "low"),
            (
                TargetDef("system_down", FR, CAL, minutes=60),
                TargetDef("critical", FR, CAL, minutes=2 * 60),
                TargetDef("high", FR, CAL, minutes=4 * 60),
                TargetDef("medium", FR, CAL, minutes=8 * 60),
                TargetDef("low", FR, CAL, minutes=16 * 60),
            ),
        ),
    ),
    no_contract_rule="none",
    no_contract_note=(
        "SLA's for Support Tickets are defined in your contract. If you do not have SLA's "
        "defined please contact your sales representative who will be happy to help."
    ),
    data={
        "ticket_types": ["feature_request", "bug", "question", "incident", "translation"],
        "incident_out_of_hours_alerts_on_call": True,
        "business_impacts": [
            "single_user",
            "all_admin_users",
            "all_end_users",
            "everyone",
            "other",
        ],
        "custom_fields": {"where_does_it_happen": ["browser", "mobile_app", "merchant_app"]},
        "form_hints": [
            "description",
            "symptoms",
            "steps taken",
            "how to reproduce",
            "screenshots/videos",
        ],
        "first_email_on_assignment": True,
    },
    demo_contracts=((0, PACKAGE),),
)
