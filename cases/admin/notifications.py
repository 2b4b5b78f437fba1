"""Notifications: the outbox and the SMS opt-outs, both read-only (written by the system)."""

from django.contrib import admin

from acs.admin_base import FastListAdmin
from acs.audit import audit_record
from acs.local_times import LocalTimesAdmin
from acs.models import AuditAction
from cases.models import Notification, SmsOptOut


class ReadOnlyAdmin(LocalTimesAdmin):
    """Rows written by the system: looked at, never added, edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(FastListAdmin, ReadOnlyAdmin):
    """The outbox, to see what went out and why something did not. The list shows no
    address or text (personal data); the detail page does, and opening one about a resident
    is audited as a view of that resident."""

    list_display = (
        "template",
        "channel",
        "recipient_kind",
        "status",
        "provider_status",
        "due_at",
        "sent_at",
        "attempts",
        "last_error",
    )
    list_filter = ("status", "channel", "template")
    # No column reads a relation: no join is needed (the detail page names the recipient).
    list_select_related = ()
    search_fields = ("=provider_message_id",)
    search_help_text = "The provider's message id (SM...)."
    date_hierarchy = "due_at"
    ordering = ("-due_at", "-id")
    fields = (
        "template",
        "channel",
        "language",
        "recipient_kind",
        "resident",
        "user",
        "organization",
        "follow_up",
        "referral",
        "status",
        "provider_status",
        "due_at",
        "expires_at",
        "next_attempt_at",
        "sent_at",
        "attempts",
        "last_error",
        "provider_message_id",
        "to_address",
        "body",
        "context",
        "dedupe_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notification = self.get_object(request, object_id)
        if notification is not None and notification.resident_id:
            audit_record(
                actor=request.user,
                action=AuditAction.VIEW,
                target=notification.resident,
                request=request,
                reason="admin: notification",
                detail={"notification": str(notification.public_id)},
            )
        return super().change_view(request, object_id, form_url, extra_context)


class OptOutActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("ended", "Ended (texted START)")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(opted_in_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(opted_in_at__isnull=False)
        return queryset


@admin.register(SmsOptOut)
class SmsOptOutAdmin(ReadOnlyAdmin):
    """Numbers that texted STOP. The list shows the last digits only; there is no search box,
    because a searched number would sit in the URL and the access logs."""

    list_display = ("number", "keyword", "opted_out_at", "opted_in_at", "active")
    list_filter = (OptOutActiveFilter,)
    ordering = ("-opted_out_at", "-id")
    show_full_result_count = False
    fields = ("phone", "keyword", "opted_out_at", "opted_in_at", "created_at", "updated_at")
    readonly_fields = fields

    @admin.display(description="Number")
    def number(self, obj):
        return f"…{obj.phone[-4:]}"

    @admin.display(description="Active", boolean=True)
    def active(self, obj):
        return obj.opted_in_at is None
