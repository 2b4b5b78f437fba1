"""The field app's pages, under /field/ (acs/urls.py)."""

from django.urls import path

from responders.field import call_views, directory_views, encounter_views, screening_views, views

app_name = "field"

urlpatterns = [
    path("", views.home, name="home"),
    path("calls/", call_views.calls, name="calls"),
    path("calls/rows", call_views.call_rows, name="call_rows"),
    path("calls/<uuid:public_id>/", call_views.call_detail, name="call"),
    path("units/<str:call_sign>/status", call_views.unit_status, name="unit_status"),
    path("encounters/", encounter_views.encounters, name="encounters"),
    path("encounters/new", encounter_views.encounter_new, name="encounter_new"),
    path("encounters/<uuid:public_id>/", encounter_views.encounter_detail, name="encounter"),
    path(
        "encounters/<uuid:public_id>/notes",
        encounter_views.encounter_addendum,
        name="encounter_note",
    ),
    path("residents/<uuid:public_id>/", encounter_views.resident_profile, name="resident"),
    path(
        "safety-plans/<uuid:public_id>/",
        screening_views.safety_plan_print,
        name="safety_plan",
    ),
    path(
        "safety-plans/<uuid:public_id>/text",
        screening_views.safety_plan_text,
        name="safety_plan_text",
    ),
    path("resources/", directory_views.resources, name="resources"),
    path("directory.json", directory_views.directory_snapshot, name="directory"),
    path("language", views.language, name="language"),
    path("sign-out", views.sign_out, name="sign_out"),
    path("offline", views.offline, name="offline"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
