from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from acs.audit import audit_record
from acs.errors import DomainError
from acs.models import AuditAction
from cases import selectors, services
from cases.models import (
    Addendum,
    Call,
    CallEvent,
    Encounter,
    EncounterResident,
    Resident,
    ResidentMerge,
    UnitAssignment,
)


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
    fields = ("at", "type", "unit", "event_id", "created_at")
    readonly_fields = fields
    ordering = ("at", "id")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("incident_number", "call_type", "source", "priority", "status", "received_at")
    list_filter = ("status", "source", "priority")
    search_fields = ("=incident_number",)
    date_hierarchy = "received_at"
    show_full_result_count = False
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


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    """Residents as case managers see them: found with the same trigram search as the field
    app, every opened record audited, a timeline of everything that happened to them."""

    list_display = ("__str__", "preferred_name", "date_of_birth", "housing_status", "created_at")
    list_filter = ("housing_status", "preferred_language")
    search_fields = ("search_names",)
    search_help_text = "Name or alias; typos are forgiven."
    show_full_result_count = False
    exclude = ("search_names",)
    readonly_fields = ("merged_into", "merged_at", "created_by", "timeline")
    actions = ["merge_into_first_selected"]

    def get_queryset(self, request):
        return selectors.resident_queryset_for_user(request.user)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        matches = selectors.resident_candidates(name=search_term, limit=100)
        ids = [m.resident.pk for m in matches]
        return queryset.filter(pk__in=ids), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        resident = self.get_object(request, object_id)
        if resident is not None:
            audit_record(
                actor=request.user,
                action=AuditAction.VIEW,
                target=resident,
                request=request,
                reason="admin",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            services.resident_update(
                actor=request.user,
                resident=obj,
                changes={name: form.cleaned_data[name] for name in form.changed_data},
                request=request,
            )
        else:
            created = services.resident_create(
                actor=request.user, data=form.cleaned_data, confirm_new=True, request=request
            )
            obj.pk, obj.public_id = created.pk, created.public_id

    @admin.display(description="Timeline")
    def timeline(self, obj):
        if obj.pk is None:
            return "-"
        rows = format_html_join(
            "",
            "<li><time>{}</time> · {}</li>",
            (
                (entry.at.strftime("%Y-%m-%d %H:%M"), entry.text)
                for entry in selectors.resident_timeline(obj)
            ),
        )
        return format_html("<ul class='timeline'>{}</ul>", rows)

    @admin.action(description="Merge the others into the first selected (oldest) resident")
    def merge_into_first_selected(self, request, queryset):
        residents = list(queryset.order_by("created_at", "id"))
        if len(residents) < 2:
            self.message_user(request, "Select at least two residents.", messages.WARNING)
            return
        survivor, *duplicates = residents
        try:
            for duplicate in duplicates:
                services.resident_merge(
                    actor=request.user, survivor=survivor, duplicate=duplicate, request=request
                )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"Merged {len(duplicates)} record(s) into {survivor}.")


@admin.register(ResidentMerge)
class ResidentMergeAdmin(admin.ModelAdmin):
    list_display = ("survivor", "duplicate", "merged_by", "created_at", "undone_at")
    list_select_related = ("survivor", "duplicate", "merged_by")
    readonly_fields = (
        "survivor",
        "duplicate",
        "merged_by",
        "moved_links",
        "added_aliases",
        "undone_at",
        "undone_by",
    )
    actions = ["undo"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Undo the selected merges")
    def undo(self, request, queryset):
        for merge in queryset:
            try:
                services.resident_unmerge(actor=request.user, merge=merge, request=request)
            except DomainError as exc:
                self.message_user(request, f"{merge}: {exc.message}", messages.ERROR)


class EncounterResidentInline(admin.TabularInline):
    model = EncounterResident
    fk_name = "encounter"
    extra = 0
    fields = ("resident", "original_resident")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AddendumInline(admin.TabularInline):
    model = Addendum
    extra = 0
    fields = ("created_at", "author", "text", "approved_by", "approved_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Encounter)
class EncounterAdmin(admin.ModelAdmin):
    list_display = ("__str__", "unit", "call", "status", "disposition", "occurred_at")
    list_filter = ("status", "disposition")
    list_select_related = ("unit", "call")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = [f.name for f in Encounter._meta.concrete_fields]
    inlines = [EncounterResidentInline, AddendumInline]

    def get_queryset(self, request):
        return selectors.encounter_queryset_for_user(request.user)

    def has_add_permission(self, request):
        return False  # encounters are logged from the field app
