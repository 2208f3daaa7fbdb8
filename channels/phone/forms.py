"""Forms of the phone channel: the caller's code, the call as a new ticket or as a note."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Tenant
from sla.models import Severity
from tickets.forms import CustomFieldsMixin
from tickets.models import BusinessImpact, ProductArea, Ticket, TicketType

from .models import CODE_LENGTH
from .selectors import code_normalise


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Caller's personal code"),
        max_length=32,
        help_text=_("%(n)d digits; spaces and dashes are ignored.") % {"n": CODE_LENGTH},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = code_normalise(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("A personal code is %(n)d digits.") % {"n": CODE_LENGTH}, code="format"
            )
        return code


class CallTicketForm(CustomFieldsMixin, forms.Form):
    """A new ticket from the call. Catalog fields appear only where the tenant has a catalog;
    the chosen type's custom fields follow it (the "update the form" button without JS)."""

    caller = forms.CharField(widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(
        label=_("Call notes"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=50_000,
        help_text=_("What the caller reported; the customer sees this as the ticket's text."),
    )
    ticket_type = forms.ModelChoiceField(
        queryset=TicketType.objects.none(), label=_("Type of request"), empty_label=None
    )
    severity = forms.ModelChoiceField(
        queryset=Severity.objects.none(), label=_("Severity"), required=False, empty_label="—"
    )
    business_impact = forms.ModelChoiceField(
        queryset=BusinessImpact.objects.none(),
        label=_("Who is affected?"),
        required=False,
        empty_label="—",
    )
    product_area = forms.ModelChoiceField(
        queryset=ProductArea.objects.none(),
        label=_("Product area"),
        required=False,
        empty_label=_("Not sure"),
    )
    assign_to_me = forms.BooleanField(
        label=_("Assign the ticket to me"), required=False, initial=True
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "call-%s")
        super().__init__(*args, **kwargs)
        catalogs = {
            "ticket_type": TicketType.objects.for_tenant(tenant).filter(is_emergency=False),
            "severity": Severity.objects.for_tenant(tenant),
            "business_impact": BusinessImpact.objects.for_tenant(tenant),
            "product_area": ProductArea.objects.for_tenant(tenant),
        }
        self.types = list(catalogs["ticket_type"])
        for name, qs in catalogs.items():
            if not qs.exists():
                del self.fields[name]
            else:
                self.fields[name].queryset = qs  # type: ignore[attr-defined]
        chosen = self._chosen_type()
        if "ticket_type" in self.fields and not self.is_bound and chosen is not None:
            self.fields["ticket_type"].initial = chosen.pk
        self.add_custom_fields(tenant, chosen)

    def _chosen_type(self) -> TicketType | None:
        if not self.types:
            return None
        raw = self.data.get(self.add_prefix("ticket_type")) if self.is_bound else None
        raw = raw or self.initial.get("ticket_type")
        return next((t for t in self.types if str(t.pk) == str(raw)), self.types[0])


class CallNoteForm(forms.Form):
    """The call as an internal note on one of the caller's tickets in progress."""

    caller = forms.CharField(widget=forms.HiddenInput)
    ticket = forms.TypedChoiceField(label=_("Ticket"), coerce=int)
    notes = forms.CharField(
        label=_("Call notes"), widget=forms.Textarea(attrs={"rows": 5}), max_length=50_000
    )

    def __init__(self, *args: Any, tickets: list[Ticket], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "note-%s")
        super().__init__(*args, **kwargs)
        self.fields["ticket"].choices = [  # type: ignore[attr-defined]
            (t.pk, f"{t.reference} · {t.subject} ({t.get_status_display()})") for t in tickets
        ]


class RegenerateForm(forms.Form):
    """The console's "regenerate this contact's code" (a contact of the admin's tenant)."""

    contact = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
