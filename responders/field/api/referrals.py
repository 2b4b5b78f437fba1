"""Referrals from the field app and the desk: ACS staff refer a resident they may see to a
partner service, from an encounter or a follow-up (session sign-in; the field app's API)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from acs.api import created_once, created_status
from acs.errors import NotFound, named_in
from acs.parsers import FieldJSONParser
from acs.permissions import role_required
from acs.roles import ACS_ROLES
from acs.serializers import (
    ErrorOutput,
    StrictBooleanField,
    StrictCharField,
    StrictUUIDField,
    UTCDateTimeField,
)
from cases import selectors as case_selectors
from cases.models import Need
from resources import selectors, services
from resources.models import Referral, ReferralStatus, Service, ServiceAtLocation


class ReferralCreateInput(serializers.Serializer):
    client_id = StrictUUIDField(help_text="the tablet's id: a retry returns the first")
    resident = StrictUUIDField()
    service = StrictUUIDField(help_text="HSDS id of a service that accepts referrals")
    service_at_location = StrictUUIDField(required=False, allow_null=True, default=None)
    encounter = StrictUUIDField(required=False, allow_null=True, default=None)
    follow_up = StrictUUIDField(required=False, allow_null=True, default=None)
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices, default="routine")
    reason = StrictCharField(max_length=2000, allow_blank=True, default="")
    reason_part2 = StrictBooleanField(
        allow_null=True,
        default=None,
        help_text="the reason mentions substance use (42 CFR Part 2): the partner sees it only "
        "under the resident's written substance-use consent; left out or null, a "
        "substance_use need implies it",
    )
    needs = serializers.ListField(
        child=serializers.ChoiceField(choices=Need.choices), default=list, max_length=20
    )
    send = StrictBooleanField(default=True, help_text="false: keep as a draft")
    consent_override_reason = StrictCharField(
        max_length=500,
        allow_blank=True,
        default="",
        help_text="supervisors only: send without the sharing consent, for this reason",
    )


class ReferralStaffOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    client_id = serializers.UUIDField(allow_null=True)
    resident = serializers.UUIDField(source="resident.public_id")
    service = serializers.UUIDField(source="service.public_id")
    service_name = serializers.CharField(source="service.name")
    organization = serializers.CharField(source="organization.name")
    encounter = serializers.UUIDField(source="encounter.public_id", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    urgency = serializers.CharField()
    reason = serializers.CharField()
    reason_part2 = serializers.BooleanField()
    needs = serializers.ListField(child=serializers.CharField())
    outcome = serializers.CharField()
    sent_at = UTCDateTimeField(allow_null=True)
    respond_by = UTCDateTimeField(allow_null=True)
    updated_at = UTCDateTimeField()
    consent_override = serializers.SerializerMethodField()

    def get_consent_override(self, referral) -> bool:
        return referral.consent_override_by_id is not None


class FieldReferralsView(APIView):
    permission_classes = [role_required(*ACS_ROLES)]
    parser_classes = [FieldJSONParser]

    @extend_schema(
        request=ReferralCreateInput,
        responses={
            **created_once(ReferralStaffOutput),
            400: OpenApiResponse(
                ErrorOutput,
                description="invalid, or consent_required: record the sharing consent first",
            ),
            403: OpenApiResponse(ErrorOutput, description="override by a non-supervisor"),
            404: OpenApiResponse(ErrorOutput, description="resident, service or record unknown"),
        },
        summary="Refer a resident to a partner service (sent at once unless send=false)",
    )
    def post(self, request: Request) -> Response:
        data = ReferralCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        with named_in("resident"):
            resident = case_selectors.resident_get_for_user(
                request.user, v["resident"], request=request
            )
        service = Service.objects.filter(public_id=v["service"]).first()
        if service is None:
            raise NotFound(
                "No such service.",
                code="service_not_found",
                fields={"service": ["No such service."]},
            )
        sal = None
        if v["service_at_location"]:
            sal = ServiceAtLocation.objects.filter(public_id=v["service_at_location"]).first()
            if sal is None:
                raise NotFound(
                    "No such service at a location.",
                    code="not_found",
                    fields={"service_at_location": ["No such service at a location."]},
                )
        encounter = None
        if v["encounter"]:
            with named_in("encounter"):
                encounter = case_selectors.encounter_get_for_user(request.user, v["encounter"])
        follow_up = None
        if v["follow_up"]:
            follow_up = (
                case_selectors.follow_up_queryset_for_user(request.user)
                .filter(public_id=v["follow_up"])
                .first()
            )
            if follow_up is None:
                raise NotFound(
                    "No such follow-up.",
                    code="follow_up_not_found",
                    fields={"follow_up": ["No such follow-up."]},
                )
        referral = services.referral_create(
            actor=request.user,
            resident=resident,
            service=service,
            service_at_location=sal,
            encounter=encounter,
            follow_up=follow_up,
            urgency=v["urgency"],
            reason=v["reason"],
            reason_part2=v["reason_part2"],
            needs=v["needs"],
            client_id=v["client_id"],
            send=v["send"],
            consent_override_reason=v["consent_override_reason"],
            request=request,
        )
        return Response(
            ReferralStaffOutput(referral).data,
            status=created_status(referral),
        )


class FieldReferralView(APIView):
    permission_classes = [role_required(*ACS_ROLES)]

    @extend_schema(
        responses={200: ReferralStaffOutput, 404: ErrorOutput},
        summary="One referral I may see, with its live status",
    )
    def get(self, request: Request, public_id) -> Response:
        referral = selectors.referral_get_for_user(request.user, public_id)
        case_selectors.resident_read_audit(
            request.user,
            referral.resident_id,
            request=request,
            via="field_api",
            referral=referral.public_id,
        )
        return Response(ReferralStaffOutput(referral).data)
