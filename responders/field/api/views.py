"""The internal API of the responders' field app (session sign-in, role responder).

Views translate HTTP only: validate with an input serializer, call one selector or service,
render with an output serializer.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from acs.api import CURSOR_PARAMETER, created_once, created_status, cursor_page
from acs.errors import NotFound, error_body, named_in
from acs.parsers import FieldJSONParser
from acs.permissions import role_required
from acs.roles import ACS_ROLES, Role
from cases import selectors, services
from cases.api.serializers import CallOutput, render_call
from cases.models import (
    Addendum,
    Consent,
    Encounter,
    EncounterResident,
    FollowUp,
    UnitAssignment,
)
from resources.models import Referral
from responders.field.api.serializers import (
    AddendumInput,
    AddendumOutput,
    ConsentInput,
    ConsentOutput,
    EncounterCreateInput,
    EncounterInput,
    EncounterOutput,
    FollowUpOutput,
    FollowUpRequestInput,
    ResidentCreateInput,
    ResidentInput,
    ResidentMatchOutput,
    ResidentOutput,
    ResidentSearchInput,
    ResidentSummaryOutput,
    UnitServiceStatusOutput,
    UnitStatusInput,
)
from responders.models import Unit


class FieldView(APIView):
    permission_classes = [role_required(*ACS_ROLES)]
    parser_classes = [FieldJSONParser]


class NewestFirst(CursorPagination):
    ordering = ("-received_at", "-id")
    page_size = 25


class FieldCallsView(FieldView):
    permission_classes = [role_required(Role.RESPONDER)]

    @extend_schema(
        parameters=[CURSOR_PARAMETER],
        responses=cursor_page(CallOutput, name="CallPage"),
        summary="Calls my units are working now",
    )
    def get(self, request: Request) -> Response:
        calls = selectors.calls_for_unit_user(request.user).prefetch_related(
            Prefetch(
                "assignments",
                queryset=UnitAssignment.objects.select_related("unit").order_by("id"),
            )
        )
        paginator = NewestFirst()
        page = paginator.paginate_queryset(calls, request, view=self)
        return paginator.get_paginated_response(CallOutput(page, many=True).data)


class UnitStatusView(FieldView):
    permission_classes = [role_required(Role.RESPONDER)]

    @extend_schema(
        request=UnitStatusInput,
        responses={
            201: OpenApiResponse(CallOutput, description="a move on a call, applied"),
            200: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="UnitMove",
                    serializers=[CallOutput, UnitServiceStatusOutput],
                    resource_type_field_name=None,
                ),
                description="a move between calls (the unit's status); or a resent "
                "event_id (the call as its first move left it)",
            ),
        },
        summary="Move my unit: on a call (same life cycle as CAD's events) or in/out of service",
    )
    def post(self, request: Request, call_sign: str) -> Response:
        data = UnitStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        unit = Unit.objects.filter(call_sign=call_sign.upper(), members=request.user).first()
        if unit is None:
            raise NotFound("No such unit among yours.", code="unit_not_found")
        at = values["at"]
        if values["call"] is None:
            unit = services.unit_service_status_set(
                actor=request.user, unit=unit, status=values["status"], at=at
            )
            return Response(UnitServiceStatusOutput(unit).data)
        if values["undoes"] is not None:
            return self._undo(request, unit, values)
        call = selectors.calls_for_unit_user(request.user).filter(public_id=values["call"]).first()
        if call is None:
            raise NotFound(
                "No such call among your unit's.",
                code="call_not_found",
                fields={"call": ["No such call among your unit's."]},
            )
        result, applied = services.call_event_record(
            incident_number=call.incident_number,
            event_id=values["event_id"],
            type=values["status"],
            at=at,
            unit_call_sign=unit.call_sign,
            render=render_call,
            actor=request.user,
            request=request,
        )
        return Response(result, status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK)

    def _undo(self, request: Request, unit: Unit, values: dict) -> Response:
        # A cleared call has left the unit's current calls: the undo finds it by the unit's
        # assignment on it (any status), still only among the user's units' calls.
        call = selectors.call_of_unit(unit, values["call"])
        if call is None:
            raise NotFound(
                "No such call among your unit's.",
                code="call_not_found",
                fields={"call": ["No such call among your unit's."]},
            )
        result, applied = services.call_event_undo(
            call=call,
            unit=unit,
            undoes=values["undoes"],
            event_id=values["event_id"],
            status=values["status"],
            at=values["at"],
            render=render_call,
            actor=request.user,
            request=request,
        )
        return Response(result, status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK)


class ResidentSearchView(FieldView):
    """Search by POST: names and dates of birth are personal data and stay out of URLs
    (and so out of access logs and browser history)."""

    @extend_schema(
        request=ResidentSearchInput,
        responses=inline_serializer(
            name="ResidentSearchResults", fields={"results": ResidentMatchOutput(many=True)}
        ),
        summary="Search residents by name (typo-tolerant) and date of birth",
    )
    def post(self, request: Request) -> Response:
        params = ResidentSearchInput(data=request.data)
        params.is_valid(raise_exception=True)
        matches = selectors.resident_search(request.user, **params.validated_data, request=request)
        rows = []
        for match in matches:
            row = dict(ResidentSummaryOutput(match.resident).data)
            row["score"] = round(match.score, 3)
            rows.append(row)
        return Response({"results": rows})


class ResidentsView(FieldView):
    @extend_schema(
        request=ResidentCreateInput,
        responses={
            **created_once(ResidentOutput),
            409: OpenApiResponse(
                description="possible_duplicates, with the candidates; or client_id_reused"
            ),
        },
        summary="Create a resident (refused with the likely duplicates unless confirm_new)",
    )
    def post(self, request: Request) -> Response:
        data = ResidentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        confirm = values.pop("confirm_new")
        try:
            resident = services.resident_create(
                actor=request.user,
                data=values,
                confirm_new=confirm,
                client_id=values.pop("client_id"),
                request=request,
            )
        except services.PossibleDuplicates as exc:
            body = error_body(exc.code, exc.message)
            body["error"]["candidates"] = ResidentSummaryOutput(exc.candidates, many=True).data
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(
            ResidentOutput(resident).data,
            # A retried client_id returns the record its first attempt made: 200, not 201.
            status=created_status(resident),
        )


class ResidentView(FieldView):
    @extend_schema(responses=ResidentOutput, summary="One resident record (audited)")
    def get(self, request: Request, public_id) -> Response:
        resident = selectors.resident_get_for_user(request.user, public_id, request=request)
        return Response(ResidentOutput(resident).data)

    @extend_schema(request=ResidentInput, responses=ResidentOutput)
    def patch(self, request: Request, public_id) -> Response:
        data = ResidentInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        resident = selectors.resident_get_for_user(request.user, public_id, request=request)
        resident = services.resident_update(
            actor=request.user, resident=resident, changes=data.validated_data, request=request
        )
        return Response(ResidentOutput(resident).data)


def _render_encounter(encounter: Encounter) -> dict:
    encounter = (
        Encounter.objects.select_related("unit", "call")
        .prefetch_related(
            Prefetch("people", queryset=EncounterResident.objects.select_related("resident")),
            Prefetch("addenda", queryset=Addendum.objects.select_related("author").order_by("id")),
            Prefetch(
                "referrals",
                queryset=Referral.objects.select_related(
                    "resident", "service", "organization"
                ).order_by("id"),
            ),
            Prefetch(
                "consents",
                queryset=Consent.objects.select_related(
                    "resident", "organization", "recorded_by", "encounter"
                ).order_by("id"),
            ),
            Prefetch(
                "follow_ups",
                queryset=FollowUp.objects.select_related("resident", "encounter").order_by("id"),
            ),
        )
        .get(pk=encounter.pk)
    )
    return EncounterOutput(encounter).data


class EncountersView(FieldView):
    permission_classes = [role_required(Role.RESPONDER)]

    @extend_schema(
        request=EncounterCreateInput,
        responses=created_once(EncounterOutput),
        summary="Log an encounter (a retry with the same client_id returns the first)",
    )
    def post(self, request: Request) -> Response:
        data = EncounterCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        encounter, created = data.create_encounter(request)
        return Response(
            _render_encounter(encounter),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class EncounterView(FieldView):
    @extend_schema(responses=EncounterOutput, summary="One encounter (audited)")
    def get(self, request: Request, public_id) -> Response:
        encounter = selectors.encounter_get_for_user(request.user, public_id)
        selectors.encounter_read_audit(request.user, encounter, request=request, via="field_api")
        return Response(_render_encounter(encounter))

    @extend_schema(request=EncounterInput, responses=EncounterOutput, summary="Edit a draft")
    def patch(self, request: Request, public_id) -> Response:
        data = EncounterInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        resident_ids = values.pop("residents", None)
        encounter = selectors.encounter_get_for_user(request.user, public_id)
        encounter = services.encounter_update(
            actor=request.user,
            encounter=encounter,
            changes=values,
            resident_ids=resident_ids,
            request=request,
        )
        return Response(_render_encounter(encounter))


class EncounterSubmitView(FieldView):
    @extend_schema(request=None, responses=EncounterOutput, summary="Submit (idempotent)")
    def post(self, request: Request, public_id) -> Response:
        encounter = selectors.encounter_get_for_user(request.user, public_id)
        encounter = services.encounter_submit(
            actor=request.user, encounter=encounter, request=request
        )
        return Response(_render_encounter(encounter))


class EncounterAddendaView(FieldView):
    @extend_schema(request=AddendumInput, responses={201: AddendumOutput})
    def post(self, request: Request, public_id) -> Response:
        data = AddendumInput(data=request.data)
        data.is_valid(raise_exception=True)
        encounter = selectors.encounter_get_for_user(request.user, public_id)
        addendum = services.addendum_add(
            actor=request.user,
            encounter=encounter,
            text=data.validated_data["text"],
            request=request,
        )
        return Response(AddendumOutput(addendum).data, status=status.HTTP_201_CREATED)


class ResidentConsentsView(FieldView):
    @extend_schema(
        responses=inline_serializer(
            name="ConsentList",
            fields={
                "results": ConsentOutput(many=True),
                "sharing": inline_serializer(
                    name="SharingConsents",
                    fields={
                        "partners": serializers.BooleanField(
                            help_text="a consent to share with partners in general holds now"
                        ),
                        "named_partners": serializers.ListField(
                            child=serializers.UUIDField(),
                            help_text="organizations a named-partner consent covers now",
                        ),
                    },
                    help_text="what a referral sent now would find, for every partner (the "
                    "rule referral_send applies); the referral picker reads it",
                ),
            },
        ),
        summary="A resident's consents",
    )
    def get(self, request: Request, public_id) -> Response:
        from resources.selectors import sharing_consents

        resident = selectors.resident_get_for_user(request.user, public_id, request=request)
        consents = resident.consents.select_related(
            "organization", "recorded_by", "encounter"
        ).order_by("id")
        sharing = sharing_consents(resident)
        return Response(
            {
                "results": ConsentOutput(consents, many=True).data,
                "sharing": {
                    "partners": sharing.partners,
                    "named_partners": sorted(str(org) for org in sharing.named),
                },
            }
        )

    @extend_schema(
        request=ConsentInput,
        responses=created_once(ConsentOutput),
        summary="Record consent (a retry with the same client_id returns the first)",
    )
    def post(self, request: Request, public_id) -> Response:
        data = ConsentInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        resident = selectors.resident_get_for_user(request.user, public_id, request=request)
        organization = None
        if values["organization"] is not None:
            from resources.models import Organization

            organization = Organization.objects.filter(public_id=values["organization"]).first()
            if organization is None:
                raise NotFound(
                    "No such partner.",
                    code="organization_not_found",
                    fields={"organization": ["No such partner."]},
                )
        encounter = None
        if values["encounter"] is not None:
            with named_in("encounter"):
                encounter = selectors.encounter_get_for_user(request.user, values["encounter"])
        consent = services.consent_record(
            actor=request.user,
            resident=resident,
            scope=values["scope"],
            method=values["method"],
            organization=organization,
            encounter=encounter,
            expires_at=values["expires_at"],
            client_id=values["client_id"],
            request=request,
        )
        return Response(
            ConsentOutput(consent).data,
            status=created_status(consent),
        )


class ConsentRevokeView(FieldView):
    @extend_schema(request=None, responses=ConsentOutput, summary="Revoke a consent")
    def post(self, request: Request, public_id, consent_id) -> Response:
        resident = selectors.resident_get_for_user(request.user, public_id, request=request)
        consent = resident.consents.filter(public_id=consent_id).first()
        if consent is None:
            raise NotFound("No such consent.", code="consent_not_found")
        consent = services.consent_revoke(actor=request.user, consent=consent, request=request)
        return Response(ConsentOutput(consent).data)


class EncounterFollowUpsView(FieldView):
    @extend_schema(
        request=FollowUpRequestInput,
        responses={
            201: FollowUpOutput,
            200: OpenApiResponse(FollowUpOutput, description="already asked for this person"),
        },
        summary="Ask for a follow-up with a person of the encounter (one per person)",
    )
    def post(self, request: Request, public_id) -> Response:
        data = FollowUpRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        encounter = selectors.encounter_get_for_user(request.user, public_id)
        with named_in("resident"):
            resident = selectors.resident_get_for_user(request.user, values["resident"])
        follow_up, created = services.follow_up_request(
            actor=request.user,
            encounter=encounter,
            resident=resident,
            kind=values["kind"],
            due_at=values["due_at"],
            request=request,
        )
        return Response(
            FollowUpOutput(follow_up).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
