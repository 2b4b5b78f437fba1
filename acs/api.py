from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

if TYPE_CHECKING:
    from responders.models import User


def created_once(
    output: type[serializers.BaseSerializer[Any]] | serializers.BaseSerializer[Any],
) -> dict[int, object]:
    """The answers of a create keyed by the tablet's `client_id` (acs/client_ids.py): 201 with
    the new record, 200 with the first one for a retry, 409 for another user's client_id."""
    from acs.serializers import ErrorOutput

    return {
        201: output,
        200: OpenApiResponse(output, description="a retried client_id"),
        409: OpenApiResponse(ErrorOutput, description="client_id_reused: another user's client_id"),
    }


def created_status(instance: models.Model) -> int:
    """201 for a record this request made, 200 for the one an earlier request with the same
    client_id made (acs.client_ids.replayed)."""
    from acs.client_ids import replayed

    return status.HTTP_200_OK if replayed(instance) else status.HTTP_201_CREATED


def cursor_page(
    item: type[serializers.Serializer[Any]], *, name: str, previous: bool = True
) -> serializers.Serializer[Any]:
    """The schema of a cursor-paginated list of `item` as our views render it: `results` and
    the `next` (and `previous`) links. APIViews page by hand, so drf-spectacular cannot tell."""
    fields: dict[str, serializers.Field[Any, Any, Any, Any]] = {
        "results": item(many=True),
        "next": serializers.URLField(allow_null=True),
    }
    if previous:
        fields["previous"] = serializers.URLField(allow_null=True)
    return inline_serializer(name=name, fields=fields)


CURSOR_PARAMETER = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="opaque: take it from the `next` (or `previous`) link; an unknown one is a 404",
)


class MeOutput(serializers.Serializer["User"]):  # a string: User is a type-checking import
    id = serializers.UUIDField(source="public_id")
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), source="role_names")


class MeView(APIView):
    """Who the signed-in user is and which roles they hold: the field app starts here."""

    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        # cast: IsAuthenticated (DEFAULT_PERMISSION_CLASSES) lets no anonymous request here,
        # which request.user's type cannot say.
        user = cast("User", request.user)
        return Response(MeOutput(user).data)


# --- the schema's error responses -------------------------------------------------------------

# The 4xx every operation can answer, whatever its view says: a request the API refuses gets
# the one error shape (acs/errors.py) with one of these codes. Documented on every operation so
# clients (and the schema fuzz, tests/acs/test_api_fuzz.py) may rely on the list.
COMMON_ERRORS = {
    "400": "invalid input, a malformed body or a rule of the domain (`code` says which)",
    "401": "no credentials, or an invalid, expired or revoked token",
    "403": "signed in, but the role (or a missing second factor) does not allow this",
    "404": "no such record among those you may see",
}
WRITE_ERRORS = {
    "409": "the record's state does not allow this (an illegal transition, a reused key)",
}
BODY_ERRORS = {
    "413": "the request body is larger than the API accepts",
    "415": "the body is not JSON (send Content-Type: application/json)",
}


def error_responses(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: adds the common error responses (in the error
    shape) to every operation that does not describe them itself."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    # The same component the views' `ErrorOutput` serializer produces, should none use it.
    schemas.setdefault("ErrorOutput", _error_output_schema())
    ref = {"$ref": "#/components/schemas/ErrorOutput"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            errors = dict(COMMON_ERRORS)
            if method != "get":
                errors.update(WRITE_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            responses = operation.setdefault("responses", {})
            for code, description in errors.items():
                response = responses.setdefault(code, {"description": description})
                response.setdefault("content", {"application/json": {"schema": ref}})
    return result


def _error_output_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "fields"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    }
