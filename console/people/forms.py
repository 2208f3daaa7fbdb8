"""Forms of the console's people area. Choice fields list the tenant's own rows only, so another
tenant's id posted by hand is an invalid choice, never a reference."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.webhooks.models import WebhookEvent
from helpdesk.models import Membership, Organization, Tenant
from sla.models import BusinessCalendar, Severity, SupportPackage
from tickets.models import ProductArea, Team, Ticket, TicketType

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

CONTACT_ROLES = Membership.ContactRole.choices
VERIFIED_ROLES = [
    (Membership.ContactRole.OWNER.value, Membership.ContactRole.OWNER.label),
    (Membership.ContactRole.AUTHORIZED.value, Membership.ContactRole.AUTHORIZED.label),
]
STAFF_ROLES = [
    (Membership.Role.AGENT.value, Membership.Role.AGENT.label),
    (Membership.Role.ADMIN.value, Membership.Role.ADMIN.label),
]


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        user = obj.user
        name = f"{user.name} <{user.email}>" if user.name else user.email
        return f"{name} · {obj.get_role_display()}"


class LeadChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        user = obj.user
        name = f"{user.name} <{user.email}>" if user.name else user.email
        return f"{name} · {obj.get_tier_display()}"


class AreaMultipleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ProductArea) -> str:
        if obj.team is None:
            return obj.name
        return _("%(area)s (now %(team)s)") % {"area": obj.name, "team": obj.team.name}


class StaffMultipleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.name or obj.user.email


def _staff(tenant: Tenant) -> Any:
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=[Membership.Role.ADMIN, Membership.Role.AGENT], is_active=True)
        .select_related("user")
        .order_by("user__email")
    )


# --- organizations and contracts ----------------------------------------------------------------


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    domains = forms.CharField(
        label=_("Email domains"),
        required=False,
        max_length=2000,
        help_text=_(
            "Separated by commas or spaces, e.g. example.com. Sign-ups from these domains join "
            "the organization as pending contacts."
        ),
    )
    account_executive_email = forms.EmailField(
        label=_("Account executive's email"),
        required=False,
        help_text=_("Notified when an escalation rule reaches the account executive."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea({"rows": 4}))

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_domains(self) -> list[str]:
        raw = self.cleaned_data.get("domains") or ""
        domains: list[str] = []
        bad: list[str] = []
        for part in re.split(r"[\s,;]+", raw.strip().lower()):
            part = part.lstrip("@")
            if not part:
                continue
            (domains if DOMAIN_RE.match(part) else bad).append(part)
        if bad:
            raise ValidationError(
                _("Not a domain: %(bad)s."), params={"bad": ", ".join(bad)}, code="domain"
            )
        return sorted(set(domains))


class ContractForm(forms.Form):
    package = forms.ModelChoiceField(label=_("Package"), queryset=SupportPackage.objects.none())
    starts_on = forms.DateField(label=_("Starts on"), widget=forms.DateInput({"type": "date"}))
    ends_on = forms.DateField(
        label=_("Ends on"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
        help_text=_("Inclusive. Leave empty for an open-ended contract."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["package"].queryset = SupportPackage.objects.for_tenant(tenant)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("A contract cannot end before it starts."))
        return data


# --- contacts ------------------------------------------------------------------------------------


class ContactAddForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    role = forms.ChoiceField(
        label=_("Contact role"),
        choices=CONTACT_ROLES,
        initial=Membership.ContactRole.AUTHORIZED,
        help_text=_("Owners verify their colleagues; pending contacts' tickets are held."),
    )


class ContactEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none(), required=False
    )
    role = forms.ChoiceField(
        label=_("Contact role"),
        choices=CONTACT_ROLES,
        help_text=_("Making a pending contact an owner or authorized verifies them."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_tenant(tenant)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") in dict(VERIFIED_ROLES) and data.get("organization") is None:
            self.add_error("organization", _("An owner or authorized contact needs one."))
        return data


class ContactVerifyForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none()
    )
    role = forms.ChoiceField(
        label=_("Contact role"), choices=VERIFIED_ROLES, initial=Membership.ContactRole.AUTHORIZED
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_tenant(tenant)  # type: ignore[attr-defined]


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    role = forms.ChoiceField(
        label=_("Contact role"), required=False, choices=[("", _("Any role")), *CONTACT_ROLES]
    )
    organization = forms.ModelChoiceField(
        label=_("Organization"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("Any organization"),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_tenant(tenant)  # type: ignore[attr-defined]


# --- teams and routing ---------------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea({"rows": 3})
    )
    assignment_strategy = forms.ChoiceField(
        label=_("Assignment"), choices=Team.Strategy.choices, initial=Team.Strategy.MANUAL
    )
    areas = AreaMultipleField(
        label=_("Product areas (skills)"),
        queryset=ProductArea.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Tickets about these areas go to this team's experts. An area has one team: "
            "ticking it here moves it from its current team."
        ),
    )
    members = StaffMultipleField(
        label=_("Members"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lead = LeadChoiceField(
        label=_("Team lead"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("No change"),
        help_text=_(
            "Escalations at the team-lead level reach the team's members with the Team lead "
            "tier. The agent chosen here joins the team and gets that tier."
        ),
    )
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"),
        queryset=BusinessCalendar.objects.none(),
        required=False,
        empty_label=_("The package's calendars"),
        help_text=_("A team working its own hours (e.g. 08:00-17:00)."),
    )
    escalation_emails = forms.CharField(
        label=_("Escalation distribution list"),
        required=False,
        widget=forms.Textarea({"rows": 2}),
        help_text=_("Addresses separated by commas or new lines."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields
        fields["areas"].queryset = ProductArea.objects.for_tenant(tenant).select_related("team")  # type: ignore[attr-defined]
        fields["members"].queryset = _staff(tenant)  # type: ignore[attr-defined]
        fields["lead"].queryset = _staff(tenant).filter(  # type: ignore[attr-defined]
            role=Membership.Role.AGENT,
            tier__in=[Membership.Tier.AGENT, Membership.Tier.TEAM_LEAD],
        )
        fields["calendar"].queryset = BusinessCalendar.objects.for_tenant(tenant)  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_escalation_emails(self) -> list[str]:
        raw = self.cleaned_data.get("escalation_emails") or ""
        emails = [e for e in re.split(r"[\s,;]+", raw.strip()) if e]
        field = forms.EmailField()
        bad = []
        for email in emails:
            try:
                field.clean(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError(
                _("Not an email address: %(bad)s."), params={"bad": ", ".join(bad)}, code="email"
            )
        return emails


class RoutingRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    position = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=32767,
        initial=0,
        help_text=_("Rules are tried in this order; the first that matches wins."),
    )
    team = forms.ModelChoiceField(label=_("Send to team"), queryset=Team.objects.none())
    severity = forms.ModelChoiceField(
        label=_("Severity"),
        queryset=Severity.objects.none(),
        required=False,
        empty_label=_("Any severity"),
    )
    product_area = forms.ModelChoiceField(
        label=_("Product area"),
        queryset=ProductArea.objects.none(),
        required=False,
        empty_label=_("Any product area"),
    )
    ticket_type = forms.ModelChoiceField(
        label=_("Ticket type"),
        queryset=TicketType.objects.none(),
        required=False,
        empty_label=_("Any type"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Any channel")), *Ticket.Channel.choices],
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        self.fields["severity"].queryset = Severity.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        self.fields["product_area"].queryset = ProductArea.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        self.fields["ticket_type"].queryset = TicketType.objects.for_tenant(tenant)  # type: ignore[attr-defined]


# --- agents --------------------------------------------------------------------------------------


class AgentInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLES, initial=Membership.Role.AGENT)
    tier = forms.ChoiceField(
        label=_("Tier"),
        choices=Membership.Tier.choices,
        initial=Membership.Tier.AGENT,
        help_text=_("Agents only: escalation chains walk the tiers upwards."),
    )


class AgentEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLES)
    tier = forms.ChoiceField(
        label=_("Tier"),
        choices=Membership.Tier.choices,
        help_text=_("Agents only: escalation chains walk the tiers upwards."),
    )
    is_available = forms.BooleanField(label=_("Available for automatic assignment"), required=False)
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.for_tenant(tenant)  # type: ignore[attr-defined]


# --- webhooks and tokens -------------------------------------------------------------------------


class WebhookForm(forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("A public http(s) address; every delivery is a signed POST."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Subscribe to at least one event.")},
    )


class WebhookEditForm(WebhookForm):
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("Re-activating a subscription that was disabled resets its failure count."),
    )


class TokenForm(forms.Form):
    membership = MemberChoiceField(
        label=_("Member"),
        queryset=Membership.objects.none(),
        help_text=_("The token acts as this member, with their role's rights."),
    )
    name = forms.CharField(label=_("Name"), max_length=100, initial=_("API token"))
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
        help_text=_("The token stops working at the start of this day. Empty: never."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["membership"].queryset = (  # type: ignore[attr-defined]
            Membership.objects.for_tenant(tenant)
            .filter(is_active=True)
            .select_related("user")
            .order_by("role", "user__email")
        )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("A name is required."), code="required")
        return name

    def expires_at(self) -> dt.datetime | None:
        """The expiry instant: midnight starting ``expires_on`` in the tenant's time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        try:
            zone = zoneinfo.ZoneInfo(self.tenant.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        return dt.datetime.combine(day, dt.time.min, tzinfo=zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        expires = self.expires_at() if data.get("expires_on") else None
        if expires is not None and expires <= timezone.now():
            self.add_error("expires_on", _("Choose a day in the future."))
        return data
