"""Referrals at the desk: the queues (waiting on a partner, to reroute, due today), each referral
with its events, and withdrawing one."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from acs.admin_base import FastListAdmin, NamedRecordsAdmin, each_row, form_action, readonly_record
from acs.local_times import local_time
from acs.roles import ACS_ROLES, has_any_role
from resources.models import (
    TO_REROUTE,
    WAITING_ON_PARTNER,
    Referral,
    ReferralEvent,
)


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    fields = ("created_at", "from_status", "to_status", "note", "actor", "by_organization")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReferralQueueFilter(admin.SimpleListFilter):
    """The dashboard's two referral queues."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("waiting", "Waiting on the partner (sent, accepted, in progress)"),
            ("reroute", "To re-route (declined, expired, not completed)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status__in=WAITING_ON_PARTNER)
        if self.value() == "reroute":
            return queryset.filter(status__in=TO_REROUTE)
        return queryset


class ReferrerFilter(admin.SimpleListFilter):
    title = "referred by"
    parameter_name = "referrer"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("mine", "Me and my team")]

    def queryset(self, request, queryset):
        user = request.user
        if self.value() == "me":
            return queryset.filter(created_by=user)
        if self.value() == "mine":
            mine = Q(created_by=user)
            if user.team_id:
                mine |= Q(created_by__team_id=user.team_id)
            return queryset.filter(mine)
        return queryset


class ReferrerTeamFilter(admin.SimpleListFilter):
    title = "referrer's team"
    parameter_name = "team"

    def lookups(self, request, model_admin):
        from responders.models import Team

        return [(str(t.pk), t.name) for t in Team.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(created_by__team_id=int(self.value()))
        return queryset


class RespondByFilter(admin.SimpleListFilter):
    """Sent referrals by their answer deadline (the expiry sweep's partial index)."""

    title = "answer due"
    parameter_name = "respond_by"

    def lookups(self, request, model_admin):
        return [("overdue", "Past the deadline"), ("today", "Due today")]

    def queryset(self, request, queryset):
        from cases.selectors.work_queues import end_of_today

        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status="sent", respond_by__lt=now)
        if self.value() == "today":
            return queryset.filter(
                status="sent", respond_by__gte=now, respond_by__lte=end_of_today()
            )
        return queryset


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why ACS withdraws these referrals (the partner sees it on the thread).",
    )


# A referral's foreign keys shown by their labels on its page (readonly_record).
REFERRAL_LINKED = ("resident", "original_resident", "encounter", "follow_up")


class ReferralAdmin(NamedRecordsAdmin, FastListAdmin):
    """Every referral's live status and thread. Moves go through the services."""

    record_heading = "Referral (service, partner, resident)"
    list_display = ("__str__", "status", "urgency", "referred_on", "answer_due", "last_change")
    list_filter = (
        ReferralQueueFilter,
        ReferrerFilter,
        ReferrerTeamFilter,
        RespondByFilter,
        "status",
        "urgency",
    )
    list_select_related = ("service", "organization", "resident")
    date_hierarchy = "created_at"
    # Every field read-only; the records it points at by their labels (acs/record_labels.py),
    # their own fields kept out of the form (never an editable select of every resident).
    exclude = REFERRAL_LINKED
    readonly_fields = [
        f"{f.name}_record" if f.name in REFERRAL_LINKED else f.name
        for f in Referral._meta.concrete_fields
        if f.name != "id"
    ]
    inlines = [ReferralEventInline]
    actions = ["send_drafts", "cancel_with_reason", "cancel_open"]

    resident_record = readonly_record("resident", "resident")
    original_resident_record = readonly_record("original_resident", "resident before a merge")
    encounter_record = readonly_record("encounter", "encounter")
    follow_up_record = readonly_record("follow_up", "follow-up")

    @admin.display(description="Referred on (local time)", ordering="sent_at")
    def referred_on(self, obj):
        return local_time(obj.sent_at)

    @admin.display(description="Answer due (local time)", ordering="respond_by")
    def answer_due(self, obj):
        return local_time(obj.respond_by)

    @admin.display(description="Last change (local time)", ordering="updated_at")
    def last_change(self, obj):
        return local_time(obj.updated_at)

    def get_queryset(self, request):
        from resources.selectors import referral_queryset_for_user

        return referral_queryset_for_user(request.user)

    def has_add_permission(self, request):
        # Not the model form: the add page is refer_view, which goes through referral_create.
        return has_any_role(request.user, ACS_ROLES)

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from cases.selectors import resident_read_audit

        referral = self.get_object(request, object_id)
        if referral is not None and request.method == "GET":
            resident_read_audit(
                request.user,
                referral.resident_id,
                request=request,
                via="admin",
                referral=referral.public_id,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """No referral form of its own: desk staff refer from the resident's page, whose refer
        panel shows the places free and whether the resident's consent covers the partner
        before sending (cases/admin/resident_page.py). This address (the list's "Refer a
        resident" button, old links) leads there: with ?resident=<id> to that resident's
        panel; else to the residents list, to find the resident first."""
        from cases.selectors import resident_queryset_for_user

        if not self.has_add_permission(request):
            raise PermissionDenied
        chosen = request.GET.get("resident", "")
        if (
            chosen.isdigit()
            and resident_queryset_for_user(request.user).filter(pk=int(chosen)).exists()
        ):
            url = reverse("admin:cases_resident_change", args=[int(chosen)])
            return HttpResponseRedirect(f"{url}#refer")
        self.message_user(
            request,
            "To refer, find the resident below and open their page: its Refer panel shows the "
            "places free and whether their consent covers the partner.",
            messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:cases_resident_changelist"))

    def _each(self, request, queryset, move, done: str):
        each_row(self, request, queryset, move, f"referral(s) {done}")

    @admin.action(description="Send the selected drafts to their partners")
    def send_drafts(self, request, queryset):
        from resources.services import referral_send

        self._each(
            request,
            queryset,
            lambda r: referral_send(actor=request.user, referral=r, request=request),
            "sent",
        )

    @admin.action(description="Cancel the selected open referrals, with a reason…")
    def cancel_with_reason(self, request, queryset):
        from resources.services import referral_cancel

        return form_action(
            self,
            request,
            queryset,
            form_class=CancelForm,
            action="cancel_with_reason",
            title="Cancel referrals",
            submit="Cancel the referrals",
            move=lambda r, data: referral_cancel(
                actor=request.user, referral=r, reason=data["reason"], request=request
            ),
            done="referral(s) cancelled",
        )

    @admin.action(description="Cancel the selected open referrals (withdrawn by ACS)")
    def cancel_open(self, request, queryset):
        from resources.services import referral_cancel

        self._each(
            request,
            queryset,
            lambda r: referral_cancel(
                actor=request.user,
                referral=r,
                reason=f"Withdrawn by ACS ({request.user.get_username()})",
                request=request,
            ),
            "cancelled",
        )
