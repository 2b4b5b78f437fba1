"""Encounters: read-only here (logged from the field app), with their residents,
addenda and referrals."""

from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html

from cases import selectors
from cases.admin.common import FastListAdmin
from cases.models import Addendum, Encounter, EncounterResident
from resources.models import Referral


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
class EncounterAdmin(FastListAdmin):
    list_display = ("__str__", "unit", "call", "status", "disposition", "occurred_at")
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
