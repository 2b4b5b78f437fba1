import uuid
from datetime import date, datetime, time, timedelta

from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from acs import views
from acs.local_times import LocalTimesAdmin
from acs.models import ApiToken, AuditEvent
from acs.roles import OVERSIGHT_ROLES, Role, has_any_role
from acs.tokens import (
    TOKEN_KINDS,
    partner_organizations,
    token_issue,
    token_revoke,
    token_rotate,
)

# What the admin is: the case management desk, not "Django administration".
admin.site.site_header = "ACS case management"
admin.site.site_title = "ACS case management"
admin.site.index_title = "Case management desk"

# One door (acs/views.py admin_login): Django's own admin sign-in page never takes a password.
# The admin's password change is allauth's, which asks for the current password under its rate
# limit.
admin.site.login = views.admin_login
admin.site.password_change = lambda request, extra_context=None: redirect("account_change_password")


class TokenIssueForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("partner", "Partner agency"), ("cad", "CAD integration")], initial="partner"
    )
    organization = forms.ModelChoiceField(
        queryset=None, required=False, help_text="The partner organization (for partner tokens)."
    )
    name = forms.CharField(
        max_length=60, help_text="A name for the client, e.g. westside-shelter-ehr."
    )
    expires_in_days = forms.IntegerField(min_value=0, initial=365, help_text="0: never expires.")

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = forms.ModelChoiceField(
            queryset=partner_organizations(),
            required=False,
            widget=AutocompleteSelect(get_user_model()._meta.get_field("organization"), admin_site),
            help_text=self.fields["organization"].help_text,
        )

    def clean_name(self):
        name = self.cleaned_data["name"]
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValidationError("Letters, digits, '-' and '_' only.")
        return name

    def clean(self):
        data = super().clean()
        if data.get("kind") == "partner" and not data.get("organization"):
            self.add_error("organization", "A partner token belongs to one organization.")
        if data.get("kind") == "cad":
            data["organization"] = None
        return data


@admin.register(ApiToken)
class ApiTokenAdmin(LocalTimesAdmin):
    """Machine tokens: issued with `manage.py issue_token`, revoked here."""

    list_display = ("name", "prefix", "user", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    readonly_fields = (
        "name",
        "prefix",
        "user",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_at",
    )
    exclude = ("digest",)
    actions = ["revoke", "rotate"]
    search_fields = ("name", "prefix", "user__username")

    def get_urls(self):
        return [
            path(
                "issue/",
                self.admin_site.admin_view(self.issue_view),
                name="acs_apitoken_issue",
            ),
            *super().get_urls(),
        ]

    def has_add_permission(self, request):
        return False  # issued through issue_view (shown once), not the plain add form

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_issue": self._can_issue(request)}
        return super().changelist_view(request, extra_context)

    def _can_issue(self, request) -> bool:
        return request.user.is_superuser or request.user.has_role(Role.ADMIN)

    def _shown_once(self, request, row, token):
        """The token goes into this one response only: never a message, cookie or log."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Token issued",
            "row": row,
            "token": token,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "acs/admin/token_issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def issue_view(self, request):
        from django.core.exceptions import PermissionDenied

        if not self._can_issue(request):
            raise PermissionDenied
        form = TokenIssueForm(request.POST or None, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            days = data["expires_in_days"]
            try:
                row, token = token_issue(
                    role=TOKEN_KINDS[data["kind"]],
                    name=data["name"],
                    expires_in=timedelta(days=days) if days else None,
                    organization=data["organization"],
                )
            except ValueError as exc:
                form.add_error("name", str(exc))
            else:
                return self._shown_once(request, row, token)
        context = {
            **self.admin_site.each_context(request),
            "title": "Issue a token",
            "form": form,
            "media": self.media + form.media,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "acs/admin/token_issue.html", context)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")

    @admin.action(description="Rotate the selected token (new token shown once, old revoked)")
    def rotate(self, request, queryset):
        from django.contrib import messages

        if not self._can_issue(request):
            self.message_user(request, "Only administrators rotate tokens.", messages.ERROR)
            return None
        if queryset.count() != 1:
            self.message_user(request, "Rotate one token at a time.", messages.WARNING)
            return None
        row, token = token_rotate(token=queryset.get())
        return self._shown_once(request, row, token)


class InputFilter(admin.ListFilter):
    """A list filter typed into, not picked from a list: it loads no rows to offer choices.

    Subclasses name their GET `fields` (name -> label) and turn the cleaned values into a
    filter in `filter_queryset`. The form keeps the changelist's other parameters.
    """

    template = "acs/admin/input_filter.html"
    fields: dict[str, str] = {}
    input_type = "text"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.request = request
        self.values: dict[str, str] = {}
        for name in self.fields:
            if name in params:
                value = params.pop(name)
                value = value[-1] if isinstance(value, list) else value
                if value.strip():
                    self.values[name] = value.strip()
        self.cleaned = {name: self.clean(name, value) for name, value in self.values.items()}

    def clean(self, name: str, value: str):
        return value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.fields)

    def choices(self, changelist):
        keep = [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in self.fields and key not in {"p", "e"}
            for value in values
        ]
        yield {
            "fields": [
                {"name": name, "label": label, "value": self.values.get(name, "")}
                for name, label in self.fields.items()
            ],
            "keep": keep,
            "input_type": self.input_type,
            "clear_url": changelist.get_query_string(remove=list(self.fields)),
            "selected": bool(self.values),
        }

    def queryset(self, request, queryset):
        return self.filter_queryset(queryset, **self.cleaned) if self.cleaned else queryset

    def filter_queryset(self, queryset, **cleaned):
        raise NotImplementedError


class ResidentFilter(InputFilter):
    """Events about one resident, named by the resident's public id (never a name in a URL)."""

    title = "resident (public id)"
    fields = {"resident": "Resident id"}

    def clean(self, name, value):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise IncorrectLookupParameters("Not a resident id.") from None

    def filter_queryset(self, queryset, *, resident):
        return queryset.filter(target_type="cases.resident", target_id=resident)


class ActorFilter(InputFilter):
    """Events by one user, by the user's public id; the form offers a username search."""

    title = "user"
    fields = {"actor": "User"}
    template = "acs/admin/actor_filter.html"

    def clean(self, name, value):
        try:
            return uuid.UUID(value)
        except ValueError:
            raise IncorrectLookupParameters("Not a user id.") from None

    def choices(self, changelist):
        User = get_user_model()
        for choice in super().choices(changelist):
            actor = self.cleaned.get("actor")
            choice["actor_label"] = (
                User.objects.filter(public_id=actor).values_list("username", flat=True).first()
                if actor
                else None
            )
            yield choice

    def filter_queryset(self, queryset, *, actor):
        return queryset.filter(actor__public_id=actor)


class TimeRangeFilter(InputFilter):
    """From one day (inclusive) to another (inclusive), in department time."""

    title = "time range"
    fields = {"from": "From", "to": "To"}
    input_type = "date"

    def clean(self, name, value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise IncorrectLookupParameters("Dates are YYYY-MM-DD.") from None

    def filter_queryset(self, queryset, **days):
        tz = timezone.get_current_timezone()
        if days.get("from"):
            start = datetime.combine(days["from"], time.min, tzinfo=tz)
            queryset = queryset.filter(created_at__gte=start)
        if days.get("to"):
            end = datetime.combine(days["to"] + timedelta(days=1), time.min, tzinfo=tz)
            queryset = queryset.filter(created_at__lt=end)
        return queryset


ACTOR_SEARCH_LIMIT = 20


@admin.register(AuditEvent)
class AuditEventAdmin(LocalTimesAdmin):
    """The audit trail: read-only for everyone, read by supervisors and administrators only.

    Filters: by resident (public id), by user (a username search that loads at most
    ACTOR_SEARCH_LIMIT users), by action and record type, and by time (the date hierarchy or
    a from/to range). The list's query count does not grow with its rows.
    """

    list_display = (
        "created_at",
        "actor",
        "action",
        "target_type",
        "target",
        "context",
        "ip_address",
    )
    list_filter = (ResidentFilter, ActorFilter, TimeRangeFilter, "action", "target_type")
    list_select_related = ("actor",)
    search_fields = ("=target_id",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    # Counts per filter choice would scan the whole trail on every page.
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-created_at", "-id")

    class Media:
        # The user filter's username search (the admin's own select2 and autocomplete).
        css = {
            "all": (
                "admin/css/vendor/select2/select2.min.css",
                "admin/css/autocomplete.css",
                "css/admin_filters.css",
            )
        }
        js = (
            "admin/js/vendor/jquery/jquery.min.js",
            "admin/js/vendor/select2/select2.full.min.js",
            "admin/js/jquery.init.js",
            "admin/js/autocomplete.js",
        )

    @admin.display(description="why / through")
    def context(self, event):
        """The reason and the detail's ids (the encounter read, the referral disclosed...):
        audit details hold no personal data, by audit_record's contract."""
        parts = [event.reason] if event.reason else []
        parts += [
            f"{key}: {value}"
            for key, value in (event.detail or {}).items()
            if isinstance(value, str | int | bool)
        ]
        text = " · ".join(parts)
        return text if len(text) <= 160 else text[:159] + "…"

    @admin.display(description="record")
    def target(self, event):
        # The id's first 8 characters (the whole in the title): a full UUID per row pushed
        # the list past the window at 1024 pixels.
        short = str(event.target_id)[:8]
        if event.target_type == "cases.resident":
            return format_html(
                '<a href="?resident={}" title="{}">{}…</a>', event.target_id, event.target_id, short
            )
        return format_html('<span title="{}">{}…</span>', event.target_id, short)

    def get_urls(self):
        return [
            path(
                "actors/",
                self.admin_site.admin_view(self.actor_search_view),
                name="acs_auditevent_actors",
            ),
            *super().get_urls(),
        ]

    def actor_search_view(self, request):
        """Usernames for the user filter, in select2's shape, ids being public ids."""
        from django.core.exceptions import PermissionDenied

        User = get_user_model()
        if not self.has_view_permission(request):
            raise PermissionDenied
        term = request.GET.get("term", "").strip()
        users = User.objects.order_by("username")
        if term:
            users = users.filter(username__icontains=term)
        rows = list(users.values_list("public_id", "username")[: ACTOR_SEARCH_LIMIT + 1])
        return JsonResponse(
            {
                "results": [
                    {"id": str(pid), "text": name} for pid, name in rows[:ACTOR_SEARCH_LIMIT]
                ],
                "pagination": {"more": len(rows) > ACTOR_SEARCH_LIMIT},
            }
        )

    def _may_read(self, request) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or has_any_role(user, OVERSIGHT_ROLES))

    def has_module_permission(self, request):
        return self._may_read(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may_read(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# allauth's list of second factors, its times in the desk's format like every other list
# (the admin's autodiscovery imported allauth.mfa.admin before this module: INSTALLED_APPS).
if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class DeskAuthenticatorAdmin(LocalTimesAdmin, AuthenticatorAdmin):
    pass
