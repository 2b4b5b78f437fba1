"""Multi-factor sign-in before personal data, for staff with broad access.

Case managers, supervisors and administrators (MFA_REQUIRED_ROLES) reach the admin and the
personal-data APIs only from a session that has passed a second factor (allauth's TOTP or a
passkey; recovery codes come with them). Owning a factor is not enough: the session itself
must have passed it, as recorded by allauth in the session's authentication records. So a
session that signed in some other way (a password alone) is sent to enter the factor first.

- Staff who have no factor yet are sent to set one up (/accounts/2fa/); the API answers 403
  `mfa_required`. Setting one up passes it for that session: the code (or the passkey) was
  just proven.
- Staff who have one but whose session has not passed it are sent to enter it
  (/accounts/2fa/reauthenticate/); the API answers 403 `mfa_required`.

Sign-in, sign-out, the set-up pages themselves and the public pages stay open; machine clients
(bearer tokens) are not sessions and are not affected. Responders and partner users are not
required (their reach is narrow), though they may turn it on, and allauth then asks for it at
every sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from acs.errors import error_body

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from responders.models import User

OPEN_PREFIXES = (
    "/accounts/",
    "/static/",
    "/healthz",
    # The scraper has a token, not a session; the view refuses anyone else (acs/metrics.py).
    "/metrics",
    "/transparency/",
    "/api/hsds/",
    "/api/schema/",
    "/api/docs/",
    "/hooks/",
    "/favicon.ico",
)
SET_UP_NEXT_KEY = "acs_mfa_set_up_next"
SET_UP_MESSAGE = (
    "Your account opens residents' records, so it needs a second sign-in step. Set one up now: "
    "an authenticator app on your phone (Activate) or a passkey (Add). It takes a minute, and "
    "you go on to your work afterwards."
)
# The kinds of allauth authenticator that are a second factor (recovery codes only stand in
# for one that was lost).
FACTOR_TYPES = ("totp", "webauthn")


def needs_second_factor(user: User | AnonymousUser) -> bool:
    if not settings.MFA_REQUIRED or not user.is_authenticated:
        return False
    # One query for the user's roles, not one per role checked.
    return not set(user.role_names).isdisjoint(settings.MFA_REQUIRED_ROLES)


def has_second_factor(user: User | AnonymousUser) -> bool:
    from allauth.mfa.models import Authenticator

    # allauth ships no types: its model's manager is Any.
    found: bool = Authenticator.objects.filter(user=user, type__in=FACTOR_TYPES).exists()
    return found


def passed_second_factor(request: HttpRequest) -> bool:
    """True when this session has passed a second factor (at sign-in, or since)."""
    from allauth.account.authentication import get_authentication_records

    return any(
        record.get("method") == "mfa"
        for record in get_authentication_records(request, request.user)
    )


def _refuse_api(message: str) -> JsonResponse:
    return JsonResponse(error_body("mfa_required", message), status=403)


class RequireMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            not request.path.startswith(OPEN_PREFIXES)
            and request.path != "/"
            and needs_second_factor(request.user)
            and not passed_second_factor(request)
        ):
            is_api = request.path.startswith("/api/")
            if not has_second_factor(request.user):
                if is_api:
                    return _refuse_api(
                        "Set up two-factor sign-in at /accounts/2fa/ before reaching personal data."
                    )
                if not request.session.get(SET_UP_NEXT_KEY):
                    # The new colleague learns why they are here, and goes on afterwards.
                    messages.info(request, SET_UP_MESSAGE)
                if request.method == "GET" and request.headers.get(
                    "Sec-Fetch-Dest", "document"
                ) in ("document", "empty"):
                    # Only a page the person opened, not an image or script it asked for.
                    request.session[SET_UP_NEXT_KEY] = request.get_full_path()
                return redirect("mfa_index")
            if is_api:
                return _refuse_api(
                    "This session has not passed the second factor: enter it at "
                    "/accounts/2fa/reauthenticate/ (or sign in again)."
                )
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('mfa_reauthenticate')}?{query}")
        # The path first: reading the session on a public page would add Vary: Cookie to it.
        if not request.path.startswith(OPEN_PREFIXES) and SET_UP_NEXT_KEY in getattr(
            request, "session", {}
        ):
            del request.session[SET_UP_NEXT_KEY]  # on their way to work again
        return self.get_response(request)


def continue_after_set_up(request: HttpRequest) -> dict[str, str]:
    """Context processor: once the session has passed the factor it was sent to set up, the
    allauth pages (the recovery codes, next) offer the way back to where the person was going."""
    # Only allauth's pages offer it (the recovery codes, next): any other page would read the
    # session for nothing, and a public one would vary by cookie.
    if not request.path.startswith("/accounts/"):
        return {}
    target = getattr(request, "session", {}).get(SET_UP_NEXT_KEY)
    if not target or not passed_second_factor(request):
        return {}
    # Kept until the person is on their way (RequireMfaMiddleware drops it): templates are
    # rendered for e-mails too, within the set-up's own request.
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/"
    return {"mfa_continue_url": target}


def connect_receivers() -> None:
    """Called by AcsConfig.ready."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.signals import authenticator_added

    @receiver(
        authenticator_added, weak=False, dispatch_uid="acs.mfa.factor_set_up_is_factor_passed"
    )
    def factor_set_up_is_factor_passed(
        sender: object,
        request: HttpRequest | None,
        user: User,
        authenticator: Any,  # allauth's Authenticator: allauth ships no types
        **kwargs: object,
    ) -> None:
        # Setting up a TOTP or a passkey proves it in the same step (the code typed, the key
        # touched): the session has passed that factor.
        if authenticator.type in FACTOR_TYPES and request is not None:
            record_authentication(
                request, user, "mfa", id=authenticator.pk, type=authenticator.type, setup=True
            )
