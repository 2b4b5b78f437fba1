"""The field app's calls: the unit's current calls, a call's page, and the status a unit sets
from them (in or out of service, or a move on a call)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from acs.errors import DomainError, NotFound
from cases import services as case_services
from cases.lifecycle import EVENT_TYPES
from cases.models import CallStatus
from responders.field import selectors
from responders.field.views import _shell_context, field_page

# The unit moves a responder makes from the call screen, in the order of a call.
CALL_MOVES = (
    ("en_route", gettext_lazy("En route")),
    ("on_scene", gettext_lazy("On scene")),
    ("transporting", gettext_lazy("Transporting")),
    ("cleared", gettext_lazy("Clear")),
)


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
