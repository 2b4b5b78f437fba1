"""Follow-ups: the case managers' work queue (filters, bulk reassign and close, contact
attempts logged inline) and the rules that create follow-ups."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from acs.admin_base import FastListAdmin, NamedRecordsAdmin, form_action, readonly_record
from acs.errors import DomainError
from acs.local_times import local_time
from acs.record_labels import message_label
from cases import selectors, services
from cases.admin.common import desk_users
from cases.models import ContactAttempt, FollowUp, FollowUpRule
from cases.selectors import work_queues
from cases.services.followups import follow_up_reassign
from responders.models import User


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("due_now", "Due today or overdue"),
            ("overdue", "Overdue"),
            ("today", "Due today"),
            ("later", "Later"),
        ]

    def queryset(self, request, queryset):
        now = timezone.localtime()
        end_of_day = work_queues.end_of_today()
        if self.value() == "due_now":
            return queryset.filter(due_at__lte=end_of_day)
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


class MineFilter(admin.SimpleListFilter):
    """Whose work: mine, or my team's (someone else of my team, or nobody)."""

    title = "whose"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("me", "Mine"), ("team", "My team's and unassigned"), ("none", "Unassigned")]

    def queryset(self, request, queryset):
        user = request.user
        if self.value() == "me":
            return queryset.filter(assignee=user)
        if self.value() == "team":
            team = Q(assignee__isnull=True)
            if user.team_id:
                team |= Q(assignee__team_id=user.team_id)
            return queryset.filter(team).exclude(assignee=user)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """One case manager's or supervisor's work (a short list: the desk staff only)."""

    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [(str(u.pk), u.get_username()) for u in desk_users()]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(assignee_id=int(self.value()))
        return queryset


class TeamFilter(admin.SimpleListFilter):
    title = "team"
    parameter_name = "team"
    team_path = "assignee__team_id"

    def lookups(self, request, model_admin):
        from responders.models import Team

        return [(str(t.pk), t.name) for t in Team.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(**{self.team_path: int(self.value())})
        return queryset


class ReassignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody (back to the shared queue)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = desk_users()


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=FollowUp.Outcome.choices)


@admin.register(FollowUp)
class FollowUpAdmin(NamedRecordsAdmin, FastListAdmin):
    """The case managers' work queue: open follow-ups, the most overdue first."""

    record_heading = "Follow-up"
    record_ordering = "due_at"
    record_columns = {"resident": "Resident"}
    list_display = ("__str__", "resident", "status", "due", "attempts_made", "assignee")
    list_filter = (DueFilter, MineFilter, AssigneeFilter, TeamFilter, "status", "kind")
    list_select_related = ("resident", "assignee")
    ordering = ("due_at", "id")
    readonly_fields = (
        "resident_record",
        "encounter_record",
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

    resident_record = readonly_record("resident", "resident")
    encounter_record = readonly_record("encounter", "encounter")

    @admin.display(description="Due (local time)", ordering="due_at")
    def due(self, obj):
        return local_time(obj.due_at)

    actions = ["reassign", "close_with_outcome", "close_connected", "close_unable_to_contact"]

    def get_queryset(self, request):
        qs = selectors.follow_up_queryset_for_user(request.user).select_related(
            "encounter__unit", "encounter__call"
        )
        # Open work unless the list is filtered by status (status__exact, status__in).
        if not any(key.startswith("status__") for key in request.GET):
            qs = qs.exclude(status=FollowUp.Status.CLOSED)
        return qs

    def has_add_permission(self, request):
        return False  # from encounters, referrals, and the resident's page (follow_up_view)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        follow_up = self.get_object(request, object_id)
        if follow_up is not None and request.method == "GET":
            selectors.resident_read_audit(
                request.user,
                follow_up.resident_id,
                request=request,
                via="admin",
                follow_up=follow_up.public_id,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            kwargs["queryset"] = desk_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Only the assignee is edited here, through the service (it locks the row, so a
        # contact attempt logged meanwhile is not undone by this possibly stale instance).
        if "assignee" in form.changed_data:
            try:
                follow_up_reassign(
                    actor=request.user, follow_up=obj, assignee=obj.assignee, request=request
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                to = obj.assignee.get_username() if obj.assignee else "nobody (the shared queue)"
                self.message_user(request, f"Reassigned to {to}.", messages.SUCCESS)

    @admin.action(description="Reassign the selected follow-ups…")
    def reassign(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=ReassignForm,
            action="reassign",
            title="Reassign follow-ups",
            submit="Reassign",
            move=lambda f, data: follow_up_reassign(
                actor=request.user, follow_up=f, assignee=data["assignee"], request=request
            ),
            done="follow-up(s) reassigned",
        )

    @admin.action(description="Close the selected follow-ups with an outcome…")
    def close_with_outcome(self, request, queryset):
        return form_action(
            self,
            request,
            queryset,
            form_class=CloseForm,
            action="close_with_outcome",
            title="Close follow-ups",
            submit="Close",
            move=lambda f, data: services.follow_up_close(
                actor=request.user, follow_up=f, outcome=data["outcome"], request=request
            ),
            done="follow-up(s) closed",
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
                self.message_user(
                    request, f"{message_label(follow_up)}: {exc.message}", messages.ERROR
                )

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
