"""What the catalog, canned-response and branding pages share: rendering inside the console,
turning a service's ValidationError into form errors, and deleting a row that may still be used."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from helpdesk.models import Tenant

from ..nav import console_nav


def tenant_of(request: HttpRequest) -> Tenant:
    return request.tenant  # type: ignore[attr-defined]


def render_console(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {**console_nav(request), **context}, status=status)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: a message naming one of the form's fields goes
    next to it, anything else (``targets``, ``__all__``, a plain message) above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error.messages)
    else:
        form.add_error(None, exc.messages)


def save_or_errors(form: forms.Form, write: Callable[[], Any]) -> Any | None:
    """Run ``write`` (a service call) in a savepoint; its ValidationError, or an IntegrityError of
    a race the service's check could not see, lands on the form and None is returned."""
    try:
        with transaction.atomic():
            return write()
    except ValidationError as exc:
        add_service_errors(form, exc)
    except IntegrityError:
        form.add_error(None, _("This conflicts with an existing entry; check the keys and names."))
    return None


def _users(objects: Iterable[models.Model]) -> str:
    counts = Counter(type(o)._meta for o in objects)
    parts = [
        f"{n} {meta.verbose_name if n == 1 else meta.verbose_name_plural}"
        for meta, n in sorted(counts.items(), key=lambda item: str(item[0].verbose_name))
    ]
    return ", ".join(parts)


def delete_or_error(delete: Callable[[], None], what: str) -> str | None:
    """Run ``delete``; None when the row is gone, else why it could not go (a row that tickets,
    packages or targets still use is restricted or protected by its foreign keys)."""
    try:
        with transaction.atomic():
            delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking: Iterable[models.Model] = (
            getattr(exc, "restricted_objects", None)
            or getattr(exc, "protected_objects", None)
            or ()
        )
        users = _users(blocking)
        if users:
            return _("%(what)s is still in use (%(users)s) and cannot be deleted.") % {
                "what": what,
                "users": users,
            }
        return _("%(what)s is still in use and cannot be deleted.") % {"what": what}
    except ValidationError as exc:
        return " ".join(exc.messages)
    except IntegrityError:
        return _("%(what)s is still referenced and cannot be deleted.") % {"what": what}
    return None
