"""Request body parsers of the API: JSON only, bounded in size and depth, and every way a body
can be broken (too large, nested too deep, not UTF-8, not JSON) a 4xx in the error shape."""

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """JSON bodies up to API_MAX_BODY_BYTES; reads no more than that, whatever the headers say.
    For machine clients (CAD, partners), whose messages are small."""

    def max_bytes(self) -> int:
        limit: int = settings.API_MAX_BODY_BYTES
        return limit

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = self.max_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        if not raw:
            raise ParseError("The request body is empty; a JSON object is expected.")
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            # json's decoder recurses once per level of nesting: `[[[[...` a few thousand deep
            # exhausts the stack. No document of ours is more than a few levels deep.
            raise ParseError("The JSON is nested too deeply.") from exc


class FieldJSONParser(BoundedJSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's own limit on a request body),
    for people's records in the field API: a long narrative is larger than a machine's
    message."""

    def max_bytes(self) -> int:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
