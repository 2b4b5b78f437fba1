import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from acs.audit import audit_record
from acs.metrics import event_count
from acs.models import AuditAction
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

    def authenticate(self, request, **credentials):
        """With SSO_FORBID_LOCAL_PASSWORD, staff whose account is linked to the city's identity
        provider sign in there, not with a password here (responders/sso.py). Told only after
        the right password, so the page reveals nothing about an account to a guesser."""
        user = super().authenticate(request, **credentials)
        if user is not None and settings.SSO_FORBID_LOCAL_PASSWORD:
            from responders import sso

            if sso.is_sso_linked(user):
                event_count("acs_signin_failures", outcome="failed")
                audit_record(
                    actor=None,
                    action=AuditAction.SIGN_IN_FAILED,
                    target=user,
                    request=request,
                    detail={"sso": "local_password_forbidden"},
                )
                name = sso.provider_name(request)
                raise ValidationError(
                    _("This account signs in with %(name)s: use the button below.") % {"name": name}
                )
        return user

    def get_login_redirect_url(self, request) -> str:
        # After sign-in (without a `next`), each role lands on its own home.
        return home_for(request.user)

    def get_login_stages(self) -> list[str]:
        # An SSO sign-in whose IdP did multi-factor sign-in is not asked for a local factor.
        return [
            "responders.sso.MfaUnlessIdpDidStage"
            if path == "allauth.mfa.stages.AuthenticateStage"
            else path
            for path in super().get_login_stages()
        ]

    def get_signup_redirect_url(self, request) -> str:
        # Only a first single sign-on makes an account here: it lands where a sign-in does.
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


class StaffSocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on through the city's identity provider: the rules of responders/sso.py
    (roles from the IdP's groups, lockout, refusals) at every SSO sign-in."""

    def pre_social_login(self, request, sociallogin) -> None:
        from responders import sso

        try:
            sso.admit(request, sociallogin)
        except sso.SsoRefused as refusal:
            raise ImmediateHttpResponse(sso.refuse(request, refusal)) from None
        if sociallogin.is_existing:
            sso.apply_roles(request, sociallogin.user, sociallogin)

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Only people whose groups map to a role reach this (pre_social_login refused the rest).
        return True

    def validate_disconnect(self, account, accounts) -> None:
        # The link to the city's identity is what ends access when someone leaves: only an
        # administrator (the admin's social accounts page) removes it.
        raise ValidationError("The link to the city's sign-in is removed by an administrator.")

    def save_user(self, request, sociallogin, form=None):
        from responders import sso

        user = super().save_user(request, sociallogin, form)
        sso.apply_roles(request, user, sociallogin)
        return user

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ) -> None:
        # The IdP's answer is not logged (it may name the person); the kind of error is.
        import logging

        logging.getLogger("responders.sso").warning(
            "SSO sign-in failed at the provider: %s", error or type(exception).__name__
        )
