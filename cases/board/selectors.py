"""Reads of the operations board: a whole snapshot in five statements, whatever the numbers of
calls and units, and a change marker in one.

The board is for desk roles, who see every call and unit (docs/security.md); the scope is the
view's (`views.desk_page`). Calls carry their address and coordinates, never a resident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, F, Func, OuterRef, Subquery
from django.utils import timezone, translation

from cases.models import Call, CallStatus, UnitAssignment
from cases.selectors import ACTIVE_ASSIGNMENTS
from resources.models import Capacity
from resources.models.directory import capacity_stale_after
from responders.models import Unit, UnitPosition, UnitStatus

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
RESOURCES_LIMIT = 500


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


def board_version(*, now: datetime | None = None) -> str:
    """A marker that changes whenever anything on the board may have: one statement of index
    probes (the newest call, unit and capacity change, the newest position) and the local day
    (today's figures start again at midnight)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT max(updated_at) FROM cases_call),
                   (SELECT max(updated_at) FROM responders_unit),
                   (SELECT count(*) FROM responders_unit),
                   (SELECT max(id) FROM responders_unitposition),
                   (SELECT max(updated_at) FROM resources_capacity WHERE available > 0),
                   (SELECT count(*) FROM resources_capacity WHERE available > 0)
            """
        )
        row = cursor.fetchone()
    day = timezone.localdate(now or timezone.now())
    raw = "|".join(str(v) for v in (*row, day, translation.get_language()))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _epoch_ms(field: str) -> Func:
    """A time as milliseconds since 1970, computed by the database: the page does its clock
    arithmetic on numbers, and 4,000 datetimes are not parsed and formatted per update."""
    return Func(
        F(field),
        template="floor(extract(epoch FROM %(expressions)s) * 1000)::bigint",
        output_field=BigIntegerField(),
    )


def _coordinate(value) -> float | None:
    return float(value) if value is not None else None


def board_calls() -> list[dict]:
    """Open calls: one statement on the status index. The units working each are filled in
    from the units' side (`board_snapshot`), which reads every unit's current call anyway."""
    rows = (
        Call.objects.filter(status__in=OPEN)
        .annotate(
            received_ms=_epoch_ms("received_at"),
            step_ms=_epoch_ms("status_changed_at"),
        )
        .order_by("received_at", "id")
        .values(
            "public_id",
            "incident_number",
            "priority",
            "status",
            "call_type",
            "received_ms",
            "step_ms",
            "address",
            "latitude",
            "longitude",
        )
    )
    labels = {value: str(label) for value, label in CallStatus.choices}
    return [
        {
            "id": str(row["public_id"]),
            "incident": row["incident_number"],
            "priority": row["priority"],
            "status": row["status"],
            "status_label": labels.get(row["status"], row["status"]),
            "call_type": row["call_type"],
            "received_ms": row["received_ms"],
            "step_ms": row["step_ms"],
            "address": row["address"],
            "lat": _coordinate(row["latitude"]),
            "lng": _coordinate(row["longitude"]),
            "units": [],
        }
        for row in rows
    ]


def board_units() -> list[dict]:
    """Every unit with its status, current call and last known position: one statement, each
    subquery a probe of an index ((unit, status) on assignments, (unit, -recorded_at) on
    positions)."""
    current = UnitAssignment.objects.filter(
        unit=OuterRef("pk"), status__in=ACTIVE_ASSIGNMENTS
    ).order_by("-dispatched_at", "-id")
    last = UnitPosition.objects.filter(unit=OuterRef("pk")).order_by("-recorded_at", "-id")
    rows = (
        Unit.objects.annotate(
            call_public_id=Subquery(current.values("call__public_id")[:1]),
            call_incident=Subquery(current.values("call__incident_number")[:1]),
            position_lat=Subquery(last.values("latitude")[:1]),
            position_lng=Subquery(last.values("longitude")[:1]),
            position_ms=Subquery(last.annotate(ms=_epoch_ms("recorded_at")).values("ms")[:1]),
            status_ms=_epoch_ms("status_changed_at"),
        )
        .order_by("call_sign")
        .values(
            "public_id",
            "call_sign",
            "team__name",
            "status",
            "status_ms",
            "needs_confirmation",
            "call_public_id",
            "call_incident",
            "position_lat",
            "position_lng",
            "position_ms",
        )
    )
    labels = {value: str(label) for value, label in UnitStatus.choices}
    return [
        {
            "id": str(row["public_id"]),
            "call_sign": row["call_sign"],
            "team": row["team__name"] or "",
            "status": row["status"],
            "status_label": labels.get(row["status"], row["status"]),
            "status_ms": row["status_ms"],
            "needs_confirmation": row["needs_confirmation"],
            "in_service": row["status"] != UnitStatus.OUT_OF_SERVICE,
            "call": str(row["call_public_id"]) if row["call_public_id"] else None,
            "call_incident": row["call_incident"] or "",
            "lat": _coordinate(row["position_lat"]),
            "lng": _coordinate(row["position_lng"]),
            "position_ms": row["position_ms"],
        }
        for row in rows
    ]


def board_resources(*, now: datetime) -> list[dict]:
    """Places with room now (capacity above zero), placed on the map: one statement on the
    partial index of free capacity, newest first, at most RESOURCES_LIMIT."""
    stale_before = now - capacity_stale_after()
    rows = (
        Capacity.objects.filter(
            available__gt=0, service_at_location__location__latitude__isnull=False
        )
        .order_by("-updated_at", "-id")
        .values(
            "service_at_location__public_id",
            "service_at_location__service__name",
            "service_at_location__location__name",
            "service_at_location__location__latitude",
            "service_at_location__location__longitude",
            "available",
            "total",
            "unit",
            "updated_at",
        )[:RESOURCES_LIMIT]
    )
    return [
        {
            "id": str(row["service_at_location__public_id"]),
            "name": row["service_at_location__service__name"],
            "location": row["service_at_location__location__name"],
            "lat": _coordinate(row["service_at_location__location__latitude"]),
            "lng": _coordinate(row["service_at_location__location__longitude"]),
            "available": row["available"],
            "total": row["total"],
            "unit": row["unit"],
            "updated_at": _iso(row["updated_at"]),
            "stale": row["updated_at"] < stale_before,
        }
        for row in rows
    ]


def board_figures_today(*, now: datetime) -> dict:
    """Today's (local day) calls received and response time (received to on scene, as the
    public `response_time` counts it: docs/metrics.md), median and 90th percentile, in one
    statement on the received_at index."""
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM on_scene_at - received_at))
                       FILTER (WHERE reached),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM on_scene_at - received_at))
                       FILTER (WHERE reached)
            FROM (
                SELECT received_at, on_scene_at,
                       (source <> 'self_initiated' AND on_scene_at >= received_at) AS reached
                FROM cases_call WHERE received_at >= %s AND received_at <= %s
            ) today
            """,  # noqa: E501
            [start, now],
        )
        received, median, p90 = cursor.fetchone()
    return {
        "received": received,
        "response_median_seconds": round(median) if median is not None else None,
        "response_p90_seconds": round(p90) if p90 is not None else None,
    }


def board_snapshot(*, now: datetime | None = None, version: str | None = None) -> dict:
    """Everything the board shows, as JSON-ready data: five statements (the marker, unless
    given, calls, units, resources, today's figures), whatever the numbers of calls and
    units. The marker is read first: a change that lands during the reads makes the next
    poll fetch again, never the opposite."""
    now = now or timezone.now()
    thresholds = Thresholds.from_settings()
    version = version or board_version(now=now)
    calls = board_calls()
    units = board_units()
    by_id = {call["id"]: call for call in calls}
    for unit in units:  # already in call-sign order
        if unit["call"] in by_id:
            by_id[unit["call"]]["units"].append(unit["call_sign"])
    figures = board_figures_today(now=now)
    figures["pending"] = sum(1 for c in calls if c["status"] in WAITING)
    figures["units_in_service"] = sum(1 for u in units if u["in_service"])
    return {
        "version": version,
        "now": _iso(now),
        "now_ms": int(now.timestamp() * 1000),
        "thresholds": thresholds.as_json(),
        "figures": figures,
        "calls": calls,
        "units": units,
        "resources": board_resources(now=now),
    }
