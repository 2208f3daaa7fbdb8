"""``Idempotency-Key`` on every POST of the API: the same key and body give the same response,
never a second ticket; the same key with another body is a 422 problem.

A middleware (so every app's POST is covered without each view opting in) that acts only on
``POST /api/…`` carrying the header, for a caller it can identify the way the API will: a valid
token of this tenant (per token) or a session bound to this tenant (per user). Anything else
passes through untouched (the view answers 401/403 as usual).

How (insert-first locking): the request runs in one transaction that starts by inserting an
:class:`~helpdesk.models.IdempotencyRecord` (tenant, caller, key, fingerprint).

* First request: the insert succeeds; the view runs; a 2xx response is stored on the row and
  everything commits together. A non-2xx response rolls the transaction back, row included, so
  the client may fix the request and retry with the same key.
* Concurrent duplicate: its insert waits on the unique index until the first transaction ends;
  on commit it fails (IntegrityError, in a savepoint) and the committed response is replayed; on
  rollback it succeeds and this request runs instead. No second ticket either way.
* Later retry: the insert fails at once; same fingerprint → replay (``Idempotent-Replayed:
  true``); another fingerprint → 422.

The fingerprint is SHA-256 over method, path and body: the raw bytes for JSON; for multipart,
the form fields and, per file, its name, size and SHA-256 (hashed in chunks from the upload
handler's temporary file, never read whole).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, UnreadablePostError
from django.http.multipartparser import MultiPartParserError

from helpdesk.models import IdempotencyRecord
from helpdesk.selectors import api_token_for_key

from .exceptions import problem_response

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_MAX = 255
_REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
# A new token's key is shown once and stored nowhere, not even for a replay: a retried POST
# makes a second token, which is harmless (the first can be revoked).
_NEVER_STORED = ("/api/v1/tokens/",)


def _principal(request: HttpRequest) -> str | None:
    """Who the API will take the caller to be, or None (the view will refuse the request)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if parts:
        if len(parts) != 2 or parts[0].lower() != "token":
            return None
        token = api_token_for_key(key=parts[1])
        if token is None or token.tenant_id != tenant.pk or not token.is_usable():
            return None
        return f"token:{token.pk}"
    if getattr(request, "membership", None) is not None:  # a session bound to this tenant
        return f"user:{request.user.pk}"
    return None


def _file_digest(upload: object) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():  # type: ignore[attr-defined]
        digest.update(chunk)
    upload.seek(0)  # type: ignore[attr-defined]
    return f"{upload.name}:{upload.size}:{digest.hexdigest()}"  # type: ignore[attr-defined]


def request_fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method}\n{request.path}\n".encode())
    if (request.content_type or "").startswith("multipart/"):
        for name in sorted(request.POST.keys()):
            for value in request.POST.getlist(name):
                digest.update(f"{name}={value}\n".encode())
        for name in sorted(request.FILES.keys()):
            for upload in request.FILES.getlist(name):
                digest.update(f"{name}@{_file_digest(upload)}\n".encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    headers = dict(record.response_headers or {})
    content_type = headers.pop("Content-Type", "application/json")
    body = b"" if record.response_body is None else json.dumps(record.response_body).encode()
    response = HttpResponse(body, status=record.status_code, content_type=content_type)
    for name, value in headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _stored_body(response: HttpResponseBase) -> object:
    if response.streaming or not getattr(response, "content", b""):
        return None
    if "json" not in response.get("Content-Type", ""):
        return None
    return json.loads(response.content)  # type: ignore[attr-defined]


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        key = request.META.get(HEADER, "").strip()
        if (
            request.method != "POST"
            or not key
            or not request.path.startswith("/api/")
            or request.path.startswith(_NEVER_STORED)
        ):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:
            return self.get_response(request)
        if len(key) > KEY_MAX:
            return problem_response(
                request, 400, f"The Idempotency-Key has at most {KEY_MAX} characters."
            )
        tenant = request.tenant  # type: ignore[attr-defined]
        try:
            fingerprint = request_fingerprint(request)
        except (MultiPartParserError, SuspiciousOperation, UnreadablePostError):
            return self.get_response(request)  # the view answers the malformed body (400)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        tenant=tenant, principal=principal, key=key, fingerprint=fingerprint
                    )
            except IntegrityError:
                existing = (
                    IdempotencyRecord.objects.for_tenant(tenant)
                    .filter(principal=principal, key=key)
                    .first()
                )
                if existing is None or existing.status_code is None:  # pragma: no cover
                    return problem_response(
                        request, 409, "A request with this Idempotency-Key is in progress."
                    )
                if existing.fingerprint != fingerprint:
                    return problem_response(
                        request, 422, "This Idempotency-Key was used with a different request."
                    )
                return _replay(existing)
            response = self.get_response(request)
            if 200 <= response.status_code < 300:
                record.status_code = response.status_code
                record.response_body = _stored_body(response)
                record.response_headers = {
                    h: response[h] for h in _REPLAYED_HEADERS if response.has_header(h)
                }
                record.save(update_fields=["status_code", "response_body", "response_headers"])
            else:
                # Nothing is remembered for a failure, and nothing it may have written stays.
                transaction.set_rollback(True)
            return response
