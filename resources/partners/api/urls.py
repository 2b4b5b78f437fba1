"""The partner API, mounted under /api/v1/ (docs/api.md). The staff side of referrals is the
field app's (responders/field/api/urls.py)."""

from django.urls import path

from resources.partners.api import views

urlpatterns = [
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
