"""Partners' webhook endpoints and deliveries: ACS sees their health, turns an endpoint off and
on again."""

from __future__ import annotations

from django.contrib import admin

from acs.local_times import LocalTimesAdmin
from resources.models import (
    WebhookDelivery,
)


class WebhookEndpointAdmin(LocalTimesAdmin):
    """Partners register endpoints in the portal; here ACS sees their health and turns them
    off and on again."""

    list_display = (
        "url",
        "organization",
        "active",
        "consecutive_failures",
        "last_success_at",
        "disabled_reason",
    )
    list_filter = ("active",)
    list_select_related = ("organization",)
    search_fields = ("url", "organization__name")
    readonly_fields = (
        "organization",
        "url",
        "active",
        "consecutive_failures",
        "last_success_at",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    )
    exclude = ("secret",)
    actions = ["enable", "disable"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Enable the selected endpoints (after the partner fixed them)")
    def enable(self, request, queryset):
        from resources.webhooks import endpoint_enable

        for endpoint in queryset:
            endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"Enabled {queryset.count()} endpoint(s).")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request, queryset):
        from django.db import transaction

        from resources.webhooks import endpoint_disable

        for endpoint in queryset.filter(active=True):
            with transaction.atomic():
                endpoint_disable(
                    endpoint=endpoint, reason=f"Disabled by {request.user.get_username()}"
                )
        self.message_user(request, "Disabled.")


class WebhookDeliveryAdmin(LocalTimesAdmin):
    """The delivery log: every event, its attempts and the last answer."""

    list_display = (
        "public_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    show_full_result_count = False
    readonly_fields = [f.name for f in WebhookDelivery._meta.concrete_fields if f.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
