"""Multi-factor sign-in before personal data, for staff with broad access.

Case managers, supervisors and administrators (MFA_REQUIRED_ROLES) reach the admin and the
personal-data APIs only once their account has a second factor (allauth's TOTP; recovery codes
come with it). allauth then asks for the code at every sign-in. Until they set one up, pages
send them to the set-up page and the API answers 403 `mfa_required`. Sign-in, sign-out, the
set-up pages themselves and the public pages stay open; machine clients (bearer tokens) are
not sessions and are not affected. Responders and partner users are not required (their
reach is narrow), though they may turn it on.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from acs.errors import error_body

SESSION_KEY = "acs_mfa_enrolled"
OPEN_PREFIXES = (
    "/accounts/",
    "/static/",
    "/healthz",
    "/transparency/",
    "/api/hsds/",
    "/api/schema/",
    "/api/docs/",
    "/hooks/",
)


def needs_second_factor(user) -> bool:
    if not settings.MFA_REQUIRED or not user.is_authenticated:
        return False
    # One query for the user's roles, not one per role checked.
    return not set(user.role_names).isdisjoint(settings.MFA_REQUIRED_ROLES)


def has_second_factor(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


class RequireMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not request.path.startswith(OPEN_PREFIXES)
            and request.path != "/"
            and not request.session.get(SESSION_KEY)
            and needs_second_factor(request.user)
        ):
            if not has_second_factor(request.user):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        error_body(
                            "mfa_required",
                            "Set up two-factor sign-in at /accounts/2fa/ before reaching "
                            "personal data.",
                        ),
                        status=403,
                    )
                return redirect("mfa_activate_totp")
            request.session[SESSION_KEY] = True
        return self.get_response(request)
