"""The field app's API under /api/v1/field/ (acs/api_urls.py includes it by dotted path, so the
core does not import the surface). Its names stay in the API's root namespace, as before the
field app became one package (#19): reverse("field-encounter", ...)."""

from django.urls import path

from responders.field.api import forms, referrals, views
from responders.field.api.positions import UnitPositionView

urlpatterns = [
    path("field/calls", views.FieldCallsView.as_view(), name="field-calls"),
    path("field/units/<str:call_sign>/status", views.UnitStatusView.as_view(), name="field-unit"),
    path(
        "field/units/<str:call_sign>/position",
        UnitPositionView.as_view(),
        name="field-unit-position",
    ),
    path(
        "field/residents/search", views.ResidentSearchView.as_view(), name="field-resident-search"
    ),
    path("field/residents", views.ResidentsView.as_view(), name="field-residents"),
    path("field/residents/<uuid:public_id>", views.ResidentView.as_view(), name="field-resident"),
    path(
        "field/residents/<uuid:public_id>/consents",
        views.ResidentConsentsView.as_view(),
        name="field-resident-consents",
    ),
    path(
        "field/residents/<uuid:public_id>/consents/<uuid:consent_id>/revoke",
        views.ConsentRevokeView.as_view(),
        name="field-consent-revoke",
    ),
    path("field/encounters", views.EncountersView.as_view(), name="field-encounters"),
    path(
        "field/encounters/<uuid:public_id>", views.EncounterView.as_view(), name="field-encounter"
    ),
    path(
        "field/encounters/<uuid:public_id>/submit",
        views.EncounterSubmitView.as_view(),
        name="field-encounter-submit",
    ),
    path(
        "field/encounters/<uuid:public_id>/follow-ups",
        views.EncounterFollowUpsView.as_view(),
        name="field-encounter-follow-ups",
    ),
    path(
        "field/encounters/<uuid:public_id>/addenda",
        views.EncounterAddendaView.as_view(),
        name="field-encounter-addenda",
    ),
    # Forms on encounters (forms.py).
    path("field/forms", forms.FieldFormsView.as_view(), name="field-forms"),
    path(
        "field/encounters/<uuid:public_id>/forms",
        forms.EncounterFormsView.as_view(),
        name="field-encounter-forms",
    ),
    path(
        "field/form-responses/<uuid:public_id>",
        forms.FormResponseFhirView.as_view(),
        name="field-form-response",
    ),
    # Referrals to partner services (referrals.py).
    path("field/referrals", referrals.FieldReferralsView.as_view(), name="field-referrals"),
    path(
        "field/referrals/<uuid:public_id>",
        referrals.FieldReferralView.as_view(),
        name="field-referral",
    ),
]
