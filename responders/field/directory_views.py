"""The field app's directory: the resources screen (the directory's one search, nearest first
when the tablet shares its position) and the snapshot the service worker keeps for dead zones."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from acs.errors import DomainError
from acs.maps import distance_label
from cases.models import Need
from resources.models import ServiceAtLocation
from resources.selectors import (
    NEED_TERMS,
    Point,
    left_out_of_search,
    left_out_text,
    listed_brief,
    listed_with,
    need_terms,
    page_rows,
    service_needs,
    service_search,
)
from responders.field.views import _shell_context, field_page

DIRECTORY_SNAPSHOT_LIMIT = 500


def place_line(sal: ServiceAtLocation) -> dict:
    """A place as a line of the directory: what the snapshot sends (with its needs) and the
    resources screen shows, in plain values. The screen's template reads a dict's keys at the
    first try and a model's attributes only after a failed key lookup at each step: 50 lines
    10.8 -> 8.8 ms p50 from these, the lines' making included (docs/benchmarks.md)."""
    capacity = getattr(sal, "capacity", None)
    return {
        "service": str(sal.service.public_id),
        "service_at_location": str(sal.public_id),
        "name": sal.service.name,
        "organization": sal.service.organization.name,
        "organization_id": str(sal.service.organization.public_id),
        "location": sal.location.name,
        "address": sal.street or "",
        "city": sal.city or "",
        # None only without a point: 0 is a coordinate (the template's test before place_line).
        "latitude": None if sal.location.latitude is None else float(sal.location.latitude),
        "longitude": None if sal.location.longitude is None else float(sal.location.longitude),
        "languages": sal.language_codes,
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
    narrowed = bool(params["open_now"] or params["has_capacity"] or params["language"])
    try:
        # The screen shows a line of each place: its address and languages, not its needs.
        searched = listed_brief(service_search(**params), languages=True)
        results = page_rows(searched, 0, 50)
        # Nothing found for words that name services, and no filter but the words (and
        # referrals) to blame: say which services they meant and why they are not listed
        # (closed, not yet placed...), rather than only "Nothing matches". With open now,
        # places free or a language set, "Try fewer filters" is the answer.
        left_out = (
            left_out_text(
                left_out_of_search(
                    params["text"], accepts_referrals=bool(params["accepts_referrals"])
                )
            )
            if params["text"].strip() and not results and not narrowed
            else ""
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        results, left_out = [], ""
    lines = [
        {
            **place_line(sal),
            "accepts_referrals": sal.service.accepts_referrals,
            "distance_label": distance_label(getattr(sal, "distance_km", None)),
        }
        for sal in results
    ]
    context.update(
        results=lines,
        params=params,
        query=request.GET,
        left_out=left_out,
        filtered=narrowed or bool(params["accepts_referrals"]),
    )
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
    service_search, as every search of the directory does. When words find nothing,
    `not_offered` names the services they meant and why none is offered (closed, taking no
    referrals, not yet placed)."""
    now = timezone.now()
    text = request.GET.get("q", "").strip()[:100]
    needs = [n for n in request.GET.getlist("need") if n in Need.values][:20]
    # A line of each place (listed_brief) and the needs it meets (service_needs's terms).
    rows = listed_with(
        listed_brief(
            service_search(text=text, taxonomy_terms=need_terms(needs), accepts_referrals=True),
            languages=True,
        ),
        needs=True,
    )
    services = [
        {**place_line(sal), "needs": service_needs(sal)} for sal in rows[:DIRECTORY_SNAPSHOT_LIMIT]
    ]
    answer: dict[str, object] = {
        "as_of": now.isoformat(),
        "filtered": bool(text or needs),
        # The needs the directory's terms can meet (NEED_TERMS): the picker filters its
        # offline copy by these only, as the server does.
        "matchable_needs": list(NEED_TERMS),
        "services": services,
    }
    left_out = left_out_of_search(text, accepts_referrals=True) if text and not services else []
    if left_out:
        answer["not_offered"] = [{"name": name, "why": why} for name, why in left_out]
    return JsonResponse(answer)
