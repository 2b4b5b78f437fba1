"""The responders' field app at /field/: server-rendered pages for tablets and phones.

The pages work without JavaScript (forms post here and call the same services as the API);
static/field/field.js enhances them: drafts kept in IndexedDB, submissions queued with their
client UUIDs and sent through /api/v1/field/ when the connection allows, calls refreshed in
place. The service worker (/field/sw.js) keeps the app shell and a directory snapshot for dead
zones. Nothing personal goes in a URL: residents and calls are addressed by public_id only.

This module is the app shell: who may use it (`field_page`), what every page shows, home, the
interface language, signing out, the offline page, the service worker and the manifest. The
pages by concern: calls (call_views.py), encounters and residents (encounter_views.py), the
directory (directory_views.py), safety plans (screening_views.py).
"""

from __future__ import annotations

import hashlib
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from acs.errors import DomainError
from acs.maps import map_config
from acs.roles import ACS_ROLES, Role, has_any_role
from responders.field import modules as field_modules
from responders.field import selectors
from responders.services import user_language_set

# Static files of the app shell, cached by the service worker on install.
# The PNG icons are drawn from icon.svg by `manage.py field_icons` (committed, no image library).
FIELD_ICONS = (
    ("field/icon-192.png", 192, "any"),
    ("field/icon-512.png", 512, "any"),
    ("field/icon-maskable-192.png", 192, "maskable"),
    ("field/icon-maskable-512.png", 512, "maskable"),
)
# field.js is the entry module; every module it imports (static/field/app/) is precached too.
FIELD_MODULES = tuple(
    f"field/app/{path.name}"
    for path in sorted((Path(settings.BASE_DIR) / "static" / "field" / "app").glob("*.js"))
)
SHELL_STATIC = (
    "field/field.css",
    "field/field.js",
    *FIELD_MODULES,
    "field/icon.svg",
    *(name for name, _size, _purpose in FIELD_ICONS),
)
# Pages of the app shell, cached on install and refreshed on every visit.
SHELL_PAGES = (
    "field:home",
    "field:calls",
    "field:encounter_new",
    "field:resources",
    "field:offline",
)


def field_page(view):
    """Signed-in staff with a field role; others are refused (anonymous: to sign-in)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_any_role(user, ACS_ROLES):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _idle_seconds() -> int:
    return int(getattr(settings, "SESSION_IDLE_TIMEOUT", 30 * 60))


def _shell_context(request: HttpRequest) -> dict:
    return {
        "can_log": request.user.has_role(Role.RESPONDER),
        "units": list(selectors.field_units(request.user)),
        "rendered_at": timezone.localtime(),
        "languages": settings.LANGUAGES,
        "idle_seconds": _idle_seconds(),
        "map_config": map_config(),
        # preloaded: fetched at once, not import by import (the encounter form adds its own)
        "field_modules": field_modules.SHELL_MODULES,
    }


@field_page
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Shift start: my units and their status, where to go next, and the encounters left
    unfinished on the server (each opens in the form)."""
    context = _shell_context(request)
    if context["can_log"]:
        context["server_drafts"] = selectors.field_server_drafts(request.user)
    return render(request, "responders/field/home.html", context)


def _private(response: HttpResponse) -> HttpResponse:
    # What was said about people is not kept by the browser or the service worker.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out and tell the browser to drop everything this site stored: the service worker's
    caches, IndexedDB drafts and cookies (a shared tablet keeps no one's data)."""
    logout(request)
    response = redirect("account_login")
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@field_page
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """The interface language, kept on the user so every tablet they sign in to follows it."""
    code = request.POST.get("language", "")
    try:
        user_language_set(user=request.user, language=code)
    except DomainError:
        messages.error(request, _("That language is not available."))
        return redirect("field:home")
    translation.activate(code)
    return redirect(request.POST.get("next") or "field:home")


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the service worker shows for a page it never cached while there is no network."""
    return render(request, "responders/field/offline.html", {"idle_seconds": _idle_seconds()})


def _shell_version() -> str:
    """Changes whenever a shell file changes, so tablets pick up a new release."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for name in (*SHELL_STATIC, "field/sw.js"):
        digest.update((root / "static" / name).read_bytes())
    for name in ("base", "home", "calls", "encounter", "resources", "offline"):
        digest.update((root / "templates" / "responders" / "field" / f"{name}.html").read_bytes())
    return digest.hexdigest()[:12]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/field/sw.js, served from /field/ so that its scope is the app. The list of what to
    cache and the version are written into the script's first line."""
    import json

    config = {
        "version": _shell_version(),
        "static": [static(name) for name in SHELL_STATIC],
        "pages": [reverse(name) for name in SHELL_PAGES],
        "directory": reverse("field:directory"),
        "offline": reverse("field:offline"),
        "encounterForm": reverse("field:encounter_new"),
    }
    body = (Path(settings.BASE_DIR) / "static" / "field" / "sw.js").read_text()
    response = HttpResponse(
        f"self.ACS_FIELD = {json.dumps(config)};\n{body}",
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    home_url = reverse("field:home")
    return JsonResponse(
        {
            "name": "ACS field app",
            "short_name": "ACS field",
            "start_url": home_url,
            "scope": home_url,
            "display": "standalone",
            "orientation": "any",
            "background_color": "#ffffff",
            "theme_color": "#0b3d91",
            "icons": [
                {"src": static("field/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
                *(
                    {
                        "src": static(name),
                        "sizes": f"{size}x{size}",
                        "type": "image/png",
                        "purpose": purpose,
                    }
                    for name, size, purpose in FIELD_ICONS
                ),
            ],
        },
        content_type="application/manifest+json",
    )
