"""The responders' field app at /field/: server-rendered pages for tablets and phones.

The pages work without JavaScript (forms post here and call the same services as the API);
static/field/field.js enhances them: drafts kept in IndexedDB, submissions queued with their
client UUIDs and sent through /api/v1/field/ when the connection allows, calls refreshed in
place. The service worker (/field/sw.js) keeps the app shell and a directory snapshot for dead
zones. Nothing personal goes in a URL: residents and calls are addressed by public_id only.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from acs.errors import DomainError, NotFound
from acs.maps import distance_label, map_config
from acs.roles import ACS_ROLES, Role, has_any_role
from cases import selectors as case_selectors
from cases import services as case_services
from cases.lifecycle import EVENT_TYPES
from cases.models import (
    CallStatus,
    ConsentMethod,
    ConsentScope,
    Disposition,
    FollowUpKind,
    HousingStatus,
    Need,
    RiskLevel,
    ServiceOnScene,
)
from resources.models import ReferralStatus
from resources.selectors import (
    NEED_TERMS,
    Point,
    need_terms,
    page_rows,
    service_needs,
    service_search,
)
from responders.field import modules as field_modules
from responders.field import selectors
from responders.field.api.forms import FormVersionOutput
from responders.field.api.serializers import EncounterCreateInput
from responders.services import user_language_set

# The unit moves a responder makes from the call screen, in the order of a call.
CALL_MOVES = (
    ("en_route", gettext_lazy("En route")),
    ("on_scene", gettext_lazy("On scene")),
    ("transporting", gettext_lazy("Transporting")),
    ("cleared", gettext_lazy("Clear")),
)
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
DIRECTORY_SNAPSHOT_LIMIT = 500
# The follow-ups a responder may ask for from the encounter (the desk decides the rest).
FIELD_FOLLOW_UP_KINDS = (FollowUpKind.PHONE, FollowUpKind.TEXT, FollowUpKind.IN_PERSON)


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


def _choices(enum) -> list[tuple[str, str]]:
    # The enums' labels are lazy translations: they render in the user's language.
    return list(enum.choices)


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


@field_page
@require_POST
def unit_status(request: HttpRequest, call_sign: str) -> HttpResponse:
    """In or out of service, or a move on a call (the forms' no-script path; the script sends
    the same through the API with the same event id)."""
    unit = selectors.field_units(request.user).filter(call_sign=call_sign.upper()).first()
    if unit is None:
        raise Http404
    status = request.POST.get("status", "")
    call_id = request.POST.get("call") or None
    try:
        event_id = uuid.UUID(request.POST.get("event_id") or str(uuid.uuid4()))
        if call_id is None:
            case_services.unit_service_status_set(
                actor=request.user, unit=unit, status=status, at=timezone.now()
            )
            return redirect("field:home")
        call = selectors.field_call_get(request.user, uuid.UUID(call_id))
        if status not in EVENT_TYPES:
            raise DomainError(_("That is not a status."), code="invalid")
        case_services.call_event_record(
            incident_number=call.incident_number,
            event_id=event_id,
            type=status,
            at=timezone.now(),
            unit_call_sign=unit.call_sign,
            render=lambda c: {},  # nothing kept: the page shows the call as it is now
            actor=request.user,
            request=request,
        )
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", None) or _("That change was refused."))
        return redirect("field:home")
    if status == "cleared":
        # A cleared call has left the unit's current calls: back to the list, saying so.
        messages.success(
            request,
            _("Call %(number)s cleared. It has left your current calls.")
            % {"number": call.incident_number},
        )
        return redirect("field:calls")
    return redirect("field:call", public_id=call.public_id)


@field_page
@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    context = _shell_context(request)
    context["calls"] = list(selectors.field_calls(request.user)[:50])
    context["refresh_seconds"] = settings.FIELD_CALLS_REFRESH_SECONDS
    return render(request, "responders/field/calls.html", context)


@field_page
@require_GET
def call_rows(request: HttpRequest) -> HttpResponse:
    """The list's rows alone: the calls page swaps them in every few seconds."""
    rows = list(selectors.field_calls(request.user)[:50])
    response = render(
        request,
        "responders/field/_call_rows.html",
        {"calls": rows, "rendered_at": timezone.localtime()},
    )
    response["Cache-Control"] = "no-store"
    return response


@field_page
@require_GET
def call_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        call = selectors.field_call_get(request.user, public_id)
    except NotFound as exc:
        if selectors.field_call_cleared(request.user, public_id):
            # A call the unit has cleared (a link kept, a reload): say so, not "not found".
            messages.info(request, _("That call is cleared. It has left your current calls."))
            return redirect("field:calls")
        raise Http404 from exc
    context = _shell_context(request)
    mine = [a for a in call.assignments.all() if a.unit in context["units"]]
    context.update(
        call=call,
        my_assignments=mine,
        place=selectors.call_place_history(request.user, call, request=request),
        moves=CALL_MOVES,
        # The line under the title follows a tap at once, in the call's own words.
        call_status_labels={value: str(label) for value, label in CallStatus.choices},
        event_id=uuid.uuid4(),
    )
    return render(request, "responders/field/call.html", context)


def _encounter_form_context(request: HttpRequest) -> dict:
    context = _shell_context(request)
    context.update(
        field_modules=field_modules.ENCOUNTER_MODULES,
        needs=_choices(Need),
        services_on_scene=_choices(ServiceOnScene),
        dispositions=_choices(Disposition),
        risk_levels=_choices(RiskLevel),
        consent_scopes=_choices(ConsentScope),
        consent_methods=_choices(ConsentMethod),
        living_situations=_choices(HousingStatus),
        follow_up_kinds=[(k.value, k.label) for k in FIELD_FOLLOW_UP_KINDS],
        referral_statuses=_choices(ReferralStatus),
        client_id=uuid.uuid4(),
        field_forms=_field_forms(),
    )
    return context


def _field_forms() -> str:
    """The forms in use (no personal data) as JSON, in the page so that they open offline (in
    an attribute, escaped by the template: the Content-Security-Policy allows no inline
    script, not even a JSON one)."""
    import json

    from cases.screening.selectors import published_forms

    return json.dumps(FormVersionOutput(published_forms(), many=True).data)


@field_page
@require_http_methods(["GET", "POST"])
def encounter_new(request: HttpRequest) -> HttpResponse:
    """The encounter form. The page is the same for every call (the call comes in the query
    string, read by the script), so the service worker can keep one copy for dead zones.
    Without a script the form posts here and is submitted at once. Encounters are logged by
    responders only (as in the API): other roles are refused before the form."""
    if not request.user.has_role(Role.RESPONDER):
        raise PermissionDenied
    if request.method == "GET":
        return render(request, "responders/field/encounter.html", _encounter_form_context(request))
    data = EncounterCreateInput(data=_form_payload(request))
    if not data.is_valid():
        context = _encounter_form_context(request)
        context["errors"] = data.errors
        return render(request, "responders/field/encounter.html", context, status=400)
    values = dict(data.validated_data)
    try:
        unit, call = case_selectors.encounter_unit_and_call(
            request.user, call_sign=values.pop("unit"), call_id=values.pop("call")
        )
        encounter, _created = case_services.encounter_create(
            actor=request.user,
            client_id=values.pop("client_id"),
            unit=unit,
            call=call,
            resident_ids=values.pop("residents", []),
            data=values,
            request=request,
        )
        case_services.encounter_submit(actor=request.user, encounter=encounter, request=request)
    except DomainError as exc:
        context = _encounter_form_context(request)
        context["errors"] = {"__all__": [exc.message], **(exc.fields or {})}
        return render(request, "responders/field/encounter.html", context, status=400)
    messages.success(request, _("Encounter submitted."))
    return redirect("field:home")


def _form_payload(request: HttpRequest) -> dict:
    post = request.POST
    payload: dict = {
        key: post.get(key)
        for key in (
            "client_id",
            "unit",
            "occurred_at",
            "narrative",
            "risk_level",
            "disposition",
            "transport_destination",
            "anonymous_people",
        )
        if post.get(key) not in (None, "")
    }
    if post.get("call"):
        payload["call"] = post["call"]
    payload["needs"] = post.getlist("needs")
    payload["services_on_scene"] = post.getlist("services_on_scene")
    payload["police_requested"] = post.get("police_requested") == "on"
    payload["ems_requested"] = post.get("ems_requested") == "on"
    payload["involuntary_hold"] = post.get("involuntary_hold") == "on"
    payload["narrative_part2"] = post.get("narrative_part2") == "on"
    if payload.get("occurred_at"):
        # datetime-local has no zone: it is the department's local time.
        payload["occurred_at"] = _local_to_iso(payload["occurred_at"])
    if "anonymous_people" in payload:
        # The API takes a JSON number, as its schema says; a form sends text.
        with contextlib.suppress(ValueError):
            payload["anonymous_people"] = int(payload["anonymous_people"])
    return payload


def _local_to_iso(value: str) -> str:
    from datetime import datetime

    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value
    if naive.tzinfo is None:
        naive = timezone.make_aware(naive)
    return naive.isoformat()


@field_page
@require_GET
def resident_profile(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    try:
        profile = selectors.field_resident_profile(request.user, public_id, request=request)
    except NotFound as exc:
        raise Http404 from exc
    context = _shell_context(request)
    context.update(
        profile=profile,
        consents=[(c, c.holds()) for c in profile.consents],
    )
    # A resident's record is not kept by the browser or the service worker.
    return _private(render(request, "responders/field/resident.html", context))


def _private(response: HttpResponse) -> HttpResponse:
    # What was said about people is not kept by the browser or the service worker.
    response["Cache-Control"] = "no-store"
    return response


@field_page
@require_GET
def encounters(request: HttpRequest) -> HttpResponse:
    """My encounters and my units' of the last two weeks: to look one up, or add a note."""
    context = _shell_context(request)
    context["encounters"] = selectors.field_recent_encounters(request.user)
    context["days"] = selectors.RECENT_ENCOUNTER_DAYS
    return _private(render(request, "responders/field/encounters.html", context))


def _encounter_page(request, public_id, *, form_errors=None, text="", status=200):
    try:
        shown = selectors.field_encounter(request.user, public_id, request=request)
    except NotFound as exc:
        raise Http404 from exc
    context = _shell_context(request)
    context.update(shown=shown, errors=form_errors or {}, addendum_text=text)
    from cases.screening.selectors import encounter_form_responses

    context["form_responses"] = encounter_form_responses(shown.encounter)
    page = render(request, "responders/field/encounter_detail.html", context, status=status)
    return _private(page)


@field_page
@require_GET
def encounter_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    return _encounter_page(request, public_id)


@field_page
@require_POST
def encounter_addendum(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Add a note to a submitted encounter (an addendum, for a supervisor to approve)."""
    try:
        encounter = case_selectors.encounter_get_for_user(request.user, public_id)
    except NotFound as exc:
        raise Http404 from exc
    text = request.POST.get("text", "")[:20000]
    try:
        case_services.addendum_add(
            actor=request.user, encounter=encounter, text=text, request=request
        )
    except DomainError as exc:
        errors = {"__all__": [exc.message], **(exc.fields or {})}
        return _encounter_page(request, public_id, form_errors=errors, text=text, status=400)
    messages.success(request, _("Note added. A supervisor of your team approves it."))
    return redirect("field:encounter", public_id=public_id)


def _search_params(request: HttpRequest) -> dict:
    params = {
        "text": request.GET.get("q", "")[:200],
        "open_now": request.GET.get("open_now") == "1",
        "has_capacity": request.GET.get("has_capacity") == "1",
        "language": request.GET.get("language", "")[:8],
        "accepts_referrals": True if request.GET.get("referrals") == "1" else None,
    }
    try:
        lat, lon = float(request.GET["lat"]), float(request.GET["lon"])
        params["near"] = Point(lat, lon)
    except (KeyError, ValueError, TypeError, DomainError):
        pass
    return params


@field_page
@require_GET
def resources(request: HttpRequest) -> HttpResponse:
    """Resources nearby: open now, places free, languages, accepts referrals; nearest first
    when the tablet shares its position (it stays on the tablet's request, never stored)."""
    context = _shell_context(request)
    params = _search_params(request)
    try:
        results = page_rows(service_search(**params), 0, 50)
    except DomainError as exc:
        messages.error(request, exc.message)
        results = []
    for sal in results:
        sal.distance_label = distance_label(getattr(sal, "distance_km", None))
    context.update(results=results, params=params, query=request.GET)
    return render(request, "responders/field/resources.html", context)


@field_page
@require_GET
def directory_snapshot(request: HttpRequest) -> JsonResponse:
    """Services that accept referrals, as the encounter form's referral picker and the offline
    resources screen need them: each with its place, places free (a full place is listed, the
    responder decides) and the needs it meets. No personal data: the service worker keeps the
    unfiltered answer for dead zones, and the picker filters that copy itself offline.

    Online, the picker asks for what it shows: `need` (repeated; services meeting any of the
    needs ticked) and `q` (typed; the directory's typo-tolerant search). Both go through
    service_search, as every search of the directory does."""
    now = timezone.now()
    text = request.GET.get("q", "").strip()[:100]
    needs = [n for n in request.GET.getlist("need") if n in Need.values][:20]
    rows = service_search(text=text, taxonomy_terms=need_terms(needs), accepts_referrals=True)
    services = []
    for sal in rows[:DIRECTORY_SNAPSHOT_LIMIT]:
        capacity = getattr(sal, "capacity", None)
        address = next(iter(sal.location.addresses.all()), None)
        services.append(
            {
                "service": str(sal.service.public_id),
                "service_at_location": str(sal.public_id),
                "name": sal.service.name,
                "organization": sal.service.organization.name,
                "organization_id": str(sal.service.organization.public_id),
                "location": sal.location.name,
                "address": address.address_1 if address else "",
                "city": address.city if address else "",
                "latitude": float(sal.location.latitude) if sal.location.latitude else None,
                "longitude": float(sal.location.longitude) if sal.location.longitude else None,
                "languages": [lang.code for lang in sal.service.languages.all()],
                "needs": service_needs(sal),
                "capacity": (
                    {
                        "available": capacity.available,
                        "total": capacity.total,
                        "unit": capacity.unit,
                        "as_of": capacity.updated_at.isoformat(),
                        "stale": capacity.is_stale,
                    }
                    if capacity
                    else None
                ),
            }
        )
    return JsonResponse(
        {
            "as_of": now.isoformat(),
            "filtered": bool(text or needs),
            # The needs the directory's terms can meet (NEED_TERMS): the picker filters its
            # offline copy by these only, as the server does.
            "matchable_needs": list(NEED_TERMS),
            "services": services,
        }
    )


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
