"""The application's one error vocabulary and its mapping to NGC-style JSON API responses.

Services raise these; web views turn them into form errors, the API handler below into JSON.
"""
import uuid

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class RegistryError(Exception):
    """A rule was broken; `message` is shown to the user as is."""

    status_code = 400
    status = "INVALID_REQUEST"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(RegistryError):
    status_code = 400
    status = "INVALID_REQUEST"


class AccessDenied(RegistryError):
    status_code = 403
    status = "FORBIDDEN"


class NotFound(RegistryError):
    status_code = 404
    status = "NOT_FOUND"


class Conflict(RegistryError):
    status_code = 409
    status = "ALREADY_EXISTS"


class Gone(RegistryError):
    """A single-use or expiring thing (an invitation link) that can no longer be used."""

    status_code = 410
    status = "GONE"


_DRF_STATUS = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
}


def error_body(status_code: int, description: str, *, status: str | None = None, extra: dict | None = None) -> dict:
    body = {
        "requestStatus": {
            "statusCode": status or _DRF_STATUS.get(status_code, "ERROR"),
            "statusDescription": description,
            "requestId": uuid.uuid4().hex,
        },
        "detail": description,
    }
    if extra:
        body.update(extra)
    return body


def _describe(detail) -> str:
    """Flatten DRF's nested error detail into one readable line."""
    if isinstance(detail, dict):
        parts = []
        for key, value in detail.items():
            text = _describe(value)
            parts.append(text if key in ("non_field_errors", "detail") else f"{key}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_describe(item) for item in detail)
    return str(detail)


def api_exception_handler(exc, context):
    """DRF exception handler: every error is JSON with `requestStatus` and a readable `detail`."""
    if isinstance(exc, RegistryError):
        extra = {"errors": {exc.field: [exc.message]}} if exc.field else None
        return Response(error_body(exc.status_code, exc.message, status=exc.status, extra=extra), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
    extra = {"errors": detail} if isinstance(detail, dict) else None
    response.data = error_body(response.status_code, _describe(detail), extra=extra)
    return response
