"""The CAD API under /api/v1/cad/ (acs/api_urls.py). The field API is the field app's
(responders/field/api/urls.py)."""

from django.urls import path

from cases.cad.views import CadCallEventsView, CadCallView

urlpatterns = [
    path("cad/calls/<str:incident_number>", CadCallView.as_view(), name="cad-call"),
    path(
        "cad/calls/<str:incident_number>/events",
        CadCallEventsView.as_view(),
        name="cad-call-events",
    ),
]
