"""The partner portal, mounted at /partners/ (acs/urls.py). Only ids in the URLs."""

from django.urls import path

from resources.partners import views

app_name = "portal"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("referrals/<uuid:public_id>/", views.referral_detail, name="referral_detail"),
    *[
        path(
            f"referrals/<uuid:public_id>/{action}/",
            views.referral_action,
            {"action": action},
            name=f"referral_{action}",
        )
        for action in views.ACTIONS
    ],
    path("capacity/", views.capacity, name="capacity"),
    path("capacity/<uuid:public_id>/", views.capacity_update, name="capacity_update"),
    path("webhooks/", views.webhook_list, name="webhooks"),
]
