"""The partner API and the staff side of referrals, mounted under /api/v1/ (docs/api.md)."""

from django.urls import path

from resources.api import field_views
from resources.api import partner_views as views

urlpatterns = [
    path("field/referrals", field_views.FieldReferralsView.as_view(), name="field-referrals"),
    path(
        "field/referrals/<uuid:public_id>",
        field_views.FieldReferralView.as_view(),
        name="field-referral",
    ),
    path("referrals", views.ReferralListView.as_view(), name="partner-referrals"),
    path("referrals/<str:public_id>", views.ReferralDetailView.as_view(), name="partner-referral"),
    path(
        "referrals/<str:public_id>/accept",
        views.ReferralAcceptView.as_view(),
        name="partner-referral-accept",
    ),
    path(
        "referrals/<str:public_id>/decline",
        views.ReferralDeclineView.as_view(),
        name="partner-referral-decline",
    ),
    path(
        "referrals/<str:public_id>/start",
        views.ReferralStartView.as_view(),
        name="partner-referral-start",
    ),
    path(
        "referrals/<str:public_id>/complete",
        views.ReferralCompleteView.as_view(),
        name="partner-referral-complete",
    ),
    path(
        "referrals/<str:public_id>/notes",
        views.ReferralNotesView.as_view(),
        name="partner-referral-notes",
    ),
    path(
        "capacity/<str:service_at_location_id>",
        views.CapacityView.as_view(),
        name="partner-capacity",
    ),
]
