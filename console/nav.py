"""The console's sections, in the order of the side navigation (paths, so that a section can be
listed before its pages exist in every deployment)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Label = str | Promise  # lazily translated
SECTIONS: list[tuple[Label, list[tuple[str, Label]]]] = [
    (
        _("Service desk"),
        [
            ("/manage/catalogs/", _("Catalogs")),
            ("/manage/canned-responses/", _("Canned responses")),
            ("/manage/branding/", _("Branding")),
            ("/manage/kb/", _("Knowledge base")),
        ],
    ),
    (
        _("Service levels"),
        [
            ("/manage/calendars/", _("Calendars")),
            ("/manage/packages/", _("Packages and SLA matrix")),
            ("/manage/escalation/", _("Escalation rules")),
        ],
    ),
    (
        _("Customers and staff"),
        [
            ("/manage/organizations/", _("Organizations")),
            ("/manage/contacts/", _("Contacts")),
            ("/manage/teams/", _("Teams")),
            ("/manage/agents/", _("Agents")),
        ],
    ),
    (
        _("Channels and integrations"),
        [
            ("/manage/email/", _("Email addresses")),
            ("/manage/phone/", _("Phone codes")),
            ("/manage/chat/", _("Live chat")),
            ("/manage/webhooks/", _("Webhooks")),
            ("/manage/tokens/", _("API tokens")),
        ],
    ),
    (_("Insight"), [("/manage/reports/", _("SLA report"))]),
]


def console_nav(request: object) -> dict[str, object]:
    """Context for ``console/base.html``: the sections and which one is current."""
    path = getattr(request, "path", "")
    current = max(
        (href for _title, links in SECTIONS for href, _label in links if path.startswith(href)),
        key=len,
        default="",
    )
    return {"console_sections": SECTIONS, "console_current": current}
