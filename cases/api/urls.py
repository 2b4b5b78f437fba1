from django.urls import path

from cases.api import field
from cases.api.positions import UnitPositionView
from cases.api.views import CadCallEventsView, CadCallView
from cases.screening import api as forms_api

urlpatterns = [
    path("cad/calls/<str:incident_number>", CadCallView.as_view(), name="cad-call"),
    path(
        "cad/calls/<str:incident_number>/events",
        CadCallEventsView.as_view(),
        name="cad-call-events",
    ),
    path("field/calls", field.FieldCallsView.as_view(), name="field-calls"),
    path("field/units/<str:call_sign>/status", field.UnitStatusView.as_view(), name="field-unit"),
    path(
        "field/units/<str:call_sign>/position",
        UnitPositionView.as_view(),
        name="field-unit-position",
    ),
    path(
        "field/residents/search", field.ResidentSearchView.as_view(), name="field-resident-search"
    ),
    path("field/residents", field.ResidentsView.as_view(), name="field-residents"),
    path("field/residents/<uuid:public_id>", field.ResidentView.as_view(), name="field-resident"),
    path(
        "field/residents/<uuid:public_id>/consents",
        field.ResidentConsentsView.as_view(),
        name="field-resident-consents",
    ),
    path(
        "field/residents/<uuid:public_id>/consents/<uuid:consent_id>/revoke",
        field.ConsentRevokeView.as_view(),
        name="field-consent-revoke",
    ),
    path("field/encounters", field.EncountersView.as_view(), name="field-encounters"),
    path(
        "field/encounters/<uuid:public_id>", field.EncounterView.as_view(), name="field-encounter"
    ),
    path(
        "field/encounters/<uuid:public_id>/submit",
        field.EncounterSubmitView.as_view(),
        name="field-encounter-submit",
    ),
    path(
        "field/encounters/<uuid:public_id>/follow-ups",
        field.EncounterFollowUpsView.as_view(),
        name="field-encounter-follow-ups",
    ),
    path(
        "field/encounters/<uuid:public_id>/addenda",
        field.EncounterAddendaView.as_view(),
        name="field-encounter-addenda",
    ),
    # Forms on encounters (cases/screening/api.py).
    path("field/forms", forms_api.FieldFormsView.as_view(), name="field-forms"),
    path(
        "field/encounters/<uuid:public_id>/forms",
        forms_api.EncounterFormsView.as_view(),
        name="field-encounter-forms",
    ),
    path(
        "field/form-responses/<uuid:public_id>",
        forms_api.FormResponseFhirView.as_view(),
        name="field-form-response",
    ),
]
