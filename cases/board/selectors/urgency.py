"""The board's clocks: which calls are waiting or being worked, the limits each is measured against
(BOARD_* settings), and how overdue a call is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from cases.models import CallStatus

# Calls on the board: waiting for a unit, or being worked.
WAITING = (CallStatus.RECEIVED, CallStatus.PENDING)
WORKING = (
    CallStatus.DISPATCHED,
    CallStatus.EN_ROUTE,
    CallStatus.ON_SCENE,
    CallStatus.TRANSPORTING,
    CallStatus.ESCALATED,
    CallStatus.REOPENED,
)
OPEN = (*WAITING, *WORKING)
# Steps whose time is measured against the on-scene limit rather than the priority's.
ON_SCENE_STEPS = (CallStatus.ON_SCENE, CallStatus.TRANSPORTING, CallStatus.ESCALATED)


@dataclass(frozen=True)
class Thresholds:
    pending_minutes: dict[int, int]
    return_minutes: int
    return_warning_minutes: int
    on_scene_minutes: int

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            pending_minutes=dict(settings.BOARD_PENDING_MINUTES),
            return_minutes=settings.BOARD_RETURN_TO_POLICE_MINUTES,
            return_warning_minutes=settings.BOARD_RETURN_WARNING_MINUTES,
            on_scene_minutes=settings.BOARD_ON_SCENE_MINUTES,
        )

    def as_json(self) -> dict:
        return {
            "pending_minutes": {str(k): v for k, v in self.pending_minutes.items()},
            "return_minutes": self.return_minutes,
            "return_warning_minutes": self.return_warning_minutes,
            "on_scene_minutes": self.on_scene_minutes,
        }

    def limit_minutes(self, *, status: str, priority: int) -> int:
        if status in ON_SCENE_STEPS:
            return self.on_scene_minutes
        return self.pending_minutes.get(priority, max(self.pending_minutes.values()))


def call_urgency(
    *,
    status: str,
    priority: int,
    received_at: datetime,
    status_changed_at: datetime,
    now: datetime,
    thresholds: Thresholds,
) -> tuple[float, bool]:
    """How overdue a call is: (share of its limit used, about to be returned to police).

    A waiting call is measured from `received_at` against its priority's limit; a call being
    worked, by the time in its current step (on scene against BOARD_ON_SCENE_MINUTES).
    static/board/board.js applies the same rule as the clock runs (tests/cases/test_board.py).
    """
    waiting = status in WAITING
    since = received_at if waiting else status_changed_at
    minutes = max((now - since).total_seconds(), 0) / 60
    share = minutes / thresholds.limit_minutes(status=status, priority=priority)
    returning = waiting and minutes >= (
        thresholds.return_minutes - thresholds.return_warning_minutes
    )
    return share, returning
