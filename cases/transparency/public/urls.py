"""The public transparency dashboard, mounted at /transparency/ (acs/urls.py)."""

from django.urls import path

from cases.transparency.public import views

app_name = "transparency"

urlpatterns = [
    path("", views.page, name="page"),
    path("definitions/", views.definitions, name="definitions"),
    path("metrics.csv", views.metrics_csv, name="csv"),
    path("metrics.json", views.metrics_json, name="json"),
    path("datapackage.json", views.data_dictionary, name="datapackage"),
]
