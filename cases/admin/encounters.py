"""Encounters: read-only here (logged from the field app), with their residents,
addenda and referrals."""

from django import forms
from django.contrib import admin, messages
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html

from acs.roles import Role
from cases import selectors, services
from cases.admin.common import (
    FastListAdmin,
    NamedInlineMixin,
    NamedRecordsAdmin,
    each_row,
    readonly_record,
)
from cases.display import staff_label
from cases.models import Addendum, Encounter, EncounterResident
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


class AddendumForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20000,
        help_text="What is added to the record; the encounter itself stays as the unit wrote it.",
    )


class AddendumInline(NamedInlineMixin, admin.TabularInline):
    model = Addendum
    template = "admin/edit_inline/tabular_named.html"
    extra = 0
    fields = ("created_at", "author", "text", "approved_by", "approved_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("encounter__unit", "encounter__call", "author", "approved_by")
        )


class ReferralInline(NamedInlineMixin, admin.TabularInline):
    """The referrals made from this encounter, with their live status, each named by its
    label (service, partner, resident)."""

    model = Referral
    template = "admin/edit_inline/tabular_named.html"
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
                people__resident_id__in=selectors.residents_followed_by(request.user)
            ).distinct()
        return queryset


@admin.register(Encounter)
class EncounterAdmin(NamedRecordsAdmin, FastListAdmin):
    record_heading = "Encounter (call, unit, local time)"
    record_ordering = "occurred_at"
    list_display = ("__str__", "status", "disposition", "occurred")
    list_filter = (FollowedFilter, "status", "disposition")
    list_select_related = ("unit", "call")
    date_hierarchy = "occurred_at"
    # Every field read-only; the needs by name, substance use labelled (42 CFR Part 2), and
    # the narrative labelled when the responder flagged it.
    fields = [
        {"needs": "need_labels", "narrative": "narrative_labelled"}.get(f.name, f.name)
        for f in Encounter._meta.concrete_fields
        if f.name != "narrative_part2"
    ]
    readonly_fields = fields
    inlines = [EncounterResidentInline, AddendumInline, ReferralInline]

    def get_queryset(self, request):
        return selectors.encounter_queryset_for_user(request.user)

    @admin.display(description="Occurred (local time)", ordering="occurred_at")
    def occurred(self, obj):
        return obj.occurred_at

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
        return [("me", "Awaiting my approval (my team's)"), ("any", "Not approved yet")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=selectors.addenda_awaiting_approval(request.user))
        if self.value() == "any":
            return queryset.filter(approved_at__isnull=True)
        return queryset


@admin.register(Addendum)
class AddendumAdmin(NamedRecordsAdmin, FastListAdmin):
    """Addenda to locked encounters. Read-only; supervisors approve those of their team's
    encounters (never their own) with the list's action, through addendum_approve."""

    record_heading = "Addendum"
    record_ordering = "created_at"
    list_display = ("__str__", "written", "approved")
    list_filter = (AwaitingMyApprovalFilter,)
    list_select_related = ("encounter__unit", "encounter__call", "author")
    fields = ("encounter_record", "author", "created_at", "text", "approved_by", "approved_at")
    readonly_fields = fields

    encounter_record = readonly_record("encounter", "encounter")

    @admin.display(description="Written (local time)", ordering="created_at")
    def written(self, obj):
        return obj.created_at

    @admin.display(description="Approved (local time)", ordering="approved_at")
    def approved(self, obj):
        return obj.approved_at

    actions = ["approve"]

    def get_queryset(self, request):
        visible = selectors.encounter_queryset_for_user(request.user).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(encounter__in=visible)
            .select_related("encounter__unit", "encounter__call", "author")
        )

    def has_add_permission(self, request):
        return False  # through the field API's addenda endpoint

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_role(Role.SUPERVISOR):
            actions.pop("approve", None)
        return actions

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="cases_addendum_approve",
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
            and selectors.addenda_awaiting_approval(request.user).filter(pk=addendum.pk).exists()
        )
        extra_context = {"can_approve": can_approve, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def approve_view(self, request, object_id):
        """POST: approve one addendum through addendum_approve; 403 for anyone it refuses."""
        from django.core.exceptions import PermissionDenied
        from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
        from django.urls import reverse

        from acs.errors import Forbidden

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
        self.message_user(request, "Addendum approved.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cases_addendum_change", args=[addendum.pk]))

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
