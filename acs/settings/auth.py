"""Authentication: local accounts (allauth), second factors, and single sign-on (OIDC, SAML).

The rules behind these settings are in responders/sso.py and acs/mfa.py; docs/operations.md
"Single sign-on". allauth's social-account apps and the SSO middleware are in INSTALLED_APPS and
MIDDLEWARE (acs/settings/__init__.py).
"""

from __future__ import annotations

from acs.roles import STAFF_ROLES
from acs.settings.environment import ACS_BASE_URL, ENVIRONMENT, env

# --- Authentication -------------------------------------------------------------------------

AUTH_USER_MODEL = "responders.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENVIRONMENT == "test":
    # Hashing strength is not under test; a fast hasher keeps the suite quick.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Staff accounts are created by an administrator, never by sign-up.
ACCOUNT_ADAPTER = "responders.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's rate limits (on by default) are stated here so they are visible and tunable.
# They count per client address, which allauth reads from REMOTE_ADDR: with no proxy count and
# no client-IP header of its own it takes what acs.client_address put there (TRUSTED_PROXIES).
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": env.str("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "signup": "20/m/ip",
}
# Second factors: a TOTP app or a passkey (WebAuthn: a security key, a phone, the tablet's own
# fingerprint or face unlock), and recovery codes for a lost one.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# WebAuthn needs a secure origin; the local demo and the tests serve plain HTTP on localhost.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool(
    "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=ENVIRONMENT in ("development", "test")
)
MFA_TOTP_ISSUER = "ACS case management"
# Staff with broad access need a second factor before any personal data (acs/mfa.py). On by
# default; the local demo (ACS_ENVIRONMENT=development) leaves it off unless asked.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=ENVIRONMENT != "development")
# The desk (acs.roles.STAFF_ROLES) by default.
MFA_REQUIRED_ROLES = env.list(
    "MFA_REQUIRED_ROLES", default=sorted(role.value for role in STAFF_ROLES)
)

# --- Single sign-on (OpenID Connect) -------------------------------------------------------
# Staff may sign in through the city's identity provider (Entra ID, Okta, Google Workspace,
# Keycloak...) with allauth's OpenID Connect provider; docs/operations.md "Single sign-on".
# Nothing configured (no SSO_OIDC_ISSUER) = no SSO button, local sign-in only. The rules
SOCIALACCOUNT_ADAPTER = "responders.adapters.StaffSocialAccountAdapter"
# Innermost: lets the sign-in pages' form (CSP form-action) lead on to the IdP.
SSO_OIDC_ISSUER = env.str("SSO_OIDC_ISSUER", default="")
SSO_OIDC_CLIENT_ID = env.str("SSO_OIDC_CLIENT_ID", default="")
SSO_OIDC_CLIENT_SECRET = env.str("SSO_OIDC_CLIENT_SECRET", default="")
# The button reads "Sign in with <SSO_OIDC_NAME>".
SSO_OIDC_NAME = env.str("SSO_OIDC_NAME", default="City sign-in")
# Part of the redirect URI to register at the IdP: /accounts/oidc/<id>/login/callback/.
SSO_OIDC_PROVIDER_ID = "sso"
SSO_OIDC_SCOPES = env.list("SSO_OIDC_SCOPES", default=["openid", "profile", "email"])
# The claim (in userinfo or the ID token) holding the person's groups at the IdP.
SSO_GROUPS_CLAIM = env.str("SSO_GROUPS_CLAIM", default="groups")
# IdP group -> role (acs/roles.py): "acs-supervisors=supervisor,acs-case-mgmt=case_manager".
# A person gets every role one of their groups maps to, re-read at every SSO sign-in; with
# none they are refused. Partner users and CAD are never SSO roles.
SSO_GROUP_ROLES = env.dict("SSO_GROUP_ROLES", default={})
# The IdP's word that it did multi-factor sign-in: "mfa" in the ID token's amr (RFC 8176),
# or an acr value listed here. Without it, local MFA is asked as for a password sign-in.
SSO_MFA_AMR = env.list("SSO_MFA_AMR", default=["mfa"])
SSO_MFA_ACR = env.list("SSO_MFA_ACR", default=[])
# Staff whose account is linked to the IdP may not sign in with a local password (leaving
# the city's directory then ends their access); break-glass administrators stay local.
SSO_FORBID_LOCAL_PASSWORD = env.bool("SSO_FORBID_LOCAL_PASSWORD", default=True)
# First SSO sign-in of someone who already has a local account with the same (IdP-verified)
# e-mail links the two, except accounts of administrators and partner users (kept local).
SSO_LINK_BY_EMAIL = env.bool("SSO_LINK_BY_EMAIL", default=True)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": (
            [
                {
                    "provider_id": SSO_OIDC_PROVIDER_ID,
                    "name": SSO_OIDC_NAME,
                    "client_id": SSO_OIDC_CLIENT_ID,
                    "secret": SSO_OIDC_CLIENT_SECRET,
                    "settings": {"server_url": SSO_OIDC_ISSUER, "scope": SSO_OIDC_SCOPES},
                }
            ]
            if SSO_OIDC_ISSUER
            else []
        ),
    }
}
# --- Single sign-on (SAML 2.0) -------------------------------------------------------------
# The same door for a city whose IdP speaks SAML (Entra ID, Okta, Keycloak, ADFS...), with
# allauth's SAML provider (python3-saml). The same rules (responders/sso.py): roles from the
# groups attribute through SSO_GROUP_ROLES, lockout, linking, MFA. Nothing configured (no
# SSO_SAML_IDP_ENTITY_ID) = no SAML button. docs/operations.md "Single sign-on".
SSO_SAML_NAME = env.str("SSO_SAML_NAME", default="City sign-in")
# Part of our URLs to give the IdP: /accounts/saml/<id>/acs/ and /accounts/saml/<id>/metadata/.
SSO_SAML_ID = "city"
SSO_SAML_IDP_ENTITY_ID = env.str("SSO_SAML_IDP_ENTITY_ID", default="")
# Either the IdP's metadata URL (read over HTTPS, cached 4 h), or its SSO URL and signing
# certificate (PEM or bare base64).
SSO_SAML_IDP_METADATA_URL = env.str("SSO_SAML_IDP_METADATA_URL", default="")
SSO_SAML_IDP_SSO_URL = env.str("SSO_SAML_IDP_SSO_URL", default="")
SSO_SAML_IDP_X509_CERT = env.str("SSO_SAML_IDP_X509_CERT", default="", multiline=True)
# Our entity id at the IdP: our metadata URL, from ACS_BASE_URL (not from the request's Host).
SSO_SAML_SP_ENTITY_ID = env.str(
    "SSO_SAML_SP_ENTITY_ID", default=f"{ACS_BASE_URL}/accounts/saml/{SSO_SAML_ID}/metadata/"
)
# The attributes the IdP releases (names as the IdP sends them; the first present wins).
# Without a subject attribute, the assertion's NameID (persistent, please) is the subject.
SSO_SAML_SUBJECT_ATTRIBUTES = env.list("SSO_SAML_SUBJECT_ATTRIBUTES", default=[])
SSO_SAML_EMAIL_ATTRIBUTES = env.list(
    "SSO_SAML_EMAIL_ATTRIBUTES",
    default=[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "email",
    ],
)
SSO_SAML_GROUPS_ATTRIBUTE = env.str("SSO_SAML_GROUPS_ATTRIBUTE", default="groups")
# SAML has no "email_verified": say here whether the IdP's e-mail attribute comes from the
# city's own directory (then it links a local account by e-mail, SSO_LINK_BY_EMAIL).
SSO_SAML_EMAIL_VERIFIED = env.bool("SSO_SAML_EMAIL_VERIFIED", default=False)
# AuthnContextClassRef values that mean the IdP did multi-factor sign-in; the same values in
# the attribute SSO_SAML_MFA_ATTRIBUTE count too (Entra ID says "multipleauthn" there).
SSO_SAML_MFA_CONTEXTS = env.list(
    "SSO_SAML_MFA_CONTEXTS",
    default=[
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "http://schemas.microsoft.com/claims/multipleauthn",
    ],
)


def saml_app(*, name: str, idp: dict) -> dict:
    """allauth's SAML app from our settings (tests/saml_idp.py builds its own with it)."""
    return {
        "name": name,
        "provider_id": "saml",
        "client_id": SSO_SAML_ID,
        "settings": {
            "idp": idp,
            "sp": {"entity_id": SSO_SAML_SP_ENTITY_ID},
            "attribute_mapping": {
                **({"uid": SSO_SAML_SUBJECT_ATTRIBUTES} if SSO_SAML_SUBJECT_ATTRIBUTES else {}),
                "email": SSO_SAML_EMAIL_ATTRIBUTES,
                "first_name": [
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                    "urn:oid:2.5.4.42",
                    "firstName",
                ],
                "last_name": [
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                    "urn:oid:2.5.4.4",
                    "lastName",
                ],
            },
            "advanced": {
                # The assertion itself must be signed by the IdP's key (python3-saml
                # refuses an unsigned one, or one signed by another key), within
                # its validity window, for our entity id and ACS URL; IdP-initiated
                # sign-ins (no request of ours to answer) are refused.
                "strict": True,
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                "reject_deprecated_algorithm": True,
                "allow_single_label_domains": False,
            },
        },
    }


SSO_SAML_MFA_ATTRIBUTE = env.str(
    "SSO_SAML_MFA_ATTRIBUTE", default="http://schemas.microsoft.com/claims/authnmethodsreferences"
)


SOCIALACCOUNT_PROVIDERS["saml"] = {
    # allauth's provider, which also keeps the assertion's AuthnContextClassRef (for MFA).
    "provider_class": "responders.sso.StaffSamlProvider",
    "APPS": (
        [
            saml_app(
                name=SSO_SAML_NAME,
                idp={
                    "entity_id": SSO_SAML_IDP_ENTITY_ID,
                    **(
                        {"metadata_url": SSO_SAML_IDP_METADATA_URL}
                        if SSO_SAML_IDP_METADATA_URL
                        else {"sso_url": SSO_SAML_IDP_SSO_URL, "x509cert": SSO_SAML_IDP_X509_CERT}
                    ),
                },
            )
        ]
        if SSO_SAML_IDP_ENTITY_ID
        else []
    ),
}
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking is ours (SSO_LINK_BY_EMAIL), not allauth's
SOCIALACCOUNT_STORE_TOKENS = False
# A sign-in starts with a POST from the button (a GET shows a "Continue" page), so another
# site cannot sign someone in with a link.
SOCIALACCOUNT_LOGIN_ON_GET = False
# --- end of single sign-on ------------------------------------------------------------------
