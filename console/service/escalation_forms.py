"""Forms of the escalation pages: the tenant's policy, its levels, and the on-call roster."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.models import Membership, Tenant
from sla.models import (
    EscalationPolicy,
    EscalationRole,
    EscalationRule,
    Metric,
    NoticeChannel,
    OnCallEntry,
)

from .common import WEEKDAYS, ClockField

DELAY_UNITS = (("minutes", gettext_lazy("minutes")), ("hours", gettext_lazy("hours")))
MAX_DELAY_MINUTES = 60 * 24 * 30


class EscalationPolicyForm(forms.Form):
    distribution_emails = forms.CharField(
        label=gettext_lazy("Escalation distribution list"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Email addresses, one per line or separated by commas; teams add their own."
        ),
    )
    quiet_hours_enabled = forms.BooleanField(
        label=gettext_lazy("Hold back email and pager notices during quiet hours"), required=False
    )
    quiet_hours_start = ClockField(label=gettext_lazy("Quiet from"), allow_24=True)
    quiet_hours_end = ClockField(
        label=gettext_lazy("Quiet until"),
        allow_24=True,
        help_text=gettext_lazy(
            "In each recipient's time zone; the window may wrap midnight (22:00 to 07:00)."
        ),
    )
    urgent_max_rank = forms.IntegerField(
        label=gettext_lazy("Urgent severities: rank up to"),
        min_value=0,
        max_value=100,
        help_text=gettext_lazy(
            "A breach of a severity ranked this high or higher (1 is the most severe) ignores "
            "quiet hours; 0: none is urgent."
        ),
    )
    repage_minutes = forms.IntegerField(
        label=gettext_lazy("Re-page on-call agents after (minutes)"), min_value=1, max_value=1440
    )
    max_pages = forms.IntegerField(
        label=gettext_lazy("Pages at most per emergency"), min_value=1, max_value=100
    )
    customer_escalation_enabled = forms.BooleanField(
        label=gettext_lazy("Customers may escalate a ticket once its response time is breached"),
        required=False,
    )

    @classmethod
    def initial_for(cls, policy: EscalationPolicy) -> dict[str, Any]:
        return {
            "distribution_emails": "\n".join(policy.distribution_emails),
            "quiet_hours_enabled": policy.quiet_hours_enabled,
            "quiet_hours_start": policy.quiet_hours_start,
            "quiet_hours_end": policy.quiet_hours_end,
            "urgent_max_rank": policy.urgent_max_rank,
            "repage_minutes": policy.repage_minutes,
            "max_pages": policy.max_pages,
            "customer_escalation_enabled": policy.customer_escalation_enabled,
        }

    def clean_distribution_emails(self) -> list[str]:
        text = self.cleaned_data.get("distribution_emails", "")
        emails = [e.strip().lower() for e in re.split(r"[,;\s]+", text) if e.strip()]
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError(_("Not an email address: %(bad)s.") % {"bad": ", ".join(bad)})
        if len(emails) > 50:
            raise ValidationError(_("At most 50 addresses."))
        return list(dict.fromkeys(emails))


class LevelForm(forms.Form):
    """One level of the chain; a row without a level number is an empty row."""

    level = forms.IntegerField(
        label=gettext_lazy("Level"),
        min_value=0,
        max_value=20,
        required=False,
        widget=forms.NumberInput(attrs={"size": 3}),
    )
    delay = forms.IntegerField(
        label=gettext_lazy("Delay after breach"),
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"size": 4}),
    )
    delay_unit = forms.ChoiceField(
        label=gettext_lazy("Unit"), choices=DELAY_UNITS, required=False, initial="minutes"
    )
    recipients = forms.MultipleChoiceField(
        label=gettext_lazy("Notify"),
        choices=EscalationRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("By"),
        choices=NoticeChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    metrics = forms.MultipleChoiceField(
        label=gettext_lazy("Clocks"),
        choices=Metric.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every clock."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    @staticmethod
    def initial_for(rule: EscalationRule) -> dict[str, Any]:
        offset = rule.offset_minutes
        hours = offset > 0 and offset % 60 == 0
        return {
            "level": rule.level,
            "delay": offset // 60 if hours else offset,
            "delay_unit": "hours" if hours else "minutes",
            "recipients": list(rule.recipients),
            "channels": list(rule.channels),
            "metrics": list(rule.metrics),
            "active": rule.active,
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        level = cleaned.get("level")
        if level is None:
            if "level" not in self.errors and cleaned.get("recipients"):
                self.add_error("level", _("Give the level a number (0 is the warning)."))
            return cleaned
        delay = cleaned.get("delay") or 0
        minutes = delay * 60 if cleaned.get("delay_unit") == "hours" else delay
        if level == 0 and minutes:
            self.add_error(
                "delay",
                _("The warning (level 0) fires at the target's warning share; it has no delay."),
            )
        if minutes > MAX_DELAY_MINUTES:
            self.add_error("delay", _("At most 30 days after the breach."))
        if not cleaned.get("recipients"):
            self.add_error("recipients", _("Choose who this level notifies."))
        if not cleaned.get("channels"):
            self.add_error("channels", _("Choose at least one way to notify."))
        cleaned["offset_minutes"] = minutes
        return cleaned

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "level": data["level"],
            "offset_minutes": data["offset_minutes"],
            "recipients": list(data["recipients"]),
            "channels": list(data["channels"]),
            "metrics": list(data["metrics"]),
            "active": bool(data["active"]),
        }


class BaseLevelFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[int] = set()
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            level = form.cleaned_data.get("level")
            if level is None:
                continue
            if level in seen:
                raise ValidationError(_("Level %(n)d is listed twice.") % {"n": level})
            seen.add(level)


def level_specs(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The levels a valid levels formset keeps (numbered, not ticked for removal), in order."""
    return sorted(
        (
            form.spec()
            for form in formset.forms
            if not form.cleaned_data.get("DELETE") and form.cleaned_data.get("level") is not None
        ),
        key=lambda s: s["level"],
    )


LevelFormSet = forms.formset_factory(
    LevelForm, formset=BaseLevelFormSet, extra=2, can_delete=True, max_num=21, validate_max=True
)


def staff_choices(tenant: Tenant) -> Any:
    return (
        Membership.objects.for_tenant(tenant)
        .filter(role__in=[Membership.Role.ADMIN, Membership.Role.AGENT], is_active=True)
        .select_related("user")
        .order_by("user__email")
    )


class MembershipChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.user.email} ({obj.get_role_display()})"


class OnCallForm(forms.Form):
    membership = MembershipChoice(label=gettext_lazy("Who"), queryset=Membership.objects.none())
    weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Days"),
        choices=[(i, day) for i, day in enumerate(WEEKDAYS)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every day."),
    )
    start_minute = ClockField(label=gettext_lazy("From"), initial=0)
    end_minute = ClockField(
        label=gettext_lazy("Until"),
        allow_24=True,
        initial=24 * 60,
        help_text=gettext_lazy("The desk's local time; 22:00 until 06:00 wraps midnight."),
    )
    pager_address = forms.CharField(
        label=gettext_lazy("Pager or phone"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Empty: paged by email and in-app only."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = staff_choices(tenant)  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(entry: OnCallEntry) -> dict[str, Any]:
        return {
            "membership": entry.membership_id,
            "weekdays": list(entry.weekdays),
            "start_minute": entry.start_minute,
            "end_minute": entry.end_minute,
            "pager_address": entry.pager_address,
            "active": entry.active,
        }
