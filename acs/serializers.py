"""Serializer fields shared by every API. The Strict* input fields take a value only in the
JSON type the schema gives it, so that the schema's word is the whole truth (docs/security.md,
"Hostile input and the API's contract")."""

import re
import uuid
from datetime import UTC
from typing import Any

from rest_framework import serializers


class UTCDateTimeField(serializers.DateTimeField):
    """Output in UTC ("...Z"), whatever the department's time zone: API times are UTC."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(*args, **kwargs)


class StrictCharField(serializers.CharField):
    """Text input: a string, and only a string (numbers and booleans are not silently
    converted), of at most `max_length` characters as sent, which is what the schema's
    maxLength says (DRF would measure it after trimming the blanks at its ends)."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false as JSON writes them (DRF would also take 1, "yes", "on", ...)."""

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (DRF would also take "7", 7.0 and true)."""

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


UUID_TEXT = re.compile("-".join(f"[0-9a-fA-F]{{{n}}}" for n in (8, 4, 4, 4, 12)))


class StrictUUIDField(serializers.UUIDField):
    """A UUID as the schema's `format: uuid` writes it, 8-4-4-4-12 hex digits (DRF would also
    take an integer, bare hex, braces or a URN)."""

    def to_internal_value(self, data: object) -> uuid.UUID:
        if not isinstance(data, str) or not UUID_TEXT.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class _ErrorDetail(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField(help_text="machine-readable, e.g. invalid_transition")
    message = serializers.CharField(help_text="for people")
    # The metaclass takes declared fields out of the class: this is the error's "fields" key,
    # not Serializer.fields, which the stubs cannot tell apart.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="per input field, what is wrong",
    )


class ErrorOutput(serializers.Serializer[dict[str, Any]]):
    """The one error shape of every 4xx (acs/errors.py)."""

    error = _ErrorDetail()
