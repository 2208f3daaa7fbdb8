"""Forms of the customer portal and the agent workspace. They parse and check what a person
typed; the ticket services decide (and re-check) everything else."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.models import Membership, Tenant
from sla.models import Severity

from .models import BusinessImpact, CustomField, ProductArea, Team, Ticket, TicketType
from .services.catalog import custom_fields_for

MAX_CC = 20
MAX_FILES = 10
_SPLIT = re.compile(r"[\s,;]+")
# What helps us help you, when the ticket type has no hints of its own.
DEFAULT_HINTS = (
    _("Symptoms: what do you see? Quote error messages exactly."),
    _("Steps taken: what did you do just before, and what have you tried?"),
    _("How to reproduce: which page, which account, which device or browser?"),
    _("Screenshots or a short video help a lot: attach them below."),
)


def parse_emails(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines; lower-cased, each once,
    in order. Raises ValidationError naming the ones that are not addresses."""
    seen: list[str] = []
    bad: list[str] = []
    for part in _SPLIT.split(text or ""):
        part = part.strip().strip("<>").lower()
        if not part:
            continue
        try:
            validate_email(part)
        except ValidationError:
            bad.append(part)
            continue
        if part not in seen:
            seen.append(part)
    if bad:
        raise ValidationError(
            ngettext(
                "This is not an email address: %(bad)s",
                "These are not email addresses: %(bad)s",
                len(bad),
            )
            % {"bad": ", ".join(bad[:5])}
        )
    if len(seen) > MAX_CC:
        raise ValidationError(_("At most %(n)d addresses, please.") % {"n": MAX_CC})
    return seen


def set_choices(field: forms.Field, choices: Any) -> None:
    """A choice field's choices (``self.fields`` types its values as plain ``Field``)."""
    cast(forms.ChoiceField, field).choices = choices


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>`` (size and type are the
    attachment service's to check, per tenant)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise ValidationError(_("At most %(n)d files at once, please.") % {"n": MAX_FILES})
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def _catalog(model: type, tenant: Tenant) -> QuerySet[Any]:
    return model.objects.for_tenant(tenant)  # type: ignore[attr-defined]


def custom_form_field(cf: CustomField) -> forms.Field:
    common: dict[str, Any] = {
        "label": cf.label,
        "required": cf.required,
        "help_text": cf.help_text,
    }
    if cf.kind == CustomField.Kind.SELECT:
        choices = [(str(o.get("value")), o.get("label") or o.get("value")) for o in cf.options]
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if cf.kind == CustomField.Kind.NUMBER:
        return forms.DecimalField(**common)
    if cf.kind == CustomField.Kind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return forms.CharField(max_length=500, **common)


def hint_lines(ticket_type: TicketType | None) -> list[str]:
    """The type's hints as lines (what to include: symptoms, steps, how to reproduce …)."""
    if ticket_type is None or not ticket_type.form_hints.strip():
        return []
    return [ln.strip(" -*•\t") for ln in ticket_type.form_hints.splitlines() if ln.strip(" -*•\t")]


class CustomFieldsMixin:
    """Adds ``cf_<key>`` fields for the chosen ticket type and collects them as one dict."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]
    custom: list[CustomField]

    def add_custom_fields(self, tenant: Tenant, ticket_type: TicketType | None) -> None:
        self.custom = custom_fields_for(tenant=tenant, ticket_type=ticket_type)
        for cf in self.custom:
            self.fields[f"cf_{cf.key}"] = custom_form_field(cf)

    @property
    def custom_bound_fields(self) -> list[Any]:
        return [self[f"cf_{cf.key}"] for cf in self.custom]  # type: ignore[index]

    def custom_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for cf in self.custom:
            value = self.cleaned_data.get(f"cf_{cf.key}")
            if value in (None, ""):
                continue
            values[cf.key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return values


class NewTicketForm(CustomFieldsMixin, forms.Form):
    """The portal's ticket form. Catalog fields appear only where the tenant has a catalog."""

    ticket_type = forms.ModelChoiceField(
        queryset=TicketType.objects.none(), label=_("Type of request"), empty_label=None
    )
    severity = forms.ModelChoiceField(
        queryset=Severity.objects.none(),
        label=_("Severity"),
        empty_label=None,
        widget=forms.RadioSelect,
    )
    business_impact = forms.ModelChoiceField(
        queryset=BusinessImpact.objects.none(),
        label=_("Who is affected?"),
        required=False,
        empty_label="—",
    )
    business_impact_text = forms.CharField(
        label=_("Describe who is affected"),
        max_length=500,
        required=False,
        help_text=_("Needed when the choice above asks for a description (such as “Other”)."),
    )
    product_area = forms.ModelChoiceField(
        queryset=ProductArea.objects.none(),
        label=_("Product area"),
        required=False,
        empty_label=_("Not sure"),
    )
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=50_000,
        help_text=_("Markdown is welcome. Please include what you see, and what you expected."),
    )
    cc_colleagues = forms.MultipleChoiceField(
        label=_("Colleagues"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cc = forms.CharField(
        label=_("Copy others (CC)"),
        required=False,
        max_length=2000,
        help_text=_("Email addresses, separated by commas. They receive our replies too."),
    )
    requested_due_date = forms.DateField(
        label=_("Needed by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("If you need it done by a certain date, tell us and we will try our best."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Screenshots, videos, logs: choose files or drop them here."),
    )

    def __init__(self, *args: Any, tenant: Tenant, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        types = _catalog(TicketType, tenant).filter(is_emergency=False)
        severities = _catalog(Severity, tenant)
        impacts = _catalog(BusinessImpact, tenant)
        areas = _catalog(ProductArea, tenant)
        self.types = list(types)
        self.severities = list(severities)
        self.impacts = list(impacts)
        self.fields["ticket_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["severity"].queryset = severities  # type: ignore[attr-defined]
        self.fields["business_impact"].queryset = impacts  # type: ignore[attr-defined]
        self.fields["product_area"].queryset = areas  # type: ignore[attr-defined]
        for name, rows in (
            ("ticket_type", self.types),
            ("severity", self.severities),
            ("business_impact", self.impacts),
        ):
            if not rows:
                del self.fields[name]
        if "business_impact" not in self.fields or not any(i.requires_text for i in self.impacts):
            del self.fields["business_impact_text"]
        if not areas.exists():
            del self.fields["product_area"]
        if "ticket_type" in self.fields and not self.is_bound:
            self.fields["ticket_type"].initial = self.initial.get("ticket_type") or self.types[0]
        colleagues = self._colleagues(membership)
        if colleagues:
            set_choices(self.fields["cc_colleagues"], colleagues)
        else:
            del self.fields["cc_colleagues"]
        self.chosen_type = self._chosen_type()
        self.add_custom_fields(tenant, self.chosen_type)
        # htmx: knowledge-base suggestions as the subject is typed, and the type's own fields
        # when the type changes (without JavaScript: the "update the form" button).
        self.fields["subject"].widget.attrs.update(
            {
                "hx-get": reverse("kb-suggest"),
                "hx-trigger": "keyup changed delay:400ms",
                "hx-target": "#kb-suggestions",
                "hx-sync": "this:replace",
                "data-suggest-param": "q",
                "autocomplete": "off",
            }
        )
        if "ticket_type" in self.fields:
            self.fields["ticket_type"].widget.attrs.update(
                {
                    "hx-get": reverse("portal-new"),
                    "hx-trigger": "change",
                    "hx-target": "#type-fields",
                    "hx-include": "#type-fields",
                }
            )

    def _colleagues(self, membership: Membership) -> list[tuple[str, str]]:
        if membership.organization_id is None or not membership.is_verified_contact:
            return []
        contacts = (
            Membership.objects.for_tenant(self.tenant)
            .filter(
                organization_id=membership.organization_id,
                role=Membership.Role.CUSTOMER,
                is_active=True,
            )
            .exclude(pk=membership.pk)
            .select_related("user")
            .order_by("user__email")[:50]
        )
        return [
            (m.user.email, f"{m.user.name} <{m.user.email}>" if m.user.name else m.user.email)
            for m in contacts
        ]

    def _chosen_type(self) -> TicketType | None:
        if "ticket_type" not in self.fields:
            return None
        raw = self.data.get(self.add_prefix("ticket_type")) if self.is_bound else None
        raw = raw or self.initial.get("ticket_type") or self.fields["ticket_type"].initial
        if isinstance(raw, TicketType):
            return raw
        return next((t for t in self.types if str(t.pk) == str(raw)), self.types[0])

    @property
    def hints(self) -> list[str]:
        return hint_lines(self.chosen_type) or [str(h) for h in DEFAULT_HINTS]

    def severity_choices(self) -> list[tuple[Severity, bool]]:
        """(severity, checked) pairs: the template renders each as a card with its
        customer-facing description."""
        if "severity" not in self.fields:
            return []
        raw = self["severity"].value()
        return [(s, str(s.pk) == str(raw)) for s in self.severities]

    def clean_cc(self) -> list[str]:
        return parse_emails(self.cleaned_data.get("cc", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        impact = data.get("business_impact")
        if impact is not None and impact.requires_text and not data.get("business_impact_text"):
            self.add_error("business_impact_text", _("Please tell us who is affected."))
        cc = list(data.get("cc") or [])
        for email in data.get("cc_colleagues") or []:
            if email not in cc:
                cc.append(email)
        data["all_cc"] = cc[:MAX_CC]
        return data


class EmergencyForm(forms.Form):
    """Seed 002's emergency form: what happened (one of the tenant's cases) and a description."""

    case = forms.ChoiceField(label=_("What is happening?"), widget=forms.RadioSelect)
    website = forms.CharField(label=_("Website address"), max_length=300, required=False)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
        help_text=_("What you see, since when, and anything you changed recently."),
    )
    phone = forms.CharField(label=_("Phone number to reach you now"), max_length=40, required=False)
    attachments = MultipleFileField(label=_("Screenshots"), required=False)

    def __init__(self, *args: Any, cases: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cases = cases
        set_choices(self.fields["case"], cases)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 5}), max_length=50_000
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)


class AgentMessageForm(forms.Form):
    """A public reply or an internal note (``kind``), with an optional status to set after.
    Both forms sit on one page: ids are prefixed by the kind (``reply-body``, ``note-body``)."""

    KIND_REPLY = "reply"
    KIND_NOTE = "note"

    kind = forms.ChoiceField(
        choices=[(KIND_REPLY, _("Public reply")), (KIND_NOTE, _("Internal note"))],
        widget=forms.HiddenInput,
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=50_000)
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    then_status = forms.ChoiceField(label=_("Then set status"), required=False)

    def __init__(
        self, *args: Any, kind: str, allowed_statuses: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", f"{kind}-%s")
        super().__init__(*args, **kwargs)
        self.compose_kind = kind
        self.fields["kind"].initial = kind
        set_choices(self.fields["then_status"], [("", _("(leave as is)")), *allowed_statuses])
        body = self.fields["body"]
        body.label = _("Reply to the customer") if kind == self.KIND_REPLY else _("Note for agents")
        body.help_text = (
            _("The requester and CCs receive it. Markdown works.")
            if kind == self.KIND_REPLY
            else _("Only agents see this. Markdown works.")
        )
        body.widget.attrs.update({"data-shortcut": kind, "data-presence-compose": ""})


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, label=_("Agent"), empty_label="—"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, label=_("Team"), empty_label="—"
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_of(tenant)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        self.fields["assignee"].label_from_instance = staff_label  # type: ignore[attr-defined]


def staff_of(tenant: Tenant) -> QuerySet[Membership]:
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=[Membership.Role.ADMIN, Membership.Role.AGENT], is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )


def staff_label(membership: Membership) -> str:
    return membership.user.name or membership.user.email


class ReclassifyForm(forms.Form):
    severity = forms.ModelChoiceField(
        queryset=Severity.objects.none(), required=False, label=_("Severity"), empty_label="—"
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"].queryset = Severity.objects.for_tenant(tenant)  # type: ignore[attr-defined]


class TransitionForm(forms.Form):
    status = forms.ChoiceField(label=_("Move to"))

    def __init__(self, *args: Any, allowed: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed = allowed
        set_choices(self.fields["status"], [("", "—"), *allowed] if allowed else [])


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Merge into ticket"),
        max_length=40,
        help_text=_("The reference of the original, e.g. OR-1042."),
    )


class CcAddForm(forms.Form):
    emails = forms.CharField(label=_("Add CC"), max_length=2000)

    def clean_emails(self) -> list[str]:
        emails = parse_emails(self.cleaned_data["emails"])
        if not emails:
            raise ValidationError(_("Enter an email address."))
        return emails


class CcRemoveForm(forms.Form):
    email = forms.EmailField()


class BulkForm(forms.Form):
    """Bulk actions on the queue: assign (agent and/or team) or set a status."""

    ACTION_ASSIGN = "assign"
    ACTION_STATUS = "status"

    tickets = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    action = forms.ChoiceField(
        choices=[(ACTION_ASSIGN, _("Assign")), (ACTION_STATUS, _("Set status"))]
    )
    assignee = forms.CharField(required=False)
    team = forms.CharField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "—"), *Ticket.Status.choices], label=_("Status")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is acceptable here: the view resolves them through the tenant's queryset.
        ids = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        set_choices(self.fields["tickets"], [(i, i) for i in ids if str(i).isdigit()])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("action") == self.ACTION_STATUS and not data.get("status"):
            self.add_error("status", _("Choose a status."))
        if (
            data.get("action") == self.ACTION_ASSIGN
            and not data.get("assignee")
            and not data.get("team")
        ):
            self.add_error("assignee", _("Choose an agent or a team."))
        return data


class QueueFilterForm(forms.Form):
    """The queue's filters (GET). Unknown values are ignored rather than refused."""

    view = forms.CharField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", _("Any open")), *Ticket.Status.choices], label=_("Status")
    )
    severity = forms.TypedChoiceField(required=False, coerce=int, label=_("Severity"))
    team = forms.TypedChoiceField(required=False, coerce=int, label=_("Team"))
    assignee = forms.ChoiceField(required=False, label=_("Assignee"))
    organization = forms.TypedChoiceField(required=False, coerce=int, label=_("Organization"))
    q = forms.CharField(required=False, max_length=200, label=_("Search"))
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(
        self,
        *args: Any,
        severities: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        agents: list[tuple[int, str]],
        organizations: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self.fields["severity"], [("", _("Any")), *severities])
        set_choices(self.fields["team"], [("", _("Any")), *teams])
        set_choices(
            self.fields["assignee"],
            [
                ("", _("Anyone")),
                ("none", _("Unassigned")),
                *((str(pk), label) for pk, label in agents),
            ],
        )
        set_choices(self.fields["organization"], [("", _("Any")), *organizations])
