"""The operations board's page and its conditional update (docs/architecture.md, "The
operations board": why conditional polling, not server-sent events).

The page carries its first snapshot (json_script, not executed: no inline script under the
CSP) and static/board/board.js asks `/board/data` every BOARD_POLL_SECONDS with the ETag it
holds: nothing changed is a 304 after one statement; a change is the whole snapshot, in a
constant number of statements.
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
from acs.roles import STAFF_ROLES
from cases.board import selectors

# Desk roles: case managers, supervisors (and dispatch liaisons holding either), admins.
BOARD_ROLES = tuple(STAFF_ROLES)


def _is_desk(user) -> bool:
    return bool(user.is_authenticated and any(user.has_role(r) for r in BOARD_ROLES))


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
        {"snapshot": snapshot, "config": config},
    )
    response["ETag"] = f'"{snapshot["version"]}"'
    return _private(response)


@require_GET
def board_data(request: HttpRequest) -> HttpResponse:
    """The snapshot, or 304 when the ETag the page holds is still current."""
    if not request.user.is_authenticated:
        return JsonResponse(error_body("not_authenticated", "Sign in again."), status=401)
    if not _is_desk(request.user):
        return JsonResponse(error_body("permission_denied", "Desk roles only."), status=403)
    version = selectors.board_version()
    etag = f'"{version}"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return _private(response)
    snapshot = selectors.board_snapshot(version=version)
    response = JsonResponse(snapshot)
    response["ETag"] = f'"{snapshot["version"]}"'
    return _private(response)
