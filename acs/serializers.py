"""Serializer fields shared by every API."""

from datetime import UTC

from rest_framework import serializers


class UTCDateTimeField(serializers.DateTimeField):
    """Output in UTC ("...Z"), whatever the department's time zone: API times are UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(*args, **kwargs)


class _ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="machine-readable, e.g. invalid_transition")
    message = serializers.CharField(help_text="for people")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="per input field, what is wrong",
    )


class ErrorOutput(serializers.Serializer):
    """The one error shape of every 4xx (acs/errors.py)."""

    error = _ErrorDetail()
