"""The operations board's page and its conditional update (docs/architecture.md, "The
operations board": why conditional polling, not server-sent events, and the cursor).

The page carries its first snapshot (json_script, not executed: no inline script under the
CSP) and static/board/board.js asks `/board/data` every BOARD_POLL_SECONDS with the cursor
it holds as its ETag: nothing changed is a 304 after one statement; a change is only what
changed since the cursor (`selectors.board_update`), in a constant number of statements; a
board without a usable cursor gets the whole snapshot.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

from acs.errors import error_body
from acs.maps import map_config
from acs.roles import STAFF_ROLES, has_any_role
from acs.static_modules import static_closure
from cases.board import selectors

# The modules static/board/board.js imports, which the page preloads.
BOARD_MODULES = static_closure("board/board.js")[1:]


def _is_desk(user) -> bool:
    """The desk (acs.roles.STAFF_ROLES): case managers, supervisors (and dispatch liaisons
    holding either), admins."""
    return has_any_role(user, STAFF_ROLES)


def desk_page(view):
    """Desk roles only: anonymous to sign-in, anyone else 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not _is_desk(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _private(response: HttpResponse) -> HttpResponse:
    # Positions and addresses: never kept by a shared cache, asked again every time.
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
@desk_page
def board(request: HttpRequest) -> HttpResponse:
    snapshot = selectors.board_snapshot()
    config = {
        **map_config(),
        "data_url": reverse("board:data"),
        "poll_ms": int(settings.BOARD_POLL_SECONDS * 1000),
        "leaflet": static("vendor/leaflet/leaflet.js"),
    }
    response = render(
        request,
        "cases/board/board.html",
        {"snapshot": snapshot, "config": config, "modules": BOARD_MODULES},
    )
    response["ETag"] = f'"{snapshot["version"]}"'
    return _private(response)


def _held_cursor(request: HttpRequest) -> str | None:
    """The cursor the page holds, from its If-None-Match (a quoted ETag)."""
    tags = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    for tag in tags:
        tag = tag.removeprefix("W/")
        if len(tag) > 2 and tag[0] == tag[-1] == '"':
            return tag[1:-1]
    return None


@require_GET
def board_data(request: HttpRequest) -> HttpResponse:
    """304 when the cursor the page holds is still current; else what changed since it, or
    the whole snapshot (`selectors.board_update`)."""
    if not request.user.is_authenticated:
        return JsonResponse(error_body("not_authenticated", "Sign in again."), status=401)
    if not _is_desk(request.user):
        return JsonResponse(error_body("permission_denied", "Desk roles only."), status=403)
    held = _held_cursor(request)
    update = selectors.board_update(held)
    if update is None:
        response = HttpResponseNotModified()
        response["ETag"] = f'"{held}"'
        return _private(response)
    response = JsonResponse(update)
    response["ETag"] = f'"{update["version"]}"'
    return _private(response)
