"""Single sign-on through the city's identity provider: who gets in, with what.

The doors are allauth's: OpenID Connect (allauth.socialaccount.providers.openid_connect,
configured in acs/settings/auth.py from SSO_OIDC_*) and SAML 2.0
(allauth.socialaccount.providers.saml on python3-saml, from SSO_SAML_*; StaffSamlProvider below
keeps the assertion's AuthnContextClassRef). The rules are the same for both and are here,
applied by the social account adapter (responders/adapters.py) at every SSO sign-in, before the
session exists:

- **Roles come from the IdP's groups.** SSO_GROUP_ROLES maps IdP group names to roles
  (acs/roles.py); the person holds exactly the roles their groups map to, set through
  `staff_roles_set` (audited as a role change). A group removed at the IdP removes the role at
  the next sign-in. Someone whose groups map to no role is refused with a message saying so,
  and an account that had roles loses them; no account is made for them.
- **The account** is found by the IdP's subject. At the first SSO sign-in, a local account
  with the same e-mail (verified by the IdP) is linked when SSO_LINK_BY_EMAIL is on, except
  administrators' and partner users' accounts: those stay local (break-glass), and a clash
  with one is refused. Otherwise a new account is made (no password of its own).
- **Lockout is the account's**: an account locked by failed local passwords (acs/signin.py)
  or deactivated is refused through SSO too, and the refusal is audited (`locked_out`).
- **A second factor asserted by the IdP counts**: "mfa" in the ID token's `amr` (or an `acr`
  listed in SSO_MFA_ACR), or a SAML assertion's AuthnContextClassRef (or its
  SSO_SAML_MFA_ATTRIBUTE attribute) listed in SSO_SAML_MFA_CONTEXTS, is recorded in the
  session as allauth records its own second factor, so acs/mfa.py does not ask again.
  Without it the person sets up or enters a local factor like anyone else
  (docs/security.md, "Single sign-on").

Nothing of the IdP's answer goes into logs but the account's public id, or a keyed digest of
the subject when there is no account.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.mfa.stages import AuthenticateStage
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from acs.audit import audit_record
from acs.metrics import event_count
from acs.models import AuditAction
from acs.roles import ACS_ROLES, Role
from acs.signin import login_digest

logger = logging.getLogger(__name__)

# Roles a city's directory may hand out. Partner users belong to an agency (made by an
# administrator, local), and the CAD integration is a machine with a token.
# Local accounts that SSO never takes over by e-mail.
LOCAL_ONLY_ROLES = frozenset({Role.ADMIN, Role.PARTNER_USER})

NO_ROLE_MESSAGE = _(
    "Your city account is not in any group that has access to this system, so you cannot "
    "sign in with it. Ask your supervisor to add you to the right group at the city."
)
LOCKED_MESSAGE = _(
    "This account is locked after too many failed sign-ins, or has been turned off. "
    "Try again in a few minutes, or ask an administrator."
)
LOCAL_CLASH_MESSAGE = _(
    "An account with this e-mail address signs in with its own password here, not through "
    "the city. Sign in with that password, or ask an administrator."
)
CONNECT_MESSAGE = _(
    "Accounts are linked to the city's sign-in at the first sign-in with it, not from here. "
    "Ask an administrator."
)
NO_EMAIL_MESSAGE = _(
    "The city's sign-in did not give an e-mail address for you. Ask the city's IT staff."
)


class SsoRefused(Exception):
    def __init__(self, message: str, *, reason: str, user=None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.user = user  # the account refused, when there is one


# Where a SAML sign-in's extra_data (the assertion's attributes, as allauth keeps them) holds
# the assertion's AuthnContextClassRef values; not a name an IdP gives an attribute.
SAML_CONTEXTS = "saml:AuthnContextClassRef"


class StaffSamlProvider(SAMLProvider):
    """allauth's SAML provider (SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]), also keeping
    how the IdP says the person signed in (AuthnContextClassRef, from the signed assertion
    python3-saml has checked), for the MFA rule."""

    # allauth mounts <package>.urls under /accounts/: allauth's SAML views, not ours.
    package = "allauth.socialaccount.providers.saml"

    def extract_extra_data(self, data):
        return {**super().extract_extra_data(data), SAML_CONTEXTS: data.get_last_authn_contexts()}


def is_saml(extra_data: dict[str, Any]) -> bool:
    return SAML_CONTEXTS in extra_data


def provider_name(request) -> str:
    """What the button calls the city's sign-in (SSO_OIDC_NAME, or SSO_SAML_NAME)."""
    from allauth.socialaccount.adapter import get_adapter

    adapter = get_adapter()
    apps = adapter.list_apps(request, provider="openid_connect") or adapter.list_apps(
        request, provider="saml"
    )
    return apps[0].name if apps else settings.SSO_OIDC_NAME


def group_roles() -> dict[str, Role]:
    """SSO_GROUP_ROLES as {IdP group: Role}; a role outside ACS_ROLES is a set-up error."""
    mapping = {}
    for group, role in settings.SSO_GROUP_ROLES.items():
        try:
            mapping[group] = Role(role)
        except ValueError as exc:
            raise ImproperlyConfigured(f"SSO_GROUP_ROLES: {role!r} is not a role") from exc
        if mapping[group] not in ACS_ROLES:
            raise ImproperlyConfigured(f"SSO_GROUP_ROLES: {role!r} cannot come from the IdP")
    return mapping


def check_settings(app_configs=None, **kwargs) -> list:
    """`manage.py check` (and every start) names a single sign-on set-up that cannot work."""
    from django.core.checks import Error

    errors = []
    try:
        group_roles()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="acs.sso.E001"))
    if settings.SSO_OIDC_ISSUER and not (
        settings.SSO_OIDC_CLIENT_ID and settings.SSO_OIDC_CLIENT_SECRET
    ):
        errors.append(
            Error(
                "SSO_OIDC_ISSUER is set without SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET",
                id="acs.sso.E002",
            )
        )
    if settings.SSO_OIDC_ISSUER and not settings.SSO_GROUP_ROLES:
        errors.append(
            Error(
                "SSO_OIDC_ISSUER is set but SSO_GROUP_ROLES maps no group: everyone is refused",
                id="acs.sso.E003",
            )
        )
    errors += _check_saml(Error)
    return errors


def _check_saml(Error) -> list:
    """The SAML door: an IdP to send people to and a certificate to check its answers."""
    if not settings.SSO_SAML_IDP_ENTITY_ID:
        return []
    errors = []
    if not settings.SSO_GROUP_ROLES:
        errors.append(
            Error(
                "SSO_SAML_IDP_ENTITY_ID is set but SSO_GROUP_ROLES maps no group: everyone is "
                "refused",
                id="acs.sso.E004",
            )
        )
    if settings.SSO_SAML_IDP_METADATA_URL:
        return errors
    if not (settings.SSO_SAML_IDP_SSO_URL and settings.SSO_SAML_IDP_X509_CERT):
        errors.append(
            Error(
                "SSO_SAML_IDP_ENTITY_ID is set without SSO_SAML_IDP_METADATA_URL, or without "
                "SSO_SAML_IDP_SSO_URL and SSO_SAML_IDP_X509_CERT",
                id="acs.sso.E005",
            )
        )
    elif not _is_certificate(settings.SSO_SAML_IDP_X509_CERT):
        errors.append(
            Error(
                "SSO_SAML_IDP_X509_CERT is not an X.509 certificate (PEM, or its base64 body)",
                id="acs.sso.E006",
            )
        )
    return errors


def _is_certificate(text: str) -> bool:
    import base64
    import binascii

    from cryptography import x509

    body = "".join(
        line for line in text.strip().splitlines() if line.strip() and "-----" not in line
    )
    try:
        x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
    except (ValueError, binascii.Error):
        return False
    return True


def _claims(extra_data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(userinfo, id_token) as allauth keeps them in the social account's extra_data."""
    return extra_data.get("userinfo") or {}, extra_data.get("id_token") or {}


def groups_of(extra_data: dict[str, Any]) -> list[str]:
    if is_saml(extra_data):
        # A SAML attribute is a list of values already.
        groups = extra_data.get(settings.SSO_SAML_GROUPS_ATTRIBUTE, [])
    else:
        userinfo, id_token = _claims(extra_data)
        claim = settings.SSO_GROUPS_CLAIM
        groups = userinfo.get(claim, id_token.get(claim, []))
    if isinstance(groups, str):  # some IdPs send a single group as a string
        groups = [groups]
    return [str(group) for group in groups or []]


def roles_for(groups: list[str]) -> set[Role]:
    mapping = group_roles()
    return {mapping[group] for group in groups if group in mapping}


def idp_did_mfa(extra_data: dict[str, Any]) -> bool:
    """The IdP asserted multi-factor sign-in in the ID token (signed, checked by allauth), or
    in the SAML assertion's AuthnContextClassRef (signed, checked by python3-saml)."""
    if is_saml(extra_data):
        said = [*(extra_data[SAML_CONTEXTS] or [])]
        if settings.SSO_SAML_MFA_ATTRIBUTE:
            said += extra_data.get(settings.SSO_SAML_MFA_ATTRIBUTE) or []
        return bool(set(said) & set(settings.SSO_SAML_MFA_CONTEXTS))
    _, id_token = _claims(extra_data)
    amr = id_token.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    if set(amr) & set(settings.SSO_MFA_AMR):
        return True
    return bool(id_token.get("acr")) and id_token.get("acr") in settings.SSO_MFA_ACR


def is_locked(request, user) -> bool:
    """The account's lockout (acs/signin.py keys it by the account), read without counting."""
    # allauth's internal consume: the public one lets every GET through, and the IdP sends
    # the browser back with a GET.
    from allauth.core.internal import ratelimit

    if not user.is_active:
        return True
    return not ratelimit.consume(
        request,
        app="allauth.account",
        action="login_failed",
        key=f"account:{user.public_id}",
        dry_run=True,
        limit_get=True,
    )


def is_sso_linked(user) -> bool:
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(user=user).exists()


def _local_account_by_email(email: str):
    from responders.models import User

    if not email:
        return None
    return User.objects.filter(email__iexact=email).first()


def refuse(request, refusal: SsoRefused):
    """The page a refused SSO sign-in ends on, audited when there is an account."""
    user = refusal.user
    event_count(
        "acs_signin_failures", outcome="locked_out" if refusal.reason == "locked" else "failed"
    )
    if user is not None and user.pk:
        action = (
            AuditAction.LOCKED_OUT if refusal.reason == "locked" else AuditAction.SIGN_IN_FAILED
        )
        audit_record(
            actor=None, action=action, target=user, request=request, detail={"sso": refusal.reason}
        )
        logger.warning("SSO sign-in refused (%s) for account %s", refusal.reason, user.public_id)
    return render(request, "account/sso_refused.html", {"message": refusal.message}, status=403)


def admit(request, sociallogin) -> None:
    """Apply the rules above to an SSO sign-in; raises SsoRefused. The caller has looked the
    account up by the IdP's subject (sociallogin.is_existing)."""
    from allauth.socialaccount.providers.base import AuthProcess

    if sociallogin.state.get("process") == AuthProcess.CONNECT:
        # A signed-in person tying another identity to their account (allauth's connections
        # page) would bypass the rules below: a partner user could pick up a staff role.
        raise SsoRefused(CONNECT_MESSAGE, reason="connect")
    account = sociallogin.account
    wanted = roles_for(groups_of(account.extra_data))
    user = sociallogin.user if sociallogin.is_existing else None
    if user is None:
        email = sociallogin.user.email if sociallogin.user else ""
        if not email:
            raise SsoRefused(NO_EMAIL_MESSAGE, reason="no_email")
        local = _local_account_by_email(email)
        if local is not None:
            userinfo, id_token = _claims(account.extra_data)
            verified = (
                settings.SSO_SAML_EMAIL_VERIFIED  # SAML has no claim: the operator's word
                if is_saml(account.extra_data)
                else userinfo.get("email_verified", id_token.get("email_verified")) is True
            )
            linkable = (
                settings.SSO_LINK_BY_EMAIL
                and verified
                and not set(local.role_names) & {role.value for role in LOCAL_ONLY_ROLES}
            )
            if not linkable:
                raise SsoRefused(LOCAL_CLASH_MESSAGE, reason="local_account")
            user = local
    if user is not None and is_locked(request, user):
        raise SsoRefused(LOCKED_MESSAGE, reason="locked", user=user)
    if not wanted:
        if user is not None:
            # Removed from every group at the IdP: the roles go too.
            from responders.services import staff_roles_set

            staff_roles_set(actor=None, user=user, roles=[], request=request)
        else:
            logger.warning(
                "SSO sign-in refused (no_role) for an unknown subject (digest %s)",
                login_digest(account.uid),
            )
        raise SsoRefused(NO_ROLE_MESSAGE, reason="no_role", user=user)
    if user is not None and not sociallogin.is_existing:
        sociallogin.connect(request, user)  # linked by e-mail; saves the social account
        logger.info("SSO linked to existing account %s", user.public_id)


def apply_roles(request, user, sociallogin) -> None:
    """Give the account exactly the roles its IdP groups map to (audited when they change)."""
    from responders.services import staff_roles_set

    roles = roles_for(groups_of(sociallogin.account.extra_data))
    staff_roles_set(actor=None, user=user, roles=roles, request=request)


def record_idp_mfa(request, user, sociallogin) -> None:
    """Count the IdP's multi-factor sign-in as this session's second factor (acs/mfa.py)."""
    from allauth.account.internal.flows.login import record_authentication

    if idp_did_mfa(sociallogin.account.extra_data):
        record_authentication(
            request, user, "mfa", type="idp", provider=sociallogin.account.provider
        )


def idp_origins(request) -> list[str]:
    """The configured IdPs' origins (scheme://host[:port] of each issuer, of each SAML IdP's
    sign-in URL, or its metadata URL's when the sign-in URL comes from the metadata)."""
    from urllib.parse import urlsplit

    from allauth.socialaccount.adapter import get_adapter

    adapter = get_adapter()
    urls = [
        app.settings.get("server_url", "") for app in adapter.list_apps(request, "openid_connect")
    ]
    for app in adapter.list_apps(request, provider="saml"):
        idp = app.settings.get("idp", {})
        urls.append(idp.get("sso_url") or idp.get("metadata_url") or "")
    origins = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


class SsoFormActionMiddleware:
    """The sign-in button posts to us and we redirect to the IdP: browsers apply the page's
    CSP form-action to that redirect too, so allauth's pages allow the IdP's origin there (and
    only there). Listed after django-csp's middleware, so it runs before it on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/accounts/"):
            origins = idp_origins(request)
            if origins:
                update = getattr(response, "_csp_update", None) or {}
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update
        return response


class MfaUnlessIdpDidStage(AuthenticateStage):
    """allauth's second-factor step at sign-in, skipped for an SSO sign-in whose IdP asserted
    multi-factor sign-in (the session records it: record_idp_mfa)."""

    def _should_handle(self, request) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if sociallogin is not None and idp_did_mfa(sociallogin.account.extra_data):
            return False
        return super()._should_handle(request)


def connect_receivers() -> None:
    """Called by RespondersConfig.ready: an IdP's multi-factor sign-in counts as a second
    factor."""
    from allauth.account.signals import user_logged_in
    from django.dispatch import receiver

    @receiver(user_logged_in, weak=False, dispatch_uid="responders.sso.idp_mfa_counts")
    def idp_mfa_counts(sender, request, user, sociallogin=None, **kwargs):
        if sociallogin is not None and request is not None:
            record_idp_mfa(request, user, sociallogin)
