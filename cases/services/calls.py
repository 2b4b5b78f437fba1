"""Writes on calls. Every write of CAD intake goes through these functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from acs.audit import audit_record
from acs.batches import in_batches
from acs.errors import Conflict, NotFound
from acs.models import AuditAction
from cases import lifecycle
from cases.models import (
    ASSIGNMENT_TIME_FIELDS,
    STEP_TIME_FIELDS,
    Call,
    CallEvent,
    UnitAssignment,
)
from responders.models import PositionSource, Unit
from responders.positions import unit_position_record

if TYPE_CHECKING:
    from django.http import HttpRequest

    from responders.models import User

FORGET_BATCH = 1000
CALL_FIELDS = (
    "call_type",
    "priority",
    "source",
    "received_at",
    "address",
    "latitude",
    "longitude",
    "council_district",
    "notes",
    "acs_eligible",
    "routed_to",
)


@dataclass(frozen=True)
class CallInput:
    call_type: str
    priority: int
    source: str
    received_at: datetime
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    council_district: str = ""
    notes: str = ""
    # Coverage (issue 21). PUT replaces CAD's call data: omitted means "CAD did not say".
    acs_eligible: bool | None = None
    routed_to: str = ""


def call_upsert(
    *,
    incident_number: str,
    data: CallInput,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> tuple[Call, bool]:
    """Create the call CAD names, or bring it up to date; returns (call, created).

    The incident number is the idempotency key: the same request twice changes nothing (not
    even `updated_at`). CAD's call data never touches the status, which only events move.
    """
    values = {name: getattr(data, name) for name in CALL_FIELDS}
    # Spaces collapsed, so that the same place matches itself across calls (the field app's
    # "known at this address", on the UPPER(address) index); case is the lookup's.
    values["address"] = " ".join(values["address"].split())
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(incident_number=incident_number).first()
        if call is None:
            try:
                with transaction.atomic():
                    call = Call.objects.create(
                        incident_number=incident_number,
                        status=Call.Status.PENDING,
                        status_changed_at=data.received_at,
                        **values,
                    )
                audit_record(actor=actor, action=AuditAction.CREATE, target=call, request=request)
                return call, True
            except IntegrityError:
                # A simultaneous PUT created it first: update that one instead.
                call = Call.objects.select_for_update().get(incident_number=incident_number)
        changed = [name for name, value in values.items() if getattr(call, name) != value]
        if changed:
            for name in changed:
                setattr(call, name, values[name])
            call.save(update_fields=[*changed, "updated_at"])
            audit_record(
                actor=actor,
                action=AuditAction.CHANGE,
                target=call,
                request=request,
                detail={"fields": sorted(changed)},
            )
        return call, False


def _unit_for_call_sign(call_sign: str) -> Unit:
    """CAD is the source of truth for units: an unknown call sign becomes a unit to confirm."""
    unit, _ = Unit.objects.get_or_create(call_sign=call_sign, defaults={"needs_confirmation": True})
    return unit


def _event_payload(event: CallEvent) -> dict[str, Any]:
    return {
        "type": event.type,
        "unit": event.unit.call_sign if event.unit is not None else "",
        "at": event.at,
    }


def call_event_record(
    *,
    incident_number: str,
    event_id: uuid.UUID,
    type: str,
    at: datetime,
    unit_call_sign: str = "",
    position: tuple[Decimal, Decimal] | None = None,
    render: Any,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> tuple[dict[str, Any], bool]:
    """Apply one CAD event to a call; returns (result, applied).

    `position` (latitude, longitude), optional, is where the unit was at `at`: kept with the
    event (responders/positions.py) when the event is applied, not on a resend.

    Rules: the sender's `event_id` is the idempotency key (a resend returns the first result
    and `applied=False`; the same id with a different body is a conflict). The first result
    (the call with its address and notes) is kept for IDEMPOTENCY_TTL only: a later resend gets
    the call as it is now (`call_event_results_forget` blanks older ones). Events are placed
    by their `at` time: the call's state is the replay of all its events in time order, and an
    event that would make that sequence illegal is refused with `Conflict`, whose code names
    the state the call was in at that time. `render(call)` shapes the stored result.
    """
    wanted = {"type": type, "unit": unit_call_sign, "at": at}
    with transaction.atomic():
        # Lock order: the call, then units. One event per call at a time.
        call = Call.objects.select_for_update().filter(incident_number=incident_number).first()
        if call is None:
            raise NotFound(
                f"No call {incident_number}: send PUT /api/v1/cad/calls/{incident_number} first.",
                code="call_not_found",
            )
        previous = (
            CallEvent.objects.select_related("unit", "call").filter(event_id=event_id).first()
        )
        if previous is not None:
            if previous.call_id != call.id or _event_payload(previous) != wanted:
                raise Conflict(
                    "This event_id was already used for a different event.",
                    code="event_id_reused",
                )
            if previous.result and previous.created_at > _results_cutoff():
                return previous.result, False
            return render(call), False

        unit = _unit_for_call_sign(unit_call_sign) if unit_call_sign else None
        history = _live_history(call)
        events = _as_events(history)
        new = lifecycle.Event(type=type, at=at, unit=unit_call_sign, seq=len(history))
        state = _replay_or_conflict([*events, new], type)

        _apply_state(call, state, at)
        event = CallEvent.objects.create(call=call, event_id=event_id, type=type, unit=unit, at=at)
        # A call-wide clear or cancel moves every unit on the call.
        moved = [unit] if unit is not None else list(Unit.objects.filter(assignments__call=call))
        for each in moved:
            replayed = state.assignments.get(each.call_sign)
            if replayed is not None and replayed.status:
                _update_unit_status(each, replayed.status, at)
        if position is not None and unit is not None:
            unit_position_record(
                unit=unit,
                latitude=position[0],
                longitude=position[1],
                at=at,
                source=PositionSource.CAD,
            )
        event.result = render(call)
        event.save(update_fields=["result", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=call,
            request=request,
            detail={"event": str(event.event_id), "type": type, "status": call.status},
        )
        return event.result, True


def _live_history(call: Call) -> list[CallEvent]:
    """The call's events that count (an undone tap stays in the history but not in the
    state), in time order."""
    return list(
        call.events.filter(undone_at__isnull=True).select_related("unit").order_by("at", "id")
    )


def _as_events(history: list[CallEvent]) -> list[lifecycle.Event]:
    return [
        lifecycle.Event(
            type=e.type, at=e.at, unit=e.unit.call_sign if e.unit is not None else "", seq=i
        )
        for i, e in enumerate(history)
    ]


def _replay_or_conflict(events: list[lifecycle.Event], type: str) -> lifecycle.CallState:
    try:
        return lifecycle.replay(events)
    except lifecycle.IllegalMove as exc:
        raise Conflict(
            f"{type} is not allowed: the call is {exc.state} at that time ({exc.reason}).",
            code=f"call_is_{exc.state}",
        ) from exc


# The moves a responder may take back from the tablet, and for how long after the tap (the
# tablet offers Undo for 10 seconds; the margin covers a slow hand and a slow line; the times
# compared are both the tablet's, so a late sync after a dead zone is still recognised).
UNDOABLE_MOVES = frozenset({"en_route", "on_scene", "transporting", "cleared"})
UNDO_WINDOW_SECONDS = 60


def call_event_undo(
    *,
    call: Call,
    unit: Unit,
    undoes: uuid.UUID,
    event_id: uuid.UUID,
    status: str,
    at: datetime,
    render: Any,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> tuple[dict[str, Any], bool]:
    """Take back a unit's mistaken move on a call (the tablet's Undo); returns (result, applied).

    The move (`undoes`, its event_id) must be the unit's own, the unit's latest live move on
    the call, and taken back within UNDO_WINDOW_SECONDS of its tap. It is not deleted: it is
    marked undone (when, and by which undo event_id), the call and the unit are replayed
    without it, and the undo is audited. `status` is what the tablet shows after the undo:
    if the replay disagrees (something else moved the unit meanwhile) the undo is refused
    with `Conflict`. The undo's event_id is its idempotency key.
    """
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call.pk)
        again = CallEvent.objects.filter(undo_event_id=event_id).first()
        if again is not None:
            if again.call_id != call.id or again.event_id != undoes:
                raise Conflict(
                    "This event_id was already used for a different event.",
                    code="event_id_reused",
                )
            return render(call), False
        history = _live_history(call)
        target = next((e for e in history if e.event_id == undoes), None)
        if target is None or target.unit_id != unit.pk or target.type not in UNDOABLE_MOVES:
            raise NotFound("No such move of your unit on this call.", code="event_not_found")
        later = [
            e for e in history if e.unit_id == unit.pk and (e.at, e.id) > (target.at, target.id)
        ]
        if later:
            raise Conflict("Only the unit's latest move can be undone.", code="event_not_latest")
        if not timedelta(0) <= at - target.at <= timedelta(seconds=UNDO_WINDOW_SECONDS):
            raise Conflict("Too late to undo this move.", code="undo_too_late")
        state = _replay_or_conflict(_as_events([e for e in history if e is not target]), "undo")
        restored = state.assignments.get(unit.call_sign)
        if restored is None or restored.status != status:
            now = restored.status if restored is not None and restored.status else "not_on_call"
            raise Conflict(
                f"The undo would leave the unit {now}, not {status}.", code=f"unit_would_be_{now}"
            )
        target.undone_at = timezone.now()
        target.undo_event_id = event_id
        target.save(update_fields=["undone_at", "undo_event_id", "updated_at"])
        _apply_state(call, state, at)
        # The unit shows the status it is back in, even though the tap was the newer change.
        Unit.objects.filter(pk=unit.pk).update(
            status=_UNIT_STATUS_FOR[restored.status],
            status_changed_at=at,
            updated_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=call,
            request=request,
            detail={
                "event": str(event_id),
                "undoes": str(undoes),
                "type": "undo",
                "undone_type": target.type,
                "status": call.status,
            },
        )
        return render(call), True


def _results_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - settings.IDEMPOTENCY_TTL


def call_event_results_expired(*, now: datetime | None = None) -> QuerySet[CallEvent]:
    """Events whose kept first result (a copy of the call) is past IDEMPOTENCY_TTL."""
    return CallEvent.objects.filter(created_at__lte=_results_cutoff(now)).filter(~Q(result={}))


def call_event_results_forget(*, now: datetime | None = None, batch: int = FORGET_BATCH) -> int:
    """Blank the first results kept on call events past IDEMPOTENCY_TTL, batch after batch;
    returns how many. The events stay (they are the call's history); a resend after this
    answers with the call as it is now."""
    now = now or timezone.now()
    return in_batches(
        call_event_results_expired(now=now),
        order_by=("created_at", "id"),
        batch=batch,
        apply=lambda rows: rows.update(result={}, updated_at=now),
    )


def _apply_state(call: Call, state: lifecycle.CallState, at: datetime) -> None:
    if call.status != state.status:
        call.status = state.status
        call.status_changed_at = at
    for step in STEP_TIME_FIELDS:
        setattr(call, f"{step}_at", state.times.get(step))
    call.save()

    units = {u.call_sign: u for u in Unit.objects.filter(call_sign__in=list(state.assignments))}
    existing = {a.unit_id: a for a in call.assignments.all()}
    for call_sign, replayed in state.assignments.items():
        if not replayed.status:
            continue
        unit = units[call_sign]
        assignment = existing.get(unit.id) or UnitAssignment(call=call, unit=unit)
        assignment.status = replayed.status
        for step in ASSIGNMENT_TIME_FIELDS:
            setattr(assignment, f"{step}_at", replayed.times.get(step))
        assignment.save()


_UNIT_STATUS_FOR = {
    "dispatched": Unit.Status.DISPATCHED,
    "en_route": Unit.Status.EN_ROUTE,
    "on_scene": Unit.Status.ON_SCENE,
    "transporting": Unit.Status.TRANSPORTING,
    "cleared": Unit.Status.AVAILABLE,
    "cancelled": Unit.Status.AVAILABLE,
}


def _update_unit_status(unit: Unit, assignment_status: str, at: datetime) -> None:
    """A unit shows its newest known status; an older event arriving late does not undo it."""
    Unit.objects.filter(pk=unit.pk).exclude(status_changed_at__gt=at).update(
        status=_UNIT_STATUS_FOR[assignment_status], status_changed_at=at, updated_at=timezone.now()
    )


def unit_service_status_set(*, actor: User, unit: Unit, status: str, at: datetime) -> Unit:
    """A responder puts their unit in or out of service. A unit working a call cannot go
    either way: it clears the call first."""
    if status not in {Unit.Status.AVAILABLE, Unit.Status.OUT_OF_SERVICE}:
        raise Conflict(f"{status} is set through a call.", code="status_needs_call")
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        busy = unit.assignments.filter(status__in=list(lifecycle.ACTIVE_ASSIGNMENT)).exists()
        if busy:
            raise Conflict(
                "The unit is working a call: clear it first.", code=f"unit_is_{unit.status}"
            )
        unit.status = status
        unit.status_changed_at = at
        unit.save(update_fields=["status", "status_changed_at", "updated_at"])
        audit_record(actor=actor, action=AuditAction.CHANGE, target=unit, detail={"status": status})
    return unit
