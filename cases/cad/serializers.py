"""The CAD API's input shapes: a call as CAD sends it, with its location, and the events that
follow it. The shapes it shares with the field API (times, coordinates, the rendered call) are
cases/api/serializers.py. Input serializers validate."""

import re

from rest_framework import serializers

from acs.serializers import StrictBooleanField, StrictCharField, StrictIntegerField, StrictUUIDField
from cases import lifecycle
from cases.api.serializers import AwareDateTimeField, CoordinateField
from cases.call_types import known_call_types
from cases.models import CallSource, RoutedTo

INCIDENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CALL_SIGN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def validate_incident_number(value: str) -> str:
    # fullmatch: with match, `$` would let a trailing newline through.
    if not INCIDENT_NUMBER.fullmatch(value):
        raise serializers.ValidationError(
            "An incident number is 1-64 letters, digits, '.', '_' or '-'."
        )
    return value


class LocationInput(serializers.Serializer):
    address = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    latitude = CoordinateField(90, required=False, allow_null=True, default=None)
    longitude = CoordinateField(180, required=False, allow_null=True, default=None)
    council_district = StrictCharField(max_length=8, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if (attrs["latitude"] is None) != (attrs["longitude"] is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs


class CadCallInput(serializers.Serializer):
    call_type = StrictCharField(max_length=32)
    priority = StrictIntegerField(min_value=1, max_value=5)
    source = serializers.ChoiceField(choices=CallSource.choices)
    received_at = AwareDateTimeField()
    location = LocationInput(required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    # Issue 21 (coverage), both optional: a request without them is answered as before.
    acs_eligible = StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="CAD's own verdict: is this call eligible for an ACS response? Omitted or "
        "null: the department's eligibility rules decide (by call type, source, priority).",
    )
    routed_to = serializers.ChoiceField(
        choices=RoutedTo.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="For an eligible call CAD sent elsewhere instead of to ACS: police, fire or "
        "none (no one was sent). Omitted or blank: the call is ACS's. A routed call counts "
        "only in the coverage figure's denominator.",
    )

    def validate_call_type(self, value: str) -> str:
        code = value.strip().upper()
        if code not in known_call_types():
            raise serializers.ValidationError(
                f"Unknown call type {value!r}: use an APCO code or a configured local type."
            )
        return code


class CallEventInput(serializers.Serializer):
    event_id = StrictUUIDField()
    type = serializers.ChoiceField(choices=lifecycle.EVENT_TYPES)
    unit = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
    at = AwareDateTimeField()
    # Optional (added in 2026-12; older senders leave them out): where the unit was at `at`,
    # from CAD's AVL. Kept short-term for the operations board (docs/api.md).
    latitude = CoordinateField(
        90, required=False, allow_null=True, default=None, help_text="The unit's position at `at`"
    )
    longitude = CoordinateField(
        180, required=False, allow_null=True, default=None, help_text="The unit's position at `at`"
    )

    def validate_unit(self, value: str) -> str:
        value = value.strip().upper()
        if value and not CALL_SIGN.match(value):
            raise serializers.ValidationError("A call sign is 1-32 letters, digits or '-'.")
        return value

    def validate(self, attrs):
        if attrs["type"] in lifecycle.UNIT_EVENTS and not attrs["unit"]:
            raise serializers.ValidationError({"unit": f"A {attrs['type']} event names its unit."})
        if (attrs["latitude"] is None) != (attrs["longitude"] is None):
            missing = "longitude" if attrs["longitude"] is None else "latitude"
            raise serializers.ValidationError(
                {missing: "Give both latitude and longitude, or neither."}
            )
        if attrs["latitude"] is not None and not attrs["unit"]:
            raise serializers.ValidationError({"unit": "A position is a unit's: name the unit."})
        return attrs
