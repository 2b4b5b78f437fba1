from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from acs.audit import audit_record
from acs.errors import DomainError
from acs.models import AuditAction
from cases import selectors, services
from cases.models import (
    Addendum,
    Call,
    CallEvent,
    ContactAttempt,
    Encounter,
    EncounterResident,
    FollowUp,
    FollowUpRule,
    Notification,
    Resident,
    ResidentMerge,
    SmsOptOut,
    UnitAssignment,
)
from resources.models import Referral


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


class ReferralInline(admin.TabularInline):
    """The referrals made from this encounter, with their live status."""

    model = Referral
    fields = ("service", "organization", "status", "outcome", "respond_by", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

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
    inlines = [EncounterResidentInline, AddendumInline, ReferralInline]

    def get_queryset(self, request):
        return selectors.encounter_queryset_for_user(request.user)

    def has_add_permission(self, request):
        return False  # encounters are logged from the field app


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("today", "Due today"), ("later", "Later")]

    def queryset(self, request, queryset):
        now = timezone.localtime()
        end_of_day = now.replace(hour=23, minute=59, second=59)
        if self.value() == "overdue":
            return queryset.filter(due_at__lt=now)
        if self.value() == "today":
            return queryset.filter(due_at__gte=now, due_at__lte=end_of_day)
        if self.value() == "later":
            return queryset.filter(due_at__gt=end_of_day)
        return queryset


class ContactAttemptInline(admin.TabularInline):
    """Attempts are logged here; a new row goes through contact_attempt_log."""

    model = ContactAttempt
    extra = 1
    fields = ("at", "channel", "outcome", "next_step", "by")
    readonly_fields = ("by",)
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    """The case managers' work queue: open follow-ups, the most overdue first."""

    list_display = ("__str__", "resident", "status", "due_at", "attempts_made", "assignee")
    list_filter = (DueFilter, "status", "kind")
    list_select_related = ("resident", "assignee")
    ordering = ("due_at", "id")
    show_full_result_count = False
    readonly_fields = (
        "resident",
        "encounter",
        "rule",
        "kind",
        "status",
        "outcome",
        "due_at",
        "window_ends_at",
        "attempts_made",
        "max_attempts",
        "escalated_at",
        "closed_at",
        "closed_by",
    )
    fields = ("assignee", *readonly_fields)
    inlines = [ContactAttemptInline]
    actions = ["close_connected", "close_unable_to_contact"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if "status__exact" not in request.GET:
            qs = qs.exclude(status=FollowUp.Status.CLOSED)
        return qs

    def has_add_permission(self, request):
        return False  # follow-ups come from encounters and referrals

    def save_model(self, request, obj, form, change):
        # Only the assignee is edited here; a full save of this (possibly stale) instance
        # could undo what a contact attempt logged meanwhile.
        if "assignee" in form.changed_data:
            FollowUp.objects.filter(pk=obj.pk).update(
                assignee=obj.assignee, updated_at=timezone.now()
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not ContactAttempt:
            return super().save_formset(request, form, formset, change)
        # What the admin's change message reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.instance.pk or not inline_form.has_changed():
                continue
            data = inline_form.cleaned_data
            try:
                attempt = services.contact_attempt_log(
                    actor=request.user,
                    follow_up=form.instance,
                    channel=data["channel"],
                    outcome=data["outcome"],
                    at=data["at"],
                    next_step=data.get("next_step", ""),
                    request=request,
                )
                formset.new_objects.append(attempt)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        return None

    def _close(self, request, queryset, outcome):
        for follow_up in queryset:
            try:
                services.follow_up_close(
                    actor=request.user, follow_up=follow_up, outcome=outcome, request=request
                )
            except DomainError as exc:
                self.message_user(request, f"{follow_up}: {exc.message}", messages.ERROR)

    @admin.action(description="Close as connected")
    def close_connected(self, request, queryset):
        self._close(request, queryset, FollowUp.Outcome.CONNECTED)

    @admin.action(description="Close as unable to contact")
    def close_unable_to_contact(self, request, queryset):
        self._close(request, queryset, FollowUp.Outcome.UNABLE_TO_CONTACT)


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "disposition",
        "referral_event",
        "creates_follow_up",
        "kind",
        "first_due_hours",
        "attempts",
        "window_days",
        "escalate_to",
        "active",
    )
    list_filter = ("active", "referral_event")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the system: looked at, never added, edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
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
    show_full_result_count = False
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


# --- Transparency dashboard, staff version ---------------------------------------------------
# Registered in its own module (cases/transparency/admin.py); imported here so that the admin's
# autodiscovery, which reads only cases/admin.py, finds it.
from cases.transparency import admin as transparency_admin  # noqa: E402, F401


# --- Exports (cases/exports/admin.py), registered here for the admin's autodiscovery -----------
from cases.exports import admin as _exports_admin  # noqa: E402, F401
