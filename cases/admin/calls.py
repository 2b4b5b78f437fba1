"""Calls: the CAD call with its unit assignments and timeline."""

from django.contrib import admin

from acs.admin_base import FastListAdmin
from cases.models import Call, CallEvent, UnitAssignment


class UnitAssignmentInline(admin.TabularInline):
    model = UnitAssignment
    extra = 0
    fields = (
        "unit",
        "status",
        "dispatched_at",
        "en_route_at",
        "on_scene_at",
        "transporting_at",
        "cleared_at",
        "cancelled_at",
    )
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CallEventInline(admin.TabularInline):
    """The call's timeline as CAD sent it, in time order."""

    model = CallEvent
    extra = 0
    fields = ("at", "type", "unit", "event_id", "created_at", "undone_at")
    readonly_fields = fields
    ordering = ("at", "id")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(FastListAdmin):
    list_display = ("incident_number", "call_type", "source", "priority", "status", "received_at")
    list_filter = ("status", "source", "priority")
    search_fields = ("=incident_number",)
    date_hierarchy = "received_at"
    readonly_fields = (
        "status",
        "status_changed_at",
        "dispatched_at",
        "en_route_at",
        "on_scene_at",
        "transporting_at",
        "cleared_at",
        "cancelled_at",
        "returned_to_police_at",
        "escalated_at",
        "reopened_at",
    )
    inlines = [UnitAssignmentInline, CallEventInline]
