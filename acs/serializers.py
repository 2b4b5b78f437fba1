"""Serializer fields shared by every API."""

from datetime import UTC

from rest_framework import serializers


class UTCDateTimeField(serializers.DateTimeField):
    """Output in UTC ("...Z"), whatever the department's time zone: API times are UTC."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(*args, **kwargs)
