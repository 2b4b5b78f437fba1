"""The field app's endpoints for forms (under /api/v1/field/): the forms in use, the forms
bound to an encounter with the responses recorded on it, recording a response (idempotent on
the tablet's client_id), and one response as a FHIR QuestionnaireResponse (audited)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from acs.errors import NotFound, named_in
from acs.permissions import role_required
from acs.roles import ACS_ROLES
from cases import selectors as case_selectors
from cases.models import FormVersion
from cases.screening import questionnaire, selectors, services
from responders.field.api.views import FieldView


class BindingOutput(serializers.Serializer):
    call_type = serializers.CharField()
    team = serializers.SerializerMethodField()
    disposition = serializers.CharField()
    required = serializers.BooleanField()

    def get_team(self, obj) -> str | None:
        return str(obj.team.public_id) if obj.team_id else None


class FormVersionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    key = serializers.CharField(source="definition.key")
    purpose = serializers.CharField(source="definition.purpose")
    scored = serializers.SerializerMethodField()
    number = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    items = serializers.JSONField(help_text="FHIR Questionnaire items")
    bindings = BindingOutput(many=True, source="definition.bindings.all")

    def get_scored(self, obj) -> bool:
        return bool(obj.definition.scoring)


class FormResponseOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    client_id = serializers.UUIDField()
    form = serializers.CharField(source="version.definition.key")
    version = serializers.UUIDField(source="version.public_id")
    version_number = serializers.IntegerField(source="version.number")
    encounter = serializers.UUIDField(source="encounter.public_id")
    resident = serializers.SerializerMethodField()
    risk_level = serializers.CharField()
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField()
    language = serializers.CharField()

    def get_resident(self, obj) -> str | None:
        return str(obj.resident.public_id) if obj.resident_id else None


class FormResponseInput(serializers.Serializer):
    client_id = serializers.UUIDField()
    version = serializers.UUIDField(help_text="the form version the responder started on")
    resident = serializers.UUIDField(required=False, allow_null=True, default=None)
    answers = serializers.DictField(help_text="{linkId: value}")
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    language = serializers.ChoiceField(choices=["en", "es"], default="en")


class FieldFormsView(FieldView):
    @extend_schema(
        responses=inline_serializer(
            name="FormList", fields={"results": FormVersionOutput(many=True)}
        ),
        summary="The forms in use, with where each applies (kept on the tablet for offline)",
    )
    def get(self, request: Request) -> Response:
        return Response({"results": FormVersionOutput(selectors.published_forms(), many=True).data})


class EncounterFormsView(FieldView):
    @extend_schema(
        responses=inline_serializer(
            name="EncounterForms",
            fields={
                "bound": inline_serializer(
                    name="BoundForm",
                    fields={
                        "version": serializers.UUIDField(),
                        "required": serializers.BooleanField(),
                    },
                    many=True,
                ),
                "responses": FormResponseOutput(many=True),
            },
        ),
        summary="The forms bound to an encounter, and the responses recorded on it",
    )
    def get(self, request: Request, public_id) -> Response:
        encounter = case_selectors.encounter_get_for_user(request.user, public_id)
        responses = selectors.form_response_queryset_for_user(request.user).filter(
            encounter=encounter
        )
        return Response(
            {
                "bound": [
                    {"version": str(b.version.public_id), "required": b.required}
                    for b in selectors.forms_for_encounter(encounter)
                ],
                "responses": FormResponseOutput(responses.order_by("id"), many=True).data,
            }
        )

    @extend_schema(
        request=FormResponseInput,
        responses={
            201: FormResponseOutput,
            200: OpenApiResponse(FormResponseOutput, description="a retried client_id"),
        },
        summary="Record a completed form (a retry with the same client_id returns the first)",
    )
    def post(self, request: Request, public_id) -> Response:
        data = FormResponseInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        encounter = case_selectors.encounter_get_for_user(request.user, public_id)
        version = (
            FormVersion.objects.select_related("definition")
            .filter(public_id=values["version"])
            .first()
        )
        if version is None:
            raise NotFound(
                "No such form version.",
                code="form_version_not_found",
                fields={"version": ["No such form version."]},
            )
        resident = None
        if values["resident"] is not None:
            with named_in("resident"):
                resident = case_selectors.resident_get_for_user(request.user, values["resident"])
        response, created = services.form_response_submit(
            actor=request.user,
            client_id=values["client_id"],
            encounter=encounter,
            version=version,
            resident=resident,
            answers=values["answers"],
            started_at=values["started_at"],
            completed_at=values["completed_at"],
            language=values["language"],
            request=request,
        )
        return Response(
            FormResponseOutput(response).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class FormResponseFhirView(FieldView):
    permission_classes = [role_required(*ACS_ROLES)]

    @extend_schema(
        responses=OpenApiResponse(description="a FHIR R4 QuestionnaireResponse"),
        summary="One form response as FHIR QuestionnaireResponse (audited)",
    )
    def get(self, request: Request, public_id) -> Response:
        response = selectors.form_response_get_for_user(request.user, public_id, request=request)
        out = Response(questionnaire.questionnaire_response_from(response))
        out["Cache-Control"] = "no-store"
        return out
