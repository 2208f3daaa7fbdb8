"""Writes of canned responses: a tenant's reusable reply texts (macros) for the reply box."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.models import Tenant, User

from ..models import CannedResponse

TITLE_MAX = CannedResponse._meta.get_field("title").max_length or 200
BODY_MAX = 20_000


def _title(tenant: Tenant | int, title: str, exclude: int | None = None) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": "A title is required."})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": f"At most {TITLE_MAX} characters."})
    # Agents pick by title: two that differ only in case would look the same in the picker.
    same = CannedResponse.objects.for_tenant(tenant).filter(title__iexact=title)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise ValidationError({"title": f"A canned response titled '{title}' already exists."})
    return title


def _body(body: str) -> str:
    if not (body or "").strip():
        raise ValidationError({"body": "The text is required."})
    if "\x00" in body:
        raise ValidationError({"body": "The text contains a NUL character."})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": f"At most {BODY_MAX} characters."})
    return body.strip("\n").rstrip()


def _duplicate() -> ValidationError:
    return ValidationError({"title": "A canned response with this title already exists."})


def canned_response_create(
    *,
    tenant: Tenant,
    title: str,
    body: str,
    is_active: bool = True,
    created_by: User | None = None,
) -> CannedResponse:
    """Add a canned response. ``title`` is unique per tenant (ignoring case and repeated
    spaces); ``body`` (Markdown) must not be empty."""
    title = _title(tenant, title)
    body = _body(body)
    try:
        with transaction.atomic():
            return CannedResponse.objects.create(
                tenant=tenant, title=title, body=body, is_active=is_active, created_by=created_by
            )
    except IntegrityError:  # a concurrent create of the same title
        raise _duplicate() from None


def canned_response_update(
    *,
    canned_response: CannedResponse,
    title: str | None = None,
    body: str | None = None,
    is_active: bool | None = None,
) -> CannedResponse:
    """Change what is given, with the checks of :func:`canned_response_create`."""
    fields = []
    if title is not None:
        title = _title(canned_response.tenant_id, title, exclude=canned_response.pk)
        if title != canned_response.title:
            canned_response.title = title
            fields.append("title")
    if body is not None:
        body = _body(body)
        if body != canned_response.body:
            canned_response.body = body
            fields.append("body")
    if is_active is not None and is_active != canned_response.is_active:
        canned_response.is_active = is_active
        fields.append("is_active")
    if fields:
        canned_response.updated_at = timezone.now()
        try:
            with transaction.atomic():
                canned_response.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            raise _duplicate() from None
    return canned_response


def canned_response_delete(*, canned_response: CannedResponse) -> None:
    """Delete a canned response (replies that used it keep their text: it was copied)."""
    canned_response.delete()
