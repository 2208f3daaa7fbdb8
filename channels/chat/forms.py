"""Forms of the chat pages (they all work without JavaScript; the widget only makes them live)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Tenant
from sla.models import Severity

from .models import BODY_MAX

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def _body_field(label: str | _StrPromise) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": BODY_MAX, "autocomplete": "off"}),
        error_messages={"required": _("Write a message.")},
    )


class StartForm(forms.Form):
    body = _body_field(_("How can we help?"))
    origin = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)


class VisitorStartForm(forms.Form):
    """The pre-chat form of an anonymous visitor (``channels.chat.visitors``)."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Tell us your name.")},
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We answer there if the chat ends before we could help."),
        error_messages={
            "required": _("Tell us your email address."),
            "invalid": _("Enter an email address like name@example.com."),
        },
    )
    body = _body_field(_("How can we help?"))
    origin = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)


class MessageForm(forms.Form):
    body = _body_field(_("Message"))


class EndForm(forms.Form):
    """An agent ending a chat may choose the severity of the ticket the transcript becomes."""

    severity = forms.ModelChoiceField(
        label=_("Ticket severity"),
        queryset=Severity.objects.none(),
        required=False,
        empty_label=_("Default (least severe the package covers)"),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["severity"].queryset = Severity.objects.for_tenant(tenant)  # type: ignore[attr-defined]


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Offer live chat"), required=False)
    allowed_origins = forms.CharField(
        label=_("Sites that may embed the chat"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One origin per line, like https://app.example.com. Only these sites may show the "
            "chat page in a frame; the popup works from any site."
        ),
    )
    anonymous_visitors = forms.BooleanField(
        label=_("Anonymous visitors may chat"),
        required=False,
        help_text=_(
            "Visitors without a portal login start a chat by giving a name and an email address. "
            "Neither is checked: agents see them marked as an unverified visitor, and the "
            "transcript is handled like mail from an unknown sender."
        ),
    )
    welcome_text = forms.CharField(
        label=_("Welcome text"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to customers above the chat before it starts."),
    )

    def origins(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines()]
