"""Forms of the public knowledge base pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the knowledge base"),
        max_length=200,
        required=False,
    )


class FeedbackForm(forms.Form):
    """ "Did this answer your question?" — two submit buttons named ``helpful``, so it works
    without JavaScript."""

    helpful = forms.TypedChoiceField(
        label=_("Did this answer your question?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        error_messages={"required": _("Choose Yes or No.")},
    )
    q = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
