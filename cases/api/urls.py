from django.urls import path

from cases.api.views import CadCallEventsView, CadCallView

urlpatterns = [
    path("cad/calls/<str:incident_number>", CadCallView.as_view(), name="cad-call"),
    path(
        "cad/calls/<str:incident_number>/events",
        CadCallEventsView.as_view(),
        name="cad-call-events",
    ),
]
