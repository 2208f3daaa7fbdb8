"""Forms of the package pages (the matrix is :mod:`console.service.matrix`) and the SLA policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.models import Tenant
from sla.models import Channel, SLAPolicy, SupportPackage


class PackageForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels included"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("How customers holding this package may reach you."),
    )

    @classmethod
    def initial_for(cls, package: SupportPackage) -> dict[str, Any]:
        return {
            "name": package.name,
            "description": package.description,
            "channels": list(package.channels),
        }


class SLAPolicyForm(forms.Form):
    no_contract_rule = forms.ChoiceField(
        label=gettext_lazy("Tickets of organizations without a contract"),
        choices=SLAPolicy.NoContractRule.choices,
        widget=forms.RadioSelect,
    )
    default_package = forms.ModelChoiceField(
        label=gettext_lazy("Default package"),
        queryset=SupportPackage.objects.none(),
        required=False,
        help_text=gettext_lazy("Applies when the rule above is “the default package applies”."),
    )
    no_contract_note = forms.CharField(
        label=gettext_lazy("Note on tickets without an SLA"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Shown on a ticket that carries no SLA for lack of a contract."),
    )
    pause_on_hold = forms.BooleanField(
        label=gettext_lazy("On hold pauses the resolution clock (as pending does)"),
        required=False,
    )
    description = forms.CharField(
        label=gettext_lazy("How this policy reads your published SLA"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For admins: the readings chosen when the policy was set up."),
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_package"].queryset = SupportPackage.objects.for_tenant(  # type: ignore[attr-defined]
            tenant
        ).order_by("name")

    @classmethod
    def initial_for(cls, policy: SLAPolicy) -> dict[str, Any]:
        return {
            "no_contract_rule": policy.no_contract_rule,
            "default_package": policy.default_package_id,
            "no_contract_note": policy.no_contract_note,
            "pause_on_hold": policy.pause_on_hold,
            "description": policy.description,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("no_contract_rule") == SLAPolicy.NoContractRule.DEFAULT_PACKAGE
            and cleaned.get("default_package") is None
            and "default_package" not in self.errors
        ):
            self.add_error("default_package", _("Choose the package that applies by default."))
        return cleaned
