"""The field app's encounters: the encounter form (its no-script post), the list of the
responder's encounters, an encounter's page and its notes, and a resident's profile."""

from __future__ import annotations

import contextlib
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from acs.errors import DomainError, NotFound
from acs.roles import Role
from cases import selectors as case_selectors
from cases import services as case_services
from cases.models import (
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
from responders.field import modules as field_modules
from responders.field import selectors
from responders.field.api.forms import FormVersionOutput
from responders.field.api.serializers import EncounterCreateInput
from responders.field.views import _private, _shell_context, field_page

# The follow-ups a responder may ask for from the encounter (the desk decides the rest).
FIELD_FOLLOW_UP_KINDS = (FollowUpKind.PHONE, FollowUpKind.TEXT, FollowUpKind.IN_PERSON)


def _choices(enum) -> list[tuple[str, str]]:
    # The enums' labels are lazy translations: they render in the user's language.
    return list(enum.choices)


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
    try:
        encounter, _created = data.create_encounter(request)
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
