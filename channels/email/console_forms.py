"""The console's form for a tenant's email address (Mailbox)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Mailbox

_KEEP = _("Leave empty to keep the stored one (it is never shown).")


class MailboxForm(forms.Form):
    address = forms.EmailField(label=_("Address"), max_length=254)
    display_name = forms.CharField(label=_("Display name"), max_length=200, required=False)
    reply_to = forms.EmailField(label=_("Reply-To"), max_length=254, required=False)
    is_default = forms.BooleanField(
        label=_("Default address (the From of replies and notifications)"), required=False
    )
    unknown_sender = forms.ChoiceField(
        label=_("Mail from someone who is not a contact"),
        choices=Mailbox.UnknownSender.choices,
        initial=Mailbox.UnknownSender.PENDING,
    )
    imap_enabled = forms.BooleanField(label=_("Poll this mailbox by IMAP"), required=False)
    imap_host = forms.CharField(label=_("IMAP server"), max_length=255, required=False)
    imap_port = forms.IntegerField(
        label=_("IMAP port"), min_value=1, max_value=65535, initial=993, required=False
    )
    imap_ssl = forms.BooleanField(label=_("TLS (IMAPS)"), required=False, initial=True)
    imap_username = forms.CharField(label=_("IMAP username"), max_length=255, required=False)
    imap_password = forms.CharField(
        label=_("IMAP password"),
        max_length=255,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_folder = forms.CharField(
        label=_("IMAP folder"), max_length=255, initial="INBOX", required=False
    )
    webhook_signing_key = forms.CharField(
        label=_("Mailgun webhook signing key"),
        max_length=255,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Enables the inbound webhook of this address."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["imap_password"].help_text = _KEEP
            self.fields["webhook_signing_key"].help_text = _KEEP

    @classmethod
    def initial_for(cls, mailbox: Mailbox) -> dict[str, Any]:
        return {
            name: getattr(mailbox, name)
            for name in cls.base_fields
            if name not in ("imap_password", "webhook_signing_key")
        }

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["imap_port"] = data.get("imap_port") or 993
        data["imap_folder"] = (data.get("imap_folder") or "INBOX").strip()
        return data
