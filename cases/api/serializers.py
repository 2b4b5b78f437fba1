"""Input and output shapes of the CAD API, and those the field API shares with it (the
call as rendered, times with an offset, coordinates). The field API's own shapes are in
responders/field/api/serializers.py. Input serializers validate; output ones render."""

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Prefetch
from rest_framework import serializers

from acs.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
    UTCDateTimeField,
)
from cases import lifecycle
from cases.call_types import known_call_types
from cases.models import (
    Call,
    CallSource,
    RoutedTo,
    UnitAssignment,
)

INCIDENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CALL_SIGN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def validate_incident_number(value: str) -> str:
    # fullmatch: with match, `$` would let a trailing newline through.
    if not INCIDENT_NUMBER.fullmatch(value):
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


class CoordinateField(serializers.DecimalField):
    """Degrees, a JSON number within +-`limit`, rounded to the six decimal places kept (about
    ten centimetres): CAD sends whatever precision its map has, and the schema promises no
    more than a number in range."""

    def __init__(self, limit: int, **kwargs):
        self.limit = limit
        super().__init__(
            max_digits=9,
            decimal_places=6,
            min_value=-limit,
            max_value=limit,
            coerce_to_string=False,
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        if abs(data) > self.limit:
            raise serializers.ValidationError(f"Between -{self.limit} and {self.limit}.")
        return Decimal(str(data)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


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
    acs_eligible = serializers.BooleanField(allow_null=True)
    routed_to = serializers.CharField()
    units = AssignmentOutput(source="assignments", many=True)

    def get_location(self, call) -> dict:
        return {
            "address": call.address,
            "latitude": float(call.latitude) if call.latitude is not None else None,
            "longitude": float(call.longitude) if call.longitude is not None else None,
            "council_district": call.council_district,
        }


def render_call(call: Call) -> dict:
    """A call as both APIs render it, with its units' assignments in the order they came."""
    call = Call.objects.prefetch_related(
        Prefetch(
            "assignments",
            queryset=UnitAssignment.objects.select_related("unit").order_by("id"),
        )
    ).get(pk=call.pk)
    return CallOutput(call).data


# Shared with the field API's unit moves (responders/field/api/serializers.py) and stated in
# the schema (cases/api/schema.py): a unit's moves on a call (they name the call) and between
# calls (they do not).
UNIT_CALL_STATUSES = ("en_route", "on_scene", "transporting", "cleared")
UNIT_SERVICE_STATUSES = ("available", "out_of_service")
