from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path

from acs.models import ApiToken, AuditEvent
from acs.roles import Role
from acs.tokens import token_issue, token_revoke, token_rotate

TOKEN_KINDS = {"cad": Role.CAD_INTEGRATION, "partner": Role.PARTNER_USER}


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
        from resources.models import Organization
        from responders.models import User

        super().__init__(*args, **kwargs)
        self.fields["organization"] = forms.ModelChoiceField(
            queryset=Organization.objects.all(),
            required=False,
            widget=AutocompleteSelect(User._meta.get_field("organization"), admin_site),
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
class ApiTokenAdmin(admin.ModelAdmin):
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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only."""

    list_display = ("created_at", "actor", "action", "target_type", "target_id", "ip_address")
    list_filter = ("action", "target_type")
    list_select_related = ("actor",)
    search_fields = ("=target_id",)
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
