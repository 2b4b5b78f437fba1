"""Mounted at /api/hsds/ by acs/urls.py. Paths as in HSDS 3.0's openapi.json (no slash)."""

from django.urls import path

from resources.api import hsds_views as views

app_name = "hsds"

urlpatterns = [
    path("", views.RootView.as_view(), name="root"),
    path("services", views.ServiceListView.as_view(), name="services"),
    path("services/<str:public_id>", views.ServiceDetailView.as_view(), name="service"),
    path(
        "service_at_locations",
        views.ServiceAtLocationListView.as_view(),
        name="service-at-locations",
    ),
    path(
        "service_at_locations/<str:public_id>",
        views.ServiceAtLocationDetailView.as_view(),
        name="service-at-location",
    ),
    path("organizations", views.OrganizationListView.as_view(), name="organizations"),
    path(
        "organizations/<str:public_id>",
        views.OrganizationDetailView.as_view(),
        name="organization",
    ),
    path("taxonomies", views.TaxonomyListView.as_view(), name="taxonomies"),
    path("taxonomies/<str:public_id>", views.TaxonomyDetailView.as_view(), name="taxonomy"),
    path("taxonomy_terms", views.TaxonomyTermListView.as_view(), name="taxonomy-terms"),
    path(
        "taxonomy_terms/<str:public_id>",
        views.TaxonomyTermDetailView.as_view(),
        name="taxonomy-term",
    ),
]
