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
