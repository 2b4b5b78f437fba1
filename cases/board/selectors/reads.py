"""The board's rows: open calls, units with their current call and last position, places with
room, and today's figures, each in one statement, as the page draws them."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection
from django.db.models import BigIntegerField, F, Func, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from cases.board.selectors.cursor import BoardCursor
from cases.board.selectors.urgency import OPEN, WAITING
from cases.models import Call, CallStatus, UnitAssignment
from cases.selectors import ACTIVE_ASSIGNMENTS
from resources.models import Capacity
from resources.models.capacity import capacity_stale_after
from responders.models import Unit, UnitPosition, UnitStatus

RESOURCES_LIMIT = 500


def iso_utc(value: datetime | None) -> str | None:
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


def board_calls(*, since: BoardCursor | None = None) -> list[dict]:
    """Open calls: one statement on the status index. The units working each are filled in
    from the units' side (`board_snapshot`), which reads every unit's current call anyway.

    With `since`: the calls written after that cursor, open or not (on the `board_xid`
    index), for `board_delta` to send or remove."""
    if since is None:
        calls = Call.objects.filter(status__in=OPEN)
    else:
        sql, params = since.unseen("cases_call")
        calls = Call.objects.filter(
            pk__in=RawSQL(f"SELECT id FROM cases_call WHERE {sql}", params)  # noqa: S608,S611
        )
    rows = (
        calls.annotate(
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


def board_units(*, since: BoardCursor | None = None) -> list[dict]:
    """Every unit with its status, current call and last known position: one statement, each
    subquery a probe of an index ((unit, status) on assignments, (unit, -recorded_at) on
    positions).

    With `since`: only the units whose row, an assignment or a position was written after
    that cursor (a union of `board_xid` index scans)."""
    units = Unit.objects.all()
    if since is not None:
        parts, params = [], []
        for table, column in (
            ("responders_unit", "id"),
            ("cases_unitassignment", "unit_id"),
            ("responders_unitposition", "unit_id"),
        ):
            sql, table_params = since.unseen(table)
            parts.append(f"SELECT {column} FROM {table} WHERE {sql}")  # noqa: S608 (ours)
            params += table_params
        units = units.filter(pk__in=RawSQL(" UNION ".join(parts), params))  # noqa: S611
    current = UnitAssignment.objects.filter(
        unit=OuterRef("pk"), status__in=ACTIVE_ASSIGNMENTS
    ).order_by("-dispatched_at", "-id")
    last = UnitPosition.objects.filter(unit=OuterRef("pk")).order_by("-recorded_at", "-id")
    rows = (
        units.annotate(
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
            "updated_at": iso_utc(row["updated_at"]),
            "stale": row["updated_at"] < stale_before,
        }
        for row in rows
    ]


def board_figures_today(*, now: datetime) -> dict:
    """Today's (local day) calls received and response time (received to on scene, as the
    public `response_time` counts it: docs/metrics.md), median and 90th percentile, the calls
    pending and the units in service now, in one statement (the received_at and status
    indexes). Also the numbers of open calls and of units, for the page to check a merged
    update against (`counts`, popped by the caller)."""
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM on_scene_at - received_at))
                       FILTER (WHERE reached),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM on_scene_at - received_at))
                       FILTER (WHERE reached),
                   (SELECT count(*) FROM cases_call WHERE status = ANY(%s)),
                   (SELECT count(*) FROM cases_call WHERE status = ANY(%s)),
                   (SELECT count(*) FROM responders_unit WHERE status <> %s),
                   (SELECT count(*) FROM responders_unit)
            FROM (
                SELECT received_at, on_scene_at,
                       (source <> 'self_initiated' AND on_scene_at >= received_at) AS reached
                FROM cases_call WHERE received_at >= %s AND received_at <= %s
            ) today
            """,  # noqa: E501
            [list(WAITING), list(OPEN), UnitStatus.OUT_OF_SERVICE, start, now],
        )
        received, median, p90, pending, open_calls, in_service, units = cursor.fetchone()
    return {
        "received": received,
        "response_median_seconds": round(median) if median is not None else None,
        "response_p90_seconds": round(p90) if p90 is not None else None,
        "pending": pending,
        "units_in_service": in_service,
        "counts": {"calls": open_calls, "units": units},
    }
