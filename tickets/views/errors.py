"""Domain errors (a service's ValidationError) back onto the form the person filled in."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

# A service's error key → the form field that carries it (custom fields: ``cf_<key>``).
CUSTOM_PREFIX = "custom_fields."
# The attachment service names the upload ``file``; every form here calls it ``attachments``.
DEFAULT_RENAMES = {"file": "attachments"}


def form_add_service_errors(
    form: forms.Form, exc: ValidationError, renames: dict[str, str] | None = None
) -> None:
    """Put each of ``exc``'s messages on the matching field of ``form`` (by name, through
    ``renames``, or ``cf_<key>`` for ``custom_fields.<key>``); the rest on the form itself."""
    renames = {**DEFAULT_RENAMES, **(renames or {})}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        name = renames.get(key, key)
        if name.startswith(CUSTOM_PREFIX):
            name = "cf_" + name[len(CUSTOM_PREFIX) :]
        target = name if name in form.fields else None
        for message in errors:
            form.add_error(target, message)
