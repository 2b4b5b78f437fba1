from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from responders.models import Team, Unit, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "team", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "groups", "team")
    list_select_related = ("team",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Team", {"fields": ("team",)}),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("call_sign", "team", "status", "status_changed_at", "needs_confirmation")
    # Call signs CAD sent before anyone created them wait here for a supervisor.
    list_filter = ("needs_confirmation", "status", "team")
    list_select_related = ("team",)
    search_fields = ("call_sign",)
    filter_horizontal = ("members",)
