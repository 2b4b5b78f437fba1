"""The CAD API's views: a call as CAD sends it, and the events that follow it (docs/api.md)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from acs.authentication import BearerTokenAuthentication
from acs.parsers import BoundedJSONParser
from acs.permissions import role_required
from acs.roles import Role
from cases import services
from cases.api.serializers import CallOutput, render_call
from cases.cad.serializers import (
    INCIDENT_NUMBER,
    CadCallInput,
    CallEventInput,
    validate_incident_number,
)

INCIDENT_NUMBER_PARAMETER = OpenApiParameter(
    "incident_number",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=INCIDENT_NUMBER.pattern,
    description="CAD's incident number: 1 to 64 letters, digits, '.', '_' or '-'",
)


class CadView(APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [role_required(Role.CAD_INTEGRATION)]
    parser_classes = [BoundedJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        validate_incident_number(kwargs["incident_number"])


class CadCallView(CadView):
    @extend_schema(
        request=CadCallInput,
        parameters=[INCIDENT_NUMBER_PARAMETER],
        responses={200: CallOutput, 201: CallOutput},
        summary="Create or update a call (idempotent on the incident number)",
    )
    def put(self, request: Request, incident_number: str) -> Response:
        data = CadCallInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        location = values.pop("location", None) or {
            "address": "",
            "latitude": None,
            "longitude": None,
            "council_district": "",
        }
        call, created = services.call_upsert(
            incident_number=incident_number,
            data=services.CallInput(**values, **location),
            actor=request.user,
            request=request,
        )
        return Response(
            render_call(call), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class CadCallEventsView(CadView):
    @extend_schema(
        request=CallEventInput,
        parameters=[INCIDENT_NUMBER_PARAMETER],
        responses={
            201: CallOutput,
            200: OpenApiResponse(CallOutput, description="a resent event_id: the first result"),
            409: OpenApiResponse(description="the life cycle does not allow this move"),
        },
        summary="Apply a call or unit status event",
    )
    def post(self, request: Request, incident_number: str) -> Response:
        data = CallEventInput(data=request.data)
        data.is_valid(raise_exception=True)
        result, applied = services.call_event_record(
            incident_number=incident_number,
            event_id=data.validated_data["event_id"],
            type=data.validated_data["type"],
            at=data.validated_data["at"],
            unit_call_sign=data.validated_data["unit"],
            position=(
                (data.validated_data["latitude"], data.validated_data["longitude"])
                if data.validated_data["latitude"] is not None
                else None
            ),
            render=render_call,
            actor=request.user,
            request=request,
        )
        return Response(result, status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK)
