"""Saving through a service with its errors on the form, and deleting a row that may still be
used (shared by the catalog, canned-response, branding, KB and email pages)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from ..common import add_service_errors


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
