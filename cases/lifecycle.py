"""The call life cycle (shared/DOMAIN.md), as a pure function of a call's events in time order.

    received -> pending -> dispatched -> en_route -> on_scene -> [transporting] -> cleared -> closed
    side exits: pending -> returned_to_police | cancelled; dispatched/en_route -> cancelled;
                on_scene -> escalated; cleared -> reopened

CAD sends events that may arrive out of order, so the state of a call is never updated in
place: `replay` folds every event, sorted by its `at` time, from the initial state. A new event
is accepted only if the whole sequence with it inserted still replays; otherwise the move is
illegal and `IllegalMove` names the state the call was in at that point.

A call can have several units, each with its own assignment. Unit events move their
assignment; the call's own status follows the furthest-along active unit, and the call is
cleared once every active unit is cleared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

# Event types CAD may send.
DISPATCHED = "dispatched"
EN_ROUTE = "en_route"
ON_SCENE = "on_scene"
TRANSPORTING = "transporting"
CLEARED = "cleared"
CANCELLED = "cancelled"
RETURNED_TO_POLICE = "returned_to_police"
ESCALATED = "escalated"
REOPENED = "reopened"
EVENT_TYPES = (
    DISPATCHED,
    EN_ROUTE,
    ON_SCENE,
    TRANSPORTING,
    CLEARED,
    CANCELLED,
    RETURNED_TO_POLICE,
    ESCALATED,
    REOPENED,
)
# Events that move one unit's assignment and so must name the unit.
UNIT_EVENTS = frozenset({DISPATCHED, EN_ROUTE, ON_SCENE, TRANSPORTING})

# Call states beyond the event names.
RECEIVED = "received"
PENDING = "pending"
CLOSED = "closed"

# Progress of an assignment along the main path. A unit may skip steps forward
# (CAD does not always send en_route), never go back.
_PROGRESS = {DISPATCHED: 1, EN_ROUTE: 2, ON_SCENE: 3, TRANSPORTING: 4}
# Where an assignment may come from for each unit event ("" = the unit is not yet on the call).
_ASSIGNMENT_FROM = {
    DISPATCHED: {""},
    EN_ROUTE: {"", DISPATCHED},
    ON_SCENE: {"", DISPATCHED, EN_ROUTE},
    TRANSPORTING: {ON_SCENE},
}
ACTIVE_ASSIGNMENT = frozenset({DISPATCHED, EN_ROUTE, ON_SCENE, TRANSPORTING})
# Call states in which units still work the call.
_IN_PROGRESS = frozenset({DISPATCHED, EN_ROUTE, ON_SCENE, TRANSPORTING, ESCALATED})
_OPEN_FOR_DISPATCH = frozenset({RECEIVED, PENDING, REOPENED}) | _IN_PROGRESS


class IllegalMove(Exception):
    """The life cycle does not allow `event` from `state` (the call's state at that time)."""

    def __init__(self, event: Event, state: str, reason: str):
        super().__init__(f"{event.type} is not allowed when the call is {state}: {reason}")
        self.event = event
        self.state = state
        self.reason = reason


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    unit: str = ""  # call sign, "" when the event is about the whole call
    seq: int = 0  # arrival order, breaks ties between equal `at` times


@dataclass
class Assignment:
    status: str = ""
    times: dict[str, datetime] = field(default_factory=dict)


@dataclass
class CallState:
    status: str = PENDING
    # First time the call reached each step (last time for cleared/reopened).
    times: dict[str, datetime] = field(default_factory=dict)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    escalated: bool = False
    reopened: bool = False  # reopened and not cleared since

    def active_units(self) -> list[str]:
        return [u for u, a in self.assignments.items() if a.status in ACTIVE_ASSIGNMENT]


def _mark(times: dict[str, datetime], step: str, at: datetime, *, last: bool = False) -> None:
    if last or step not in times:
        times[step] = at


def _derive_status(state: CallState) -> str:
    """The call's status implied by its assignments (for calls still being worked)."""
    active = [a.status for a in state.assignments.values() if a.status in ACTIVE_ASSIGNMENT]
    if active:
        furthest = max(active, key=_PROGRESS.__getitem__)
        if state.escalated and _PROGRESS[furthest] >= _PROGRESS[ON_SCENE]:
            return ESCALATED
        return furthest
    if state.reopened:
        return REOPENED
    if any(a.status == CLEARED for a in state.assignments.values()):
        return CLEARED
    return PENDING


def apply(state: CallState, event: Event) -> None:
    """Apply one event in place, or raise IllegalMove."""
    status = state.status
    if status in {CANCELLED, RETURNED_TO_POLICE, CLOSED}:
        raise IllegalMove(event, status, "the call is finished")

    if event.type in UNIT_EVENTS:
        if not event.unit:
            raise IllegalMove(event, status, "the event must name a unit")
        if status not in _OPEN_FOR_DISPATCH:
            raise IllegalMove(event, status, "no unit can work a call in this state")
        assignment = state.assignments.setdefault(event.unit, Assignment())
        current = assignment.status
        if current in {CLEARED, CANCELLED} and status == REOPENED and event.type != TRANSPORTING:
            current = ""  # a reopened call may send the same unit again
        if current not in _ASSIGNMENT_FROM[event.type]:
            raise IllegalMove(event, status, f"unit {event.unit} is {current or 'not on the call'}")
        assignment.status = event.type
        _mark(assignment.times, event.type, event.at)
        _mark(state.times, event.type, event.at)
        state.status = _derive_status(state)
        return

    if event.type == CLEARED:
        if status not in _IN_PROGRESS:
            raise IllegalMove(event, status, "only a call being worked can be cleared")
        units = [event.unit] if event.unit else state.active_units()
        for unit in units:
            assignment = state.assignments.get(unit)
            if assignment is None or assignment.status not in ACTIVE_ASSIGNMENT:
                raise IllegalMove(event, status, f"unit {unit} is not working the call")
            assignment.status = CLEARED
            _mark(assignment.times, CLEARED, event.at)
        state.status = _derive_status(state)
        if state.status == CLEARED:
            state.escalated = False
            state.reopened = False
            _mark(state.times, CLEARED, event.at, last=True)
        return

    if event.type == CANCELLED:
        if event.unit:
            assignment = state.assignments.get(event.unit)
            if assignment is None or assignment.status not in {DISPATCHED, EN_ROUTE}:
                raise IllegalMove(
                    event, status, f"unit {event.unit} can be cancelled only before it arrives"
                )
            assignment.status = CANCELLED
            _mark(assignment.times, CANCELLED, event.at)
            state.status = _derive_status(state)
            return
        if status not in {RECEIVED, PENDING, DISPATCHED, EN_ROUTE, REOPENED}:
            raise IllegalMove(event, status, "a call can be cancelled only before a unit arrives")
        for assignment in state.assignments.values():
            if assignment.status in ACTIVE_ASSIGNMENT:
                assignment.status = CANCELLED
                _mark(assignment.times, CANCELLED, event.at)
        state.status = CANCELLED
        _mark(state.times, CANCELLED, event.at)
        return

    if event.type == RETURNED_TO_POLICE:
        if status not in {RECEIVED, PENDING}:
            raise IllegalMove(event, status, "only a pending call can be returned to police")
        state.status = RETURNED_TO_POLICE
        _mark(state.times, RETURNED_TO_POLICE, event.at)
        return

    if event.type == ESCALATED:
        if status != ON_SCENE:
            raise IllegalMove(event, status, "only a call with a unit on scene can escalate")
        state.escalated = True
        state.status = ESCALATED
        _mark(state.times, ESCALATED, event.at)
        return

    if event.type == REOPENED:
        if status != CLEARED:
            raise IllegalMove(event, status, "only a cleared call can be reopened")
        state.status = REOPENED
        state.reopened = True
        _mark(state.times, REOPENED, event.at, last=True)
        return

    raise IllegalMove(event, status, f"unknown event type {event.type!r}")


def replay(events: Iterable[Event]) -> CallState:
    """Fold the events in time order (ties in arrival order) from a new, pending call."""
    state = CallState()
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        apply(state, event)
    return state
