"""Residents: the POST-only name search, the record with its timeline and the day's actions
(follow-up, contact attempt, consent); the side-by-side merge screen and the merges list (undo)
are in cases/admin/resident_merge.py."""

import secrets
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from acs.admin_base import FastChangeList, FastListAdmin, NamedRecordsAdmin
from acs.audit import audit_record
from acs.errors import DomainError
from acs.local_times import local_time
from acs.models import AuditAction
from acs.record_labels import staff_label
from cases import selectors, services
from cases.admin import resident_page
from cases.admin.resident_forms import (
    ConsentRecordForm,
    ContactAttemptForm,
    FollowUpOpenForm,
    ResidentForm,
    ResidentSearchForm,
)
from cases.admin.resident_merge import ResidentMergeActions, ResidentMergeAdmin
from cases.models import Resident, ResidentMerge
from cases.services.followups import follow_up_create

SEARCH_KEY = "search"
SEARCH_SESSION_PREFIX = "resident_search:"
SEARCH_SESSION_KEEP = 20


class SearchKeyChangeList(FastChangeList):
    """Keeps the `search` key (not a filter) in the links of a searched list."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(SEARCH_KEY, None)
        return lookup_params


def search_remember(request, name: str) -> str:
    """Keep a typed name server-side, in the session, under a random key: only the key goes
    into the URL (and so into access logs and browser history). Older searches are dropped."""
    key = secrets.token_urlsafe(12)
    # A session is not iterable: .keys() it is.
    keys = list(request.session.keys())
    stored = [k for k in keys if k.startswith(SEARCH_SESSION_PREFIX)]
    for old in stored[: max(0, len(stored) - SEARCH_SESSION_KEEP + 1)]:
        del request.session[old]
    request.session[SEARCH_SESSION_PREFIX + key] = name
    return key


def search_recall(request) -> str:
    key = request.GET.get(SEARCH_KEY, "")
    return request.session.get(SEARCH_SESSION_PREFIX + key, "") if key else ""


@admin.register(Resident)
class ResidentAdmin(ResidentMergeActions, NamedRecordsAdmin, FastListAdmin):
    """Residents as case managers see them: found with the same trigram search as the field
    app (typed into a POST form, so the name never sits in a URL), every opened record
    audited, a timeline of everything that happened to them, and the day's actions (a
    follow-up, a contact attempt, a referral, a consent) one click away."""

    form = ResidentForm
    record_heading = "Resident"
    list_display = ("__str__", "housing_status", "added_on")
    list_filter = ("housing_status", "preferred_language")
    # No admin search box (it would put the name in `?q=`): see search_view.
    search_fields = ()
    exclude = ("search_names",)
    # The timeline, open follow-ups and active referrals are above the form
    # (cases/admin/resident_page.py), what a case manager acts on first.
    readonly_fields = ("merged_into", "merged_at", "created_by", "consents_held")
    actions = ["compare_two", "merge_into_first_selected"]
    change_list_template = "admin/cases/resident/change_list.html"
    change_form_template = "admin/cases/resident/change_form.html"

    class Media:
        css = {"all": ("css/admin_resident.css",)}

    def get_queryset(self, request):
        return selectors.resident_queryset_for_user(request.user)

    @admin.display(description="Added on", ordering="created_at")
    def added_on(self, obj):
        return local_time(timezone.localtime(obj.created_at).date())

    def get_changelist(self, request, **kwargs):
        return SearchKeyChangeList

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("search/", view(self.search_view), name="cases_resident_search"),
            path("merge/<int:a>/<int:b>/", view(self.merge_view), name="cases_resident_merge"),
            path(
                "<int:pk>/follow-up/",
                view(self.follow_up_view),
                name="cases_resident_follow_up",
            ),
            path(
                "<int:pk>/contact-attempt/",
                view(self.contact_attempt_view),
                name="cases_resident_contact_attempt",
            ),
            path("<int:pk>/consent/", view(self.consent_view), name="cases_resident_consent"),
            path("<int:pk>/refer/", view(self.refer_view), name="cases_resident_refer"),
            path(
                "<int:pk>/refer/preview/",
                view(self.refer_preview_view),
                name="cases_resident_refer_preview",
            ),
            path(
                "refer/options/",
                view(self.refer_options_view),
                name="cases_resident_refer_options",
            ),
            *super().get_urls(),
        ]

    # --- search -----------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        if "q" in request.GET:
            # An old link or bookmark with a name in it: drop the name, ask for the form.
            params = request.GET.copy()
            del params["q"]
            self.message_user(request, "Search with the form above.", messages.WARNING)
            query = params.urlencode()
            return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)
        name = search_recall(request)
        if request.GET.get(SEARCH_KEY) and not name:
            self.message_user(request, "That search has expired: search again.", messages.INFO)
            return HttpResponseRedirect(request.path)
        extra_context = {
            **(extra_context or {}),
            "resident_search_form": ResidentSearchForm(initial={"name": name}),
            "resident_search_active": bool(name),
        }
        return super().changelist_view(request, extra_context)

    def search_view(self, request):
        """POST only: remember the name under a random key and show the list for that key."""
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cases_resident_changelist"))
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ResidentSearchForm(request.POST)
        target = reverse("admin:cases_resident_changelist")
        if not form.is_valid():
            return HttpResponseRedirect(target)
        key = search_remember(request, form.cleaned_data["name"])
        return HttpResponseRedirect(f"{target}?{SEARCH_KEY}={key}")

    def get_search_results(self, request, queryset, search_term):
        name = search_recall(request)
        if not name:
            return queryset, False
        # Scoped to the user, each resident shown audited as a search result (not the name).
        matches = selectors.resident_search(request.user, name=name, limit=100, request=request)
        return queryset.filter(pk__in=[m.resident.pk for m in matches]), False

    # --- the record -------------------------------------------------------------------------

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
            extra = dict(extra_context or {})
            refer_form = extra.pop("refer_form", None)  # bound, when a referral was refused
            extra_context = {
                **resident_page.page_context(self, request, resident, refer_form),
                **extra,
                "resident_actions": self._actions_for(resident, request.user),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, *args, **kwargs):
        refer_form = context.get("refer_form")
        if refer_form is not None:  # the picker's select2 and the panel's script
            context["media"] = context["media"] + refer_form.media
        return super().render_change_form(request, context, *args, **kwargs)

    def _actions_for(self, resident, user) -> list[tuple[str, str]]:
        # Who has read or changed this record: for those who see the audit trail
        # (supervisors, administrators), filtered by the resident's public id.
        audit = (
            [
                (
                    "Audit trail",
                    f"{reverse('admin:acs_auditevent_changelist')}?resident={resident.public_id}",
                )
            ]
            if user.has_perm("acs.view_auditevent")
            else []
        )
        if resident.merged_into_id:
            return audit
        return [
            ("Add a follow-up", reverse("admin:cases_resident_follow_up", args=[resident.pk])),
            (
                "Log a contact attempt",
                reverse("admin:cases_resident_contact_attempt", args=[resident.pk]),
            ),
            ("Refer", "#refer"),
            ("Record consent", reverse("admin:cases_resident_consent", args=[resident.pk])),
            *audit,
        ]

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None:  # the duplicate check is for a new record only
            fields.remove("confirm_new")
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form = type("ResidentAddForm", (form,), {"request": request})
        return form

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

    @admin.display(description="Consents")
    def consents_held(self, obj):
        if obj.pk is None:
            return "-"
        now = timezone.now()
        rows = []
        for consent in obj.consents.select_related("organization").order_by("-created_at"):
            state = consent.state(now)
            since = {"revoked": consent.revoked_at, "expired": consent.expires_at}.get(state)
            if since is not None:
                state = f"{state} {timezone.localtime(since):%Y-%m-%d}"
            partner = f" ({consent.organization.name})" if consent.organization_id else ""
            rows.append((consent.get_scope_display(), partner, consent.get_method_display(), state))
        if not rows:
            return mark_safe("<span id='consents'>None recorded</span>")
        return format_html(
            "<ul class='consents' id='consents'>{}</ul>",
            format_html_join("", "<li>{}{} · {} · <strong>{}</strong></li>", rows),
        )

    # --- actions from the resident's page ---------------------------------------------------

    def _resident_or_404(self, request, pk) -> Resident:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _action_page(self, request, resident, form, title, submit):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": resident,
            "record_label": staff_label(resident, request.user),
            "form": form,
            "submit": submit,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/record_action_form.html", context)

    def _done(self, request, resident, text):
        self.message_user(request, text, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cases_resident_change", args=[resident.pk]))

    def _refused(self, form, exc: DomainError):
        for name, errors in (exc.fields or {}).items():
            if name in form.fields:
                form.add_error(name, errors)
        form.add_error(None, exc.message)

    def follow_up_view(self, request, pk):
        resident = self._resident_or_404(request, pk)
        form = FollowUpOpenForm(
            request.POST or None,
            initial={"due_at": timezone.localtime() + timedelta(days=1)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                follow_up_create(
                    actor=request.user,
                    resident=resident,
                    kind=form.cleaned_data["kind"],
                    due_at=form.cleaned_data["due_at"],
                    assignee=form.cleaned_data["assignee"],
                    request=request,
                )
            except DomainError as exc:
                self._refused(form, exc)
            else:
                return self._done(request, resident, "Follow-up added.")
        return self._action_page(request, resident, form, "Add a follow-up", "Add")

    def contact_attempt_view(self, request, pk):
        resident = self._resident_or_404(request, pk)
        form = ContactAttemptForm(request.POST or None, resident=resident)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.contact_attempt_log(
                    actor=request.user,
                    follow_up=data["follow_up"],
                    channel=data["channel"],
                    outcome=data["outcome"],
                    at=data["at"] or None,
                    next_step=data["next_step"],
                    request=request,
                )
            except DomainError as exc:
                self._refused(form, exc)
            else:
                return self._done(request, resident, "Contact attempt logged.")
        return self._action_page(request, resident, form, "Log a contact attempt", "Log")

    def refer_view(self, request, pk):
        return resident_page.refer_view(self, request, self._resident_or_404(request, pk))

    def refer_preview_view(self, request, pk):
        return resident_page.refer_preview_view(self, request, self._resident_or_404(request, pk))

    def refer_options_view(self, request):
        return resident_page.refer_options_view(self, request)

    def consent_view(self, request, pk):
        resident = self._resident_or_404(request, pk)
        form = ConsentRecordForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.consent_record(
                    actor=request.user,
                    resident=resident,
                    scope=data["scope"],
                    method=data["method"],
                    organization=data["organization"],
                    expires_at=data["expires_at"],
                    request=request,
                )
            except DomainError as exc:
                self._refused(form, exc)
            else:
                return self._done(request, resident, "Consent recorded.")
        return self._action_page(request, resident, form, "Record consent", "Record")


# Registered after the residents' admin, as when it was written in this module.
admin.site.register(ResidentMerge, ResidentMergeAdmin)
