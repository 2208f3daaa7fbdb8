"""One error format for the whole API: RFC 9457 application/problem+json."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, connection, transaction
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from helpdesk.tenancy import CrossTenantReference

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://helpdesk.invalid/problems/"

TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Server error",
}


def problem(status_code: int, detail: Any, errors: Any = None, code: str | None = None) -> dict:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (code or TITLES.get(status_code, "error").lower().replace(" ", "-")),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def _django_validation_errors(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errs for m in e.messages]
            for field, errs in exc.error_dict.items()
        }
    return {"non_field_errors": list(exc.messages)}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_errors(exc))
    elif isinstance(exc, CrossTenantReference):
        # Another tenant's row is, from here, a row that does not exist.
        exc = exceptions.ValidationError({"non_field_errors": ["Unknown related object."]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DataError):
        # A value the database cannot hold (an integer past its range, say) is the client's
        # invalid input, not a server fault. Any transaction around the view is rolled back.
        if connection.in_atomic_block:
            transaction.set_rollback(True)
        exc = exceptions.ValidationError(
            {"non_field_errors": ["A value is out of range or too long."]}
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        detail = "The request has invalid fields: " + ", ".join(sorted(errors)) + "."
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = str(response.data["detail"])
    else:
        detail = str(response.data)
    code = getattr(exc, "default_code", None)
    response.data = problem(response.status_code, detail, errors, code=code)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_response(request: HttpRequest, status_code: int, detail: str) -> JsonResponse:
    """For errors raised outside DRF views (unknown /api/ route, server error)."""
    return JsonResponse(
        problem(status_code, detail), status=status_code, content_type=PROBLEM_CONTENT_TYPE
    )


__all__ = ["PROBLEM_CONTENT_TYPE", "problem_exception_handler", "problem_response", "status"]
