import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from acs.roles import STAFF_ROLES, Role
from acs.signin import SignInGuardMixin


def home_for(user) -> str:
    """Where a role's working day starts: the desk's dashboard, the responder's field app, the
    partner's inbox. Anyone else (no role yet, or several that disagree) gets the page of links."""
    roles = set(user.role_names)
    if roles & STAFF_ROLES:
        return reverse("admin:index")
    if roles == {Role.RESPONDER}:
        return reverse("field:home")
    if roles == {Role.PARTNER_USER} and user.organization_id:
        return reverse("portal:inbox")
    return reverse("home")


class StaffAccountAdapter(SignInGuardMixin, DefaultAccountAdapter):
    """Accounts hold health-information access: administrators create them, nobody signs up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        # After sign-in (without a `next`), each role lands on its own home.
        return home_for(request.user)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again before any change to the second factors, even
        seconds after the person proved who they are: a new colleague typed their password,
        was sent to set up a factor, then was asked for the password again, and once more to
        see the recovery codes the set-up had just made. What this session proved within
        ACCOUNT_REAUTHENTICATION_TIMEOUT counts: the password for someone with no factor yet,
        the second factor (at sign-in or at its set-up) for someone who has one."""
        required = super().is_reauthentication_required(app=app, **kwargs)
        request = getattr(self, "request", None)
        if not required or request is None or not request.user.is_authenticated:
            return required
        from allauth.account.authentication import get_authentication_records

        from acs.mfa import has_second_factor

        method = "mfa" if has_second_factor(request.user) else "password"
        proven = [
            record["at"]
            for record in get_authentication_records(request, request.user)
            if record.get("method") == method
        ]
        return not (proven and time.time() - proven[-1] < account_settings.REAUTHENTICATION_TIMEOUT)
