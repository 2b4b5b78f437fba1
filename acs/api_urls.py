"""Every app's API under /api/v1/. Apps add their own `api/urls.py` here as they grow one."""

from django.urls import include, path

from acs.api import MeView

urlpatterns = [
    path("me", MeView.as_view(), name="api-me"),
    path("", include("cases.cad.urls")),
    path("", include("responders.field.api.urls")),
    path("", include("resources.partners.api.urls")),
]
