"""Idle expiry of signed-in sessions, for shared tablets.

A session ends at the latest SESSION_COOKIE_AGE after sign-in (Django's absolute limit) and
sooner after SESSION_IDLE_TIMEOUT seconds without activity. Activity is any request of the
signed-in person except background ones: the field app's polling and sync send the header
`X-ACS-Background: 1`, which does not keep a session alive, though it is refused like any
other request once the session has gone idle. Bearer-token clients have no session and are
not affected.

An ended session is audited (action `idle_logout`, the account as target, the idle seconds)
without personal data. Pages then go to the sign-in page with a message; the API and
background requests get the one error shape, 401 `session_expired`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils import timezone

from acs.audit import audit_record
from acs.errors import error_body
from acs.models import AuditAction

if TYPE_CHECKING:
    from responders.models import User

logger = logging.getLogger(__name__)

SESSION_KEY = "acs_last_activity"
BACKGROUND_HEADER = "HTTP_X_ACS_BACKGROUND"
# The stamp is rewritten at most this often (seconds), so that not every request writes the
# session row; the idle limit is then kept to within this much.
STAMP_EVERY = 30


def clock() -> datetime:
    return timezone.now()


def is_background(request: HttpRequest) -> bool:
    value: str = request.META.get(BACKGROUND_HEADER, "")
    return value.strip() == "1"


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/") or is_background(request):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def idle_message() -> str:
    minutes = max(1, settings.SESSION_IDLE_TIMEOUT // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"You were signed out after {minutes} {unit} without activity."


def start_idle_clock(
    sender: type[User], request: HttpRequest | None, user: User, **kwargs: object
) -> None:
    """The idle clock starts at sign-in, written with the new session (no extra save later)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = clock().timestamp()


class IdleSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            return self.get_response(request)  # a machine client: no session to expire
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)

        now = clock().timestamp()
        last = request.session.get(SESSION_KEY)
        if isinstance(last, int | float) and now - last > settings.SESSION_IDLE_TIMEOUT:
            return self._expire(request, user, idle=int(now - last))
        if not isinstance(last, int | float):
            # Signed in before this middleware existed: the clock starts now.
            request.session[SESSION_KEY] = now
        elif not is_background(request) and now - last >= STAMP_EVERY:
            request.session[SESSION_KEY] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest, user: User, *, idle: int) -> HttpResponseBase:
        audit_record(
            actor=user,
            action=AuditAction.IDLE_SIGN_OUT,
            target=user,
            request=request,
            detail={"idle_seconds": idle, "background": is_background(request)},
        )
        logger.info("session of user %s ended after %d s without activity", user.public_id, idle)
        logout(request)
        message = idle_message()
        if wants_json(request):
            response = JsonResponse(error_body("session_expired", message), status=401)
            response["WWW-Authenticate"] = 'Session realm="acs"'
            return response
        messages.info(request, message)
        # The path only: a query string could carry a search term.
        return redirect_to_login(request.path)


def connect_receivers() -> None:
    """Called by AcsConfig.ready: the idle clock starts at sign-in."""
    user_logged_in.connect(start_idle_clock, dispatch_uid="acs.sessions.start_idle_clock")
