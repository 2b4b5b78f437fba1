from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from acs.local_times import LocalTimesAdmin
from acs.roles import STAFF_ROLES, Role
from responders.models import Team, Unit, User
from responders.services import staff_roles_set

ROLES_HELP = (
    "Case managers, supervisors and administrators work in this admin (they set up a second "
    "factor at their first sign-in); responders use the field app; partner users the partner "
    "portal, for the agency chosen below."
)


class RolesMixin(forms.Form):
    """The roles field of both user forms, and the rules that tie roles to team and agency."""

    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, help_text=ROLES_HELP
    )

    def clean(self):
        data = super().clean()
        roles = set(data.get("roles") or [])
        organization = data.get("organization")
        if Role.PARTNER_USER in roles and not organization:
            self.add_error("organization", "A partner user works for one agency: choose it.")
        if Role.PARTNER_USER in roles and roles & set(STAFF_ROLES):
            self.add_error("roles", "A partner agency's user cannot also hold an ACS staff role.")
        if organization and Role.PARTNER_USER not in roles:
            self.add_error(
                "organization", "Only partner users belong to an agency; leave this empty."
            )
        return data


class StaffCreationForm(RolesMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "team", "organization")


class StaffChangeForm(RolesMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = self.instance.role_names


@admin.register(User)
class UserAdmin(LocalTimesAdmin, DjangoUserAdmin):
    """People who sign in. Roles are set with one field (responders/services.py), which also
    decides who may enter the admin; no separate groups, staff or superuser ticks."""

    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = (
        "username",
        "full_name",
        "roles_display",
        "team",
        "organization",
        "is_active",
        "last_login",
    )
    list_filter = ("is_active", "groups", "team", "organization")
    list_select_related = ("team", "organization")
    search_fields = ("username", "first_name", "last_name", "email")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "language")}),
        (
            "Role and work",
            {"fields": ("roles", "team", "organization", "credentials", "is_active")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
        ("Role and work", {"fields": ("roles", "team", "organization")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, obj):
        return obj.get_full_name() or "—"

    @admin.display(description="Roles")
    def roles_display(self, obj):
        return ", ".join(obj.role_labels) or "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        staff_roles_set(
            actor=request.user,
            user=form.instance,
            roles=form.cleaned_data["roles"],
            request=request,
        )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Unit)
class UnitAdmin(LocalTimesAdmin):
    list_display = ("call_sign", "team", "status", "status_changed_at", "needs_confirmation")
    # Call signs CAD sent before anyone created them wait here for a supervisor.
    list_filter = ("needs_confirmation", "status", "team")
    list_select_related = ("team",)
    search_fields = ("call_sign",)
    filter_horizontal = ("members",)


def _single_sign_on_admin() -> None:
    """Single sign-on is configured from the environment (acs/settings/auth.py, SSO_OIDC_*), and no
    IdP token is stored (SOCIALACCOUNT_STORE_TOKENS off): allauth's admin pages for apps and
    tokens would be a second, unaudited place for client secrets. The accounts' links to the
    IdP stay, so that an administrator can see and remove one (responders/sso.py)."""
    from allauth.socialaccount.models import SocialApp, SocialToken

    for model in (SocialApp, SocialToken):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_single_sign_on_admin()
