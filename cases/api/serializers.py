"""Input and output shapes of the CAD API. Input serializers validate; output ones render."""

import re

from rest_framework import serializers

from acs.serializers import UTCDateTimeField
from cases import lifecycle
from cases.call_types import known_call_types
from cases.models import CallSource

INCIDENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CALL_SIGN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def validate_incident_number(value: str) -> str:
    if not INCIDENT_NUMBER.match(value):
        raise serializers.ValidationError(
            "An incident number is 1-64 letters, digits, '.', '_' or '-'."
        )
    return value


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset; a time without one is refused, not guessed."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601 with an offset")
        parsed = super().to_internal_value(value)
        if not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip()):
            raise serializers.ValidationError(
                "Give the time with its UTC offset, e.g. 2026-11-24T21:05:00-07:00."
            )
        return parsed


class StrictCharField(serializers.CharField):
    """A string, and only a string: numbers and booleans are not silently converted."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class LocationInput(serializers.Serializer):
    address = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
    )
    council_district = StrictCharField(max_length=8, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if (attrs["latitude"] is None) != (attrs["longitude"] is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs


class CallInput(serializers.Serializer):
    call_type = StrictCharField(max_length=32)
    priority = serializers.IntegerField(min_value=1, max_value=5)
    source = serializers.ChoiceField(choices=CallSource.choices)
    received_at = AwareDateTimeField()
    location = LocationInput(required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate_call_type(self, value: str) -> str:
        code = value.strip().upper()
        if code not in known_call_types():
            raise serializers.ValidationError(
                f"Unknown call type {value!r}: use an APCO code or a configured local type."
            )
        return code

    def validate_priority(self, value):
        if isinstance(self.initial_data.get("priority"), bool):
            raise serializers.ValidationError("A priority is a whole number from 1 to 5.")
        return value


class CallEventInput(serializers.Serializer):
    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=lifecycle.EVENT_TYPES)
    unit = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    at = AwareDateTimeField()

    def validate_unit(self, value: str) -> str:
        value = value.strip().upper()
        if value and not CALL_SIGN.match(value):
            raise serializers.ValidationError("A call sign is 1-32 letters, digits or '-'.")
        return value

    def validate(self, attrs):
        if attrs["type"] in lifecycle.UNIT_EVENTS and not attrs["unit"]:
            raise serializers.ValidationError({"unit": f"A {attrs['type']} event names its unit."})
        return attrs


class AssignmentOutput(serializers.Serializer):
    unit = serializers.CharField(source="unit.call_sign")
    unit_needs_confirmation = serializers.BooleanField(source="unit.needs_confirmation")
    status = serializers.CharField()
    dispatched_at = UTCDateTimeField(allow_null=True)
    en_route_at = UTCDateTimeField(allow_null=True)
    on_scene_at = UTCDateTimeField(allow_null=True)
    transporting_at = UTCDateTimeField(allow_null=True)
    cleared_at = UTCDateTimeField(allow_null=True)
    cancelled_at = UTCDateTimeField(allow_null=True)


class CallOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    incident_number = serializers.CharField()
    status = serializers.CharField()
    call_type = serializers.CharField()
    priority = serializers.IntegerField()
    source = serializers.CharField()
    received_at = UTCDateTimeField(allow_null=True)
    location = serializers.SerializerMethodField()
    notes = serializers.CharField()
    dispatched_at = UTCDateTimeField(allow_null=True)
    en_route_at = UTCDateTimeField(allow_null=True)
    on_scene_at = UTCDateTimeField(allow_null=True)
    transporting_at = UTCDateTimeField(allow_null=True)
    cleared_at = UTCDateTimeField(allow_null=True)
    cancelled_at = UTCDateTimeField(allow_null=True)
    returned_to_police_at = UTCDateTimeField(allow_null=True)
    escalated_at = UTCDateTimeField(allow_null=True)
    reopened_at = UTCDateTimeField(allow_null=True)
    units = AssignmentOutput(source="assignments", many=True)

    def get_location(self, call) -> dict:
        return {
            "address": call.address,
            "latitude": float(call.latitude) if call.latitude is not None else None,
            "longitude": float(call.longitude) if call.longitude is not None else None,
            "council_district": call.council_district,
        }
