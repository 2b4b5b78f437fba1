"""Domain errors and the one error shape of the API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from acs.parsers import PayloadTooLarge

# Which inputs were wrong and why: field name to its messages.
Fields = dict[str, list[str]]


class DomainError(Exception):
    """A rule of the domain refused the request. Services raise it; the API turns it into 4xx."""

    code = "domain_error"
    http_status: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, fields: Fields | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(DomainError):
    """No such record among those the user may see. The URL's own record: no `fields`; a
    record the request body names: `fields` says which input named it (see `named_in`)."""

    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND


@contextmanager
def named_in(field: str) -> Iterator[None]:
    """Fetching a record the request body names (in `field`): its NotFound says so in
    `fields`, so that a client can tell it from a 404 about the URL's own record."""
    try:
        yield
    except NotFound as exc:
        exc.fields = exc.fields or {field: [exc.message]}
        raise


class Forbidden(DomainError):
    code = "permission_denied"
    http_status = status.HTTP_403_FORBIDDEN


class Conflict(DomainError):
    """The request clashes with the record's current state (an illegal transition, say)."""

    code = "conflict"
    http_status = status.HTTP_409_CONFLICT


def error_body(code: str, message: str, fields: Fields | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _messages(detail: Any, path: str = "") -> list[str]:
    """Every message under one field, a nested one prefixed with where it is inside the field
    ("latitude: ...", "0: ..."), so `fields` stays one list of strings per field however deep
    the input was (the shape the schema promises)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list):
        if not any(isinstance(item, dict | list) for item in detail):
            return [f"{path}: {item}" if path else str(item) for item in detail]
        items = enumerate(detail)
    else:
        return [f"{path}: {detail}" if path else str(detail)]
    messages: list[str] = []
    for key, value in items:
        inner = "" if key == "non_field_errors" else str(key)
        messages += _messages(value, f"{path}.{inner}" if path and inner else path or inner)
    return messages


def _flatten(detail: dict[str, Any]) -> Fields:
    return {str(key): _messages(value) for key, value in detail.items()}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE), met when the body was read before
        # our parser streams it (DRF then parses a copy of request.body).
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):  # too many fields, a malformed body
        exc = exceptions.ParseError("The request body cannot be read.")
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            non_field = detail.get("non_field_errors")
            fields = {k: v for k, v in _flatten(detail).items() if k != "non_field_errors"}
            # A list: DRF gathers non-field errors in one (serializers' as_serializer_error).
            message = (
                str(non_field[0])
                if isinstance(non_field, list) and non_field
                else "The request has invalid fields."
            )
        else:
            fields = {}
            message = str(detail[0]) if isinstance(detail, list) and detail else str(detail)
        response.data = error_body("invalid", message, fields)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = error_body(str(code), str(exc.detail))
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a path no view matches (an id that is not a UUID, a typo) is still a JSON
    404 in the error shape under /api/, where clients parse every answer; an HTML page
    elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "No such resource."), status=404)
    return defaults.page_not_found(request, exception)
