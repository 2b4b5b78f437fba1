"""The shapes the CAD and field APIs share (the call as rendered, times with an offset,
coordinates, the unit statuses), beneath both surfaces. The CAD API's own input shapes are in
cases/cad/serializers.py, the field API's in responders/field/api/serializers.py. Input
serializers validate; output ones render."""

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Prefetch
from rest_framework import serializers

from acs.serializers import (
    UTCDateTimeField,
)
from cases.models import (
    Call,
    UnitAssignment,
)


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
