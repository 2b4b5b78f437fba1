"""The tablet's position while its unit is in service: POST /api/v1/field/units/{call_sign}/
position, for the operations board (cases/board/). The responder is told on every field page
and may pause it (static/field/field_position.js); positions are kept short-term
(responders/positions.py, docs/security.md "Stored copies")."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from acs.errors import Conflict, NotFound
from acs.permissions import role_required
from acs.roles import Role
from cases.api.serializers import AwareDateTimeField, CoordinateField
from responders.field.api.views import FieldView
from responders.models import PositionSource, Unit, UnitStatus
from responders.positions import unit_position_record


class UnitPositionInput(serializers.Serializer):
    latitude = CoordinateField(90)
    longitude = CoordinateField(180)
    at = AwareDateTimeField(help_text="When the tablet took the position")


class UnitPositionView(FieldView):
    permission_classes = [role_required(Role.RESPONDER)]

    @extend_schema(
        request=UnitPositionInput,
        responses={
            204: OpenApiResponse(description="kept (or already older than the retention)"),
            409: OpenApiResponse(description="`unit_out_of_service`: nothing is kept"),
        },
        summary="Where my unit's tablet is, while the unit is in service",
    )
    def post(self, request: Request, call_sign: str) -> Response:
        data = UnitPositionInput(data=request.data)
        data.is_valid(raise_exception=True)
        unit = Unit.objects.filter(call_sign=call_sign.upper(), members=request.user).first()
        if unit is None:
            raise NotFound("No such unit among yours.", code="unit_not_found")
        if unit.status == UnitStatus.OUT_OF_SERVICE:
            raise Conflict(
                "The unit is out of service: its position is not kept.",
                code="unit_out_of_service",
            )
        unit_position_record(
            unit=unit,
            latitude=data.validated_data["latitude"],
            longitude=data.validated_data["longitude"],
            at=data.validated_data["at"],
            source=PositionSource.FIELD,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
