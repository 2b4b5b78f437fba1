"""Merging residents from their admin: the side-by-side merge screen and the two list actions
(compare two, merge into the oldest), mixed into ResidentAdmin (cases/admin/residents.py, which
also registers the merges list below, whose action undoes a merge). The merge itself is
cases.services.resident_merge."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from acs.admin_base import FastListAdmin, NamedRecordsAdmin, readonly_record
from acs.audit import audit_record
from acs.errors import DomainError
from acs.local_times import local_time
from acs.models import AuditAction
from cases import services
from cases.admin.resident_forms import MERGE_COMPARED, MergeForm, merge_display
from cases.display import resident_label
from cases.models import Consent, Resident


class ResidentMergeActions:
    """The merge screen (`merge_view`, routed by ResidentAdmin.get_urls) and the list's merge
    actions, for ResidentAdmin."""

    @admin.action(description="Compare the two selected side by side, and merge")
    def compare_two(self, request, queryset):
        pks = sorted(queryset.values_list("pk", flat=True)[:3])
        if len(pks) != 2:
            self.message_user(request, "Select exactly two residents.", messages.WARNING)
            return None
        return HttpResponseRedirect(reverse("admin:cases_resident_merge", args=pks))

    def merge_view(self, request, a, b):
        if not self.has_change_permission(request):
            raise PermissionDenied
        residents = {
            r.pk: r
            for r in self.get_queryset(request)
            .filter(pk__in=[a, b])
            .annotate(
                n_encounters=Count("encounters", distinct=True),
                n_referrals=Count("referrals", distinct=True),
                n_follow_ups=Count("follow_ups", distinct=True),
            )
        }
        if a == b or len(residents) != 2:
            self.message_user(request, "Those two records cannot be merged.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:cases_resident_changelist"))
        first, second = residents[a], residents[b]
        form = MergeForm(request.POST or None, a=first, b=second)
        if request.method == "POST" and form.is_valid():
            try:
                merge = services.resident_merge(
                    actor=request.user, request=request, **form.merge_arguments()
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                # No names in the message (kept in a cookie until shown): the page it
                # leads to names the survivor.
                self.message_user(
                    request,
                    "Merged the other record into this one. The merge can be undone from the "
                    "resident merges list.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:cases_resident_change", args=[merge.survivor.pk])
                )
        for resident in (first, second):
            audit_record(
                actor=request.user,
                action=AuditAction.VIEW,
                target=resident,
                request=request,
                reason="admin: merge",
            )
        consents = {r.pk: [] for r in (first, second)}
        for consent in Consent.objects.filter(resident__in=[a, b]).order_by("created_at"):
            consents[consent.resident_id].append(
                f"{consent.get_scope_display()} ({consent.state()})"
            )
        rows = [
            {
                "name": name,
                "label": Resident._meta.get_field(name).verbose_name,
                "a": merge_display(first, name),
                "b": merge_display(second, name),
                "field": form[f"value_{name}"] if name in form.differing else None,
            }
            for name in MERGE_COMPARED
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge two residents",
            "opts": self.model._meta,
            "form": form,
            "a": first,
            "b": second,
            "a_label": resident_label(first),
            "b_label": resident_label(second),
            "rows": rows,
            "consents_a": consents[a],
            "consents_b": consents[b],
        }
        return TemplateResponse(request, "admin/cases/resident/merge.html", context)

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
        self.message_user(
            request, f"Merged {len(duplicates)} record(s) into the oldest one selected."
        )


class ResidentMergeAdmin(NamedRecordsAdmin, FastListAdmin):
    record_columns = {"survivor": "Kept", "duplicate": "Merged into it"}
    list_display = ("survivor", "duplicate", "merged_by", "merged_on", "undone_on")
    list_select_related = ("survivor", "duplicate", "merged_by")
    readonly_fields = (
        "survivor_record",
        "duplicate_record",
        "merged_by",
        "moved_links",
        "added_aliases",
        "undone_at",
        "undone_by",
    )
    actions = ["undo"]

    survivor_record = readonly_record("survivor", "kept")
    duplicate_record = readonly_record("duplicate", "merged into it")

    @admin.display(description="Merged (local time)", ordering="created_at")
    def merged_on(self, obj):
        return local_time(obj.created_at)

    @admin.display(description="Undone (local time)", ordering="undone_at")
    def undone_on(self, obj):
        return local_time(obj.undone_at)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("survivor", "duplicate", "merged_by")

    def has_add_permission(self, request):
        return False

    @admin.action(description="Undo the selected merges")
    def undo(self, request, queryset):
        for merge in queryset:
            try:
                services.resident_unmerge(actor=request.user, merge=merge, request=request)
            except DomainError as exc:
                self.message_user(request, f"{merge}: {exc.message}", messages.ERROR)
