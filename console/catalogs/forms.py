"""Forms of the catalog and canned-response pages. They parse what the admin typed; the catalog
services (:mod:`sla.services.catalog`, :mod:`tickets.services.catalog`,
:mod:`tickets.services.macros`) decide and re-check everything else."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Tenant
from sla.models import Severity
from tickets.models import (
    BusinessImpact,
    CannedResponse,
    CustomField,
    Priority,
    Team,
    TicketSettings,
    TicketType,
)

from .services import time_zones

if TYPE_CHECKING:  # dev-only package: annotations only
    from django_stubs_ext import StrOrPromise

MB = 1024 * 1024
RANK_MAX = 32767
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
# Markup a browser would run: refused whatever a tenant wants (the sniffer names them so).
SCRIPTED_TYPES = frozenset({"image/svg+xml", "text/html", "application/xhtml+xml"})
KEY_HELP = _("Lowercase letters, digits, hyphens and underscores; used by the API and imports.")


class TenantForm(forms.Form):
    """A form whose choices come from one tenant's catalogs."""

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        self.tenant = tenant
        super().__init__(*args, **kwargs)

    @classmethod
    def initial_for(cls, row: Any) -> dict[str, Any]:
        """The form's values for an existing row (edit pages)."""
        return {name: getattr(row, name) for name in cls.base_fields}

    def values(self) -> dict[str, Any]:
        """What the service receives (keyword arguments of its create and update)."""
        return dict(self.cleaned_data)


def _key_field() -> forms.SlugField:
    return forms.SlugField(label=_("Key"), max_length=50, help_text=KEY_HELP)


def _rank_field(help_text: StrOrPromise) -> forms.IntegerField:
    return forms.IntegerField(label=_("Rank"), min_value=1, max_value=RANK_MAX, help_text=help_text)


class SeverityForm(TenantForm):
    key = _key_field()
    name = forms.CharField(label=_("Name"), max_length=100)
    rank = _rank_field(_("1 is the most severe."))
    description = forms.CharField(
        label=_("Description for customers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to customers when they pick a severity (what counts as this level)."),
    )
    escalation_eligible = forms.BooleanField(
        label=_("May escalate"),
        required=False,
        initial=True,
        help_text=_("Tickets of an ineligible severity never trigger escalations."),
    )


class PriorityForm(TenantForm):
    key = _key_field()
    name = forms.CharField(label=_("Name"), max_length=100)
    rank = _rank_field(_("1 is worked first."))


class TicketTypeForm(TenantForm):
    key = _key_field()
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    form_hints = forms.CharField(
        label=_("Hints on the form"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What to include (symptoms, steps, how to reproduce …), one per line."),
    )
    is_emergency = forms.BooleanField(
        label=_("Emergency"),
        required=False,
        help_text=_("Filed through the emergency form; pages every on-call agent at once."),
    )
    pages_on_call_out_of_hours = forms.BooleanField(
        label=_("Pages on-call agents out of hours"), required=False
    )
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=RANK_MAX,
        initial=0,
        help_text=_("Order on the ticket form (lowest first)."),
    )


class BusinessImpactForm(TenantForm):
    key = _key_field()
    name = forms.CharField(label=_("Name"), max_length=100)
    rank = _rank_field(_("1 is the widest impact."))
    requires_text = forms.BooleanField(
        label=_("Asks for a description"),
        required=False,
        help_text=_('For "other": the customer must describe who is affected.'),
    )


class ProductAreaForm(TenantForm):
    key = _key_field()
    name = forms.CharField(label=_("Name"), max_length=100)
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("No team"),
        help_text=_("The team holding this area's experts (skills routing)."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        self.fields["team"].queryset = Team.objects.for_tenant(tenant).order_by("name")  # type: ignore[attr-defined]


def parse_options(text: str) -> list[dict[str, str]]:
    """One option a line: ``value`` or ``value | label``."""
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        value, _sep, label = line.partition("|")
        options.append({"value": value.strip(), "label": label.strip() or value.strip()})
    return options


def format_options(options: list[dict[str, str]]) -> str:
    lines = []
    for option in options or []:
        value, label = str(option.get("value", "")), str(option.get("label", ""))
        lines.append(value if label in ("", value) else f"{value} | {label}")
    return "\n".join(lines)


class CustomFieldForm(TenantForm):
    key = _key_field()
    label = forms.CharField(label=_("Label"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomField.Kind.choices)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('Select fields only: one option a line, as "value" or "value | label".'),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=500, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=RANK_MAX, initial=0)
    ticket_types = forms.ModelMultipleChoiceField(
        label=_("Ticket types"),
        queryset=TicketType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the field applies to every ticket type."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, tenant=tenant, **kwargs)
        self.fields["ticket_types"].queryset = TicketType.objects.for_tenant(tenant)  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, row: Any) -> dict[str, Any]:
        initial = super().initial_for(row)
        initial["options"] = format_options(row.options)
        initial["ticket_types"] = [t.pk for t in row.ticket_types.all()]
        return initial

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values["options"] = parse_options(values["options"])
        values["ticket_types"] = list(values["ticket_types"])
        return values


class PriorityMatrixForm(forms.Form):
    """One select per severity x business impact cell (plus "any impact" per severity)."""

    ANY = "any"

    def __init__(
        self,
        *args: Any,
        severities: list[Severity],
        impacts: list[BusinessImpact],
        priorities: list[Priority],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.severities, self.impacts = severities, impacts
        self.priorities = {p.pk: p for p in priorities}
        choices = [("", _("—"))] + [(str(p.pk), p.name) for p in priorities]
        for severity in severities:
            for impact in [None, *impacts]:
                self.fields[self.cell_name(severity, impact)] = forms.TypedChoiceField(
                    label=_("%(severity)s, %(impact)s")
                    % {
                        "severity": severity.name,
                        "impact": impact.name if impact else _("any impact"),
                    },
                    choices=choices,
                    required=False,
                    coerce=int,
                    empty_value=None,
                )

    @classmethod
    def cell_name(cls, severity: Severity, impact: BusinessImpact | None) -> str:
        return f"cell_{severity.pk}_{impact.pk if impact else cls.ANY}"

    def rows(self) -> list[tuple[Severity, list[forms.BoundField]]]:
        return [
            (s, [self[self.cell_name(s, i)] for i in [None, *self.impacts]])
            for s in self.severities
        ]

    def cells(self) -> list[tuple[Severity, BusinessImpact | None, Priority | None]]:
        return [
            (s, i, self.priorities.get(self.cleaned_data[self.cell_name(s, i)]))
            for s in self.severities
            for i in [None, *self.impacts]
        ]


class TicketSettingsForm(forms.Form):
    max_attachment_mb = forms.DecimalField(
        label=_("Largest attachment (MiB)"),
        min_value=Decimal("0.01"),
        max_value=Decimal(1024),
        decimal_places=2,
        help_text=_("Files larger than this are refused, on the portal, by email and the API."),
    )
    allowed_content_types = forms.CharField(
        label=_("Allowed file types"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Content types, one a line (e.g. image/png, application/pdf). A file's type is read "
            "from its bytes, not from its name. Leave empty to refuse every attachment."
        ),
    )

    @classmethod
    def initial_for(cls, settings: TicketSettings) -> dict[str, Any]:
        mb = (Decimal(settings.max_attachment_bytes) / MB).quantize(Decimal("0.01"))
        return {
            "max_attachment_mb": mb.quantize(Decimal(1)) if mb == mb.to_integral() else mb,
            "allowed_content_types": "\n".join(settings.allowed_content_types or []),
        }

    def clean_allowed_content_types(self) -> list[str]:
        wanted = [
            t.strip().lower()
            for t in re.split(r"[\s,;]+", self.cleaned_data["allowed_content_types"] or "")
            if t.strip()
        ]
        bad = [t for t in wanted if not _CONTENT_TYPE.match(t)]
        if bad:
            raise ValidationError(
                _("Not a content type: %(bad)s. Write type/subtype, e.g. image/png."),
                params={"bad": ", ".join(bad[:5])},
            )
        scripted = [t for t in wanted if t in SCRIPTED_TYPES]
        if scripted:
            raise ValidationError(
                _("%(types)s can carry scripts and are never accepted as attachments."),
                params={"types": ", ".join(scripted)},
            )
        return wanted

    def max_attachment_bytes(self) -> int:
        return int(self.cleaned_data["max_attachment_mb"] * MB)


class CannedResponseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown, inserted into the agent's reply box."),
        strip=False,
    )
    is_active = forms.BooleanField(
        label=_("Offered to agents"),
        required=False,
        initial=True,
        help_text=_("Untick to keep the text without offering it in the reply box."),
    )

    @classmethod
    def initial_for(cls, row: CannedResponse) -> dict[str, Any]:
        return {"title": row.title, "body": row.body, "is_active": row.is_active}


class BrandingForm(forms.Form):
    name = forms.CharField(label=_("Desk name"), max_length=200)
    brand_color = forms.RegexField(
        label=_("Brand colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        error_messages={"invalid": _("Use a colour like #1f6feb.")},
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Buttons, links and highlights on every page of your desk."),
    )
    logo_file = forms.FileField(
        label=_("Upload a logo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 512 KiB. Shown about 28 pixels high."),
    )
    logo_url = forms.URLField(
        label=_("…or a logo address"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_(
            "An https:// address. Pages only load images from this site, so an uploaded logo "
            "is the one that always shows."
        ),
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    support_email = forms.EmailField(
        label=_("Support email address"),
        required=False,
        help_text=_("Where customers write to; shown on the portal and in emails."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("For dates shown to people who have not chosen their own time zone."),
    )
    ticket_prefix = forms.RegexField(
        label=_("Ticket reference prefix"),
        regex=r"^[A-Za-z][A-Za-z0-9]{0,9}$",
        max_length=10,
        error_messages={"invalid": _("1-10 letters and digits, starting with a letter (e.g. OR).")},
        help_text=_("References read PREFIX-NUMBER, e.g. OR-1042."),
    )
    confirm_prefix = forms.BooleanField(
        label=_("Yes, change the prefix of every ticket"), required=False
    )
    allow_signup = forms.BooleanField(
        label=_("Customers may sign up on the portal"),
        required=False,
        help_text=_("New sign-ups are pending contacts until you verify them."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["time_zone"].choices = [(z, z) for z in time_zones()]  # type: ignore[attr-defined]

    def clean_ticket_prefix(self) -> str:
        return str(self.cleaned_data["ticket_prefix"]).upper()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        prefix = cleaned.get("ticket_prefix")
        if prefix and prefix != self.tenant.ticket_prefix and not cleaned.get("confirm_prefix"):
            self.add_error(
                "confirm_prefix",
                _(
                    "Confirm the new prefix %(new)s: tickets now shown as %(old)s-… will read "
                    "%(new)s-…."
                )
                % {"new": prefix, "old": self.tenant.ticket_prefix},
            )
        if cleaned.get("logo_file") and cleaned.get("logo_url"):
            self.add_error("logo_url", _("Upload a logo or give its address, not both."))
        if cleaned.get("logo_file") and cleaned.get("remove_logo"):
            self.add_error("remove_logo", _("Upload a logo or remove it, not both."))
        return cleaned
