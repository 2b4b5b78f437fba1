"""Encounters: read-only here (logged from the field app), with their residents,
addenda and referrals."""

from django import forms
from django.contrib import admin, messages
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html

from acs.admin_base import (
    FastListAdmin,
    NamedInlineMixin,
    NamedRecordsAdmin,
    each_row,
    form_action,
    readonly_record,
)
from acs.local_times import local_time, when
from acs.record_labels import message_label, staff_label
from acs.roles import Role
from cases import selectors, services
from cases.models import ADDENDUM_PENDING, Addendum, Encounter, EncounterResident
from cases.selectors import work_queues
from resources.models import Referral


class EncounterResidentInline(NamedInlineMixin, admin.TabularInline):
    model = EncounterResident
    fk_name = "encounter"
    extra = 0
    fields = ("resident_record", "original_resident_record", "living_situation")
    readonly_fields = fields
    can_delete = False

    resident_record = readonly_record("resident", "resident")
    original_resident_record = readonly_record("original_resident", "before a merge")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("resident", "original_resident")

    def has_add_permission(self, request, obj=None):
        return False


def addendum_decision(addendum) -> str:
    """Where an addendum stands, in words: "Approved by ana, 5 Dec 10:02", "Rejected by ana,
    5 Dec 10:02: <reason>", "Awaiting a supervisor's approval". approved_by / rejected_by are
    select_related by the caller."""
    if addendum.approved_at:
        return f"Approved by {addendum.approved_by.get_username()}, {when(addendum.approved_at)}"
    if addendum.rejected_at:
        return (
            f"Rejected by {addendum.rejected_by.get_username()}, {when(addendum.rejected_at)}: "
            f"{addendum.rejection_reason}"
        )
    return "Awaiting a supervisor's approval"


class AddendumForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20000,
        help_text="What is added to the record; the encounter itself stays as the unit wrote it.",
    )


class AddendumInline(NamedInlineMixin, admin.TabularInline):
    model = Addendum
    extra = 0
    fields = ("written", "author", "text", "decision")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def row_label(self, obj):
        return ""  # the row's columns say it; "View" opens it (to approve or reject)

    @admin.display(description="written (local time)")
    def written(self, obj):
        return local_time(obj.created_at)

    @admin.display(description="decision")
    def decision(self, obj):
        return addendum_decision(obj)

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "encounter__unit", "encounter__call", "author", "approved_by", "rejected_by"
            )
        )


class ReferralInline(NamedInlineMixin, admin.TabularInline):
    """The referrals made from this encounter, with their live status, each named by its
    label (service, partner, resident)."""

    model = Referral
    fields = ("service", "organization", "status", "outcome", "respond_by", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "organization", "resident")


class FollowedFilter(admin.SimpleListFilter):
    title = "residents"
    parameter_name = "followed"

    def lookups(self, request, model_admin):
        return [("me", "Residents I follow")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(
                people__resident_id__in=work_queues.residents_followed_by(request.user)
            ).distinct()
        return queryset


class RequiredFormMissingFilter(admin.SimpleListFilter):
    """Encounters without a response to a form bound to them as required (#22): the tablet
    blocks such a submission, but the server accepts it (docs/screening.md), so the desk
    looks here."""

    title = "required forms"
    parameter_name = "required_form"

    def lookups(self, request, model_admin):
        return [("missing", "Required form missing")]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.filter(required_forms_missing__len__gt=0)
        return queryset


@admin.register(Encounter)
class EncounterAdmin(NamedRecordsAdmin, FastListAdmin):
    record_heading = "Encounter (call, unit, local time)"
    record_ordering = "occurred_at"
    list_display = ("__str__", "status", "disposition", "occurred", "required_forms")
    list_filter = (FollowedFilter, "status", "disposition", RequiredFormMissingFilter)
    list_select_related = ("unit", "call")
    date_hierarchy = "occurred_at"
    # Every field read-only; the needs by name, substance use labelled (42 CFR Part 2), and
    # the narrative labelled when the responder flagged it.
    fields = [
        {"needs": "need_labels", "narrative": "narrative_labelled"}.get(f.name, f.name)
        for f in Encounter._meta.concrete_fields
        if f.name != "narrative_part2"
    ]
    fields = [*fields, "required_forms"]
    readonly_fields = fields
    inlines = [EncounterResidentInline, AddendumInline, ReferralInline]

    def get_queryset(self, request):
        from cases.screening.selectors import required_forms_missing

        return required_forms_missing(selectors.encounter_queryset_for_user(request.user))

    @admin.display(description="Forms")
    def required_forms(self, obj):
        missing = getattr(obj, "required_forms_missing", None) or []
        if not missing:
            return ""
        return "required form missing: " + ", ".join(missing)

    @admin.display(description="Occurred (local time)", ordering="occurred_at")
    def occurred(self, obj):
        return local_time(obj.occurred_at)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        encounter = self.get_object(request, object_id)
        if encounter is not None and request.method == "GET":
            selectors.encounter_read_audit(request.user, encounter, request=request, via="admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "<path:object_id>/addendum/",
                self.admin_site.admin_view(self.addendum_view),
                name="cases_encounter_addendum",
            ),
            *super().get_urls(),
        ]

    def addendum_view(self, request, object_id):
        """Add an addendum to a submitted encounter, through addendum_add (desk staff do not
        rewrite the unit's account; they add to it)."""
        from django.core.exceptions import PermissionDenied
        from django.http import Http404, HttpResponseRedirect
        from django.template.response import TemplateResponse
        from django.urls import reverse

        from acs.errors import DomainError

        if not self.has_view_permission(request):
            raise PermissionDenied
        encounter = self.get_object(request, object_id)
        if encounter is None:
            raise Http404
        form = AddendumForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.addendum_add(
                    actor=request.user,
                    encounter=encounter,
                    text=form.cleaned_data["text"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                done = "Addendum added; a supervisor of the unit's team approves it."
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:cases_encounter_change", args=[encounter.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Add an addendum",
            "opts": self.model._meta,
            "original": encounter,
            "record_label": staff_label(encounter, request.user),
            "form": form,
            "submit": "Add the addendum",
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/record_action_form.html", context)

    @admin.display(description="needs")
    def need_labels(self, obj):
        return ", ".join(obj.need_labels) or "-"

    @admin.display(description="narrative")
    def narrative_labelled(self, obj):
        text = linebreaksbr(obj.narrative or "-", autoescape=True)
        if not obj.narrative_part2:
            return text
        return format_html(
            '<strong class="part2-label">42 CFR Part 2: substance-use information.</strong><br>{}',
            text,
        )

    def has_add_permission(self, request):
        return False  # encounters are logged from the field app


class AwaitingMyApprovalFilter(admin.SimpleListFilter):
    title = "approval"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [
            ("me", "Awaiting my approval (my team's)"),
            ("any", "Awaiting a decision (any team)"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=work_queues.addenda_awaiting_approval(request.user))
        if self.value() == "any":
            return queryset.filter(ADDENDUM_PENDING)
        if self.value() == "approved":
            return queryset.filter(approved_at__isnull=False)
        if self.value() == "rejected":
            return queryset.filter(rejected_at__isnull=False)
        return queryset


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why it is not approved: its author reads this on the encounter.",
    )


@admin.register(Addendum)
class AddendumAdmin(NamedRecordsAdmin, FastListAdmin):
    """Addenda to locked encounters. Read-only; supervisors approve or reject (with a reason)
    those of their team's encounters, never their own, from the addendum's page or the list's
    actions, through addendum_approve / addendum_reject."""

    record_heading = "Addendum"
    record_ordering = "created_at"
    list_display = ("__str__", "written", "decision")
    list_filter = (AwaitingMyApprovalFilter,)
    list_select_related = (
        "encounter__unit",
        "encounter__call",
        "author",
        "approved_by",
        "rejected_by",
    )
    fields = ("encounter_record", "author", "written", "text", "decision")
    readonly_fields = fields

    encounter_record = readonly_record("encounter", "encounter")

    @admin.display(description="Written (local time)", ordering="created_at")
    def written(self, obj):
        return local_time(obj.created_at)

    @admin.display(description="Decision")
    def decision(self, obj):
        return addendum_decision(obj)

    actions = ["approve", "reject_with_reason"]

    def get_queryset(self, request):
        visible = selectors.encounter_queryset_for_user(request.user).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(encounter__in=visible)
            .select_related(
                "encounter__unit", "encounter__call", "author", "approved_by", "rejected_by"
            )
        )

    def has_add_permission(self, request):
        return False  # through the field API's addenda endpoint

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_role(Role.SUPERVISOR):
            actions.pop("approve", None)
            actions.pop("reject_with_reason", None)
        return actions

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="cases_addendum_approve",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="cases_addendum_reject",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        addendum = self.get_object(request, object_id)
        if addendum is not None and request.method == "GET":
            selectors.encounter_read_audit(
                request.user, addendum.encounter, request=request, via="admin"
            )
        can_approve = (
            addendum is not None
            and addendum.approved_at is None
            and addendum.rejected_at is None
            and work_queues.addenda_awaiting_approval(request.user).filter(pk=addendum.pk).exists()
        )
        extra_context = {
            "can_approve": can_approve,
            "reject_form": RejectForm() if can_approve else None,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def approve_view(self, request, object_id):
        """POST: approve one addendum through addendum_approve; 403 for anyone it refuses."""
        from django.core.exceptions import PermissionDenied
        from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
        from django.urls import reverse

        from acs.errors import DomainError, Forbidden

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        addendum = self.get_object(request, object_id)
        if addendum is None:
            raise Http404
        try:
            services.addendum_approve(actor=request.user, addendum=addendum, request=request)
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:  # already rejected
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:cases_addendum_change", args=[addendum.pk]))
        self.message_user(
            request,
            f"Approved: {message_label(addendum)}. It is part of the record now.",
            messages.SUCCESS,
        )
        return self._back_to_the_queue(request)

    def _back_to_the_queue(self, request):
        """After a decision, the supervisor's next one: the dashboard's queue."""
        from django.http import HttpResponseRedirect
        from django.urls import reverse

        return HttpResponseRedirect(reverse("admin:index") + "#queue-addenda_to_approve")

    def reject_view(self, request, object_id):
        """Reject one addendum with a reason, through addendum_reject. GET shows the form (the
        addendum's page has it too); 403 for anyone the service refuses."""
        from django.core.exceptions import PermissionDenied
        from django.http import Http404
        from django.template.response import TemplateResponse

        from acs.errors import DomainError, Forbidden

        if not self.has_view_permission(request):
            raise PermissionDenied
        addendum = self.get_object(request, object_id)
        if addendum is None:
            raise Http404
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.addendum_reject(
                    actor=request.user,
                    addendum=addendum,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except Forbidden as exc:
                raise PermissionDenied(exc.message) from exc
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"Rejected: {message_label(addendum)}. Its author sees your reason on the "
                    "encounter.",
                    messages.SUCCESS,
                )
                return self._back_to_the_queue(request)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject an addendum",
            "opts": self.model._meta,
            "original": addendum,
            "record_label": staff_label(addendum, request.user),
            "form": form,
            "submit": "Reject the addendum",
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/record_action_form.html", context)

    @admin.action(description="Approve the selected addenda (my team's)")
    def approve(self, request, queryset):
        each_row(
            self,
            request,
            queryset.select_related("encounter__unit"),
            lambda addendum: services.addendum_approve(
                actor=request.user, addendum=addendum, request=request
            ),
            "addendum(s) approved",
        )

    @admin.action(description="Reject the selected addenda (my team's), with a reason…")
    def reject_with_reason(self, request, queryset):
        return form_action(
            self,
            request,
            queryset.select_related("encounter__unit"),
            form_class=RejectForm,
            action="reject_with_reason",
            title="Reject addenda",
            submit="Reject",
            move=lambda addendum, data: services.addendum_reject(
                actor=request.user, addendum=addendum, reason=data["reason"], request=request
            ),
            done="addendum(s) rejected",
        )
