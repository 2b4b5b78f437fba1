"""Reads of the operations board: a whole snapshot in five statements, whatever the numbers of
calls and units; the changes since a board's cursor in at most five; "nothing changed" in one.

The cursor (`BoardCursor`) is transaction-based, not clock-based: every write to a call, a
unit, an assignment or a position is stamped by a trigger (responders 0007, cases 0040) with
its transaction's id and a sequence number, and the cursor records the database snapshot it was
read in. What a board has not seen is exactly what that snapshot did not: rows of transactions
in progress then (`xip`) or begun after (`>= xmax`). A row committed late with an earlier
`updated_at` is not missed (docs/architecture.md, "The operations board").

The board is for desk roles, who see every call and unit (docs/security.md); the scope is the
view's (`views.desk_page`). Calls carry their address and coordinates, never a resident.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.db.models import BigIntegerField, F, Func, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation

from cases.models import Call, CallStatus, UnitAssignment
from cases.selectors import ACTIVE_ASSIGNMENTS
from resources.models import Capacity
from resources.models.capacity import capacity_stale_after
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


@dataclass(frozen=True)
class BoardCursor:
    """Where a board stands: the database snapshot its rows were read after (`xmax`, the
    transactions in progress `xip`, the reading transaction's own id `own` and the change
    sequence's value `seq`, which orders that transaction's own writes), and what else decides
    a whole snapshot: the number of units (one deleted leaves no stamped row), the places with
    room, the local day (today's figures start again at midnight), the language, and when it
    was issued (database clock, seconds)."""

    xmax: int
    xip: tuple[int, ...]
    own: int
    seq: int
    units: int
    resources: str
    day: str
    language: str
    issued: int

    TOKEN = re.compile(
        r"^1\.(\d+)\.([\d-]*)\.(\d+)\.(\d+)\.(\d+)\.([0-9a-f]{12})\.(\d{8})\.([\w-]{1,20})\.(\d+)$"
    )

    def token(self) -> str:
        xip = "-".join(str(x) for x in self.xip)
        return (
            f"1.{self.xmax}.{xip}.{self.own}.{self.seq}.{self.units}.{self.resources}."
            f"{self.day}.{self.language}.{self.issued}"
        )

    @classmethod
    def parse(cls, token: str | None) -> BoardCursor | None:
        """The cursor a board sent back, or None (absent, malformed, an old format)."""
        match = cls.TOKEN.match(token or "")
        if not match:
            return None
        xmax, xip, own, seq, units, resources, day, language, issued = match.groups()
        return cls(
            xmax=int(xmax),
            xip=tuple(int(x) for x in xip.split("-") if x),
            own=int(own),
            seq=int(seq),
            units=int(units),
            resources=resources,
            day=day,
            language=language,
            issued=int(issued),
        )

    def unseen(self, table: str) -> tuple[str, list]:
        """SQL condition (and its parameters) for rows of `table` written by a transaction
        this cursor's snapshot did not see: in progress then, begun since, or the reading
        transaction's own writes after the cursor (tests read inside one transaction)."""
        return (
            f"({table}.board_xid = ANY(%s::bigint[])"
            f" OR ({table}.board_xid >= %s AND {table}.board_xid <> %s)"
            f" OR ({table}.board_xid = %s AND {table}.board_seq > %s))",
            [list(self.xip), self.xmax, self.own, self.own, self.seq],
        )


# The tables whose rows the board shows, each stamped by the board_change_stamp trigger.
STAMPED = ("cases_call", "cases_unitassignment", "responders_unit", "responders_unitposition")


def board_cursor(
    *, since: BoardCursor | None = None, now: datetime | None = None
) -> tuple[BoardCursor, bool]:
    """The cursor of the board as it is now, and whether anything changed since `since` (a
    call, unit, assignment or position written after it); one statement of index probes."""
    changed_sql, params = "false", []
    if since is not None:
        parts = []
        for table in STAMPED:
            sql, table_params = since.unseen(table)
            parts.append(f"EXISTS (SELECT 1 FROM {table} WHERE {sql})")  # noqa: S608 (ours)
            params += table_params
        changed_sql = " OR ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT pg_current_snapshot()::text,
                   coalesce(pg_current_xact_id_if_assigned()::text::bigint, 0),
                   (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM board_change_seq),
                   (SELECT count(*) FROM responders_unit),
                   (SELECT max(updated_at) FROM resources_capacity WHERE available > 0),
                   (SELECT count(*) FROM resources_capacity WHERE available > 0),
                   floor(extract(epoch FROM clock_timestamp()))::bigint,
                   {changed_sql}
            """,  # noqa: S608 (the tables are ours, the values parameters)
            params,
        )
        snapshot, own, seq, units, capacity_at, capacity_count, issued, changed = cursor.fetchone()
    _, xmax, xip = snapshot.split(":")
    resources = hashlib.sha256(f"{capacity_at}|{capacity_count}".encode()).hexdigest()[:12]
    current = BoardCursor(
        xmax=int(xmax),
        xip=tuple(int(x) for x in xip.split(",") if x),
        own=int(own),
        seq=int(seq),
        units=int(units),
        resources=resources,
        day=timezone.localdate(now or timezone.now()).strftime("%Y%m%d"),
        language=re.sub(r"[^\w-]", "", translation.get_language() or "")[:20] or "x",
        issued=int(issued),
    )
    return current, bool(changed)


def board_version(*, now: datetime | None = None) -> str:
    """The board's cursor as the ETag's opaque text."""
    return board_cursor(now=now)[0].token()


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
            "updated_at": _iso(row["updated_at"]),
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


def board_snapshot(*, now: datetime | None = None, cursor: BoardCursor | None = None) -> dict:
    """Everything the board shows, as JSON-ready data: five statements (the cursor, unless
    given, calls, units, resources, today's figures), whatever the numbers of calls and
    units. The cursor is read first: a change that lands during the reads is sent again by
    the next update, never missed."""
    now = now or timezone.now()
    thresholds = Thresholds.from_settings()
    cursor = cursor or board_cursor(now=now)[0]
    calls = board_calls()
    units = board_units()
    by_id = {call["id"]: call for call in calls}
    for unit in units:  # already in call-sign order
        if unit["call"] in by_id:
            by_id[unit["call"]]["units"].append(unit["call_sign"])
    figures = board_figures_today(now=now)
    counts = figures.pop("counts")
    return {
        "kind": "snapshot",
        "version": cursor.token(),
        "now": _iso(now),
        "now_ms": int(now.timestamp() * 1000),
        "thresholds": thresholds.as_json(),
        "figures": figures,
        "counts": counts,
        "calls": calls,
        "units": units,
        "resources": board_resources(now=now),
    }


def board_delta(*, since: BoardCursor, cursor: BoardCursor, now: datetime | None = None) -> dict:
    """What changed since `since`, read after `cursor`: the calls written since that are open
    (`calls`, whole rows; the page fills each call's units from its units) and the ids of
    those that left the board (`removed_calls`: cleared, cancelled, returned to police), the
    units written since (their row, an assignment or a position), the places with room only
    if they changed, today's figures and the counts to check the merge against. At most five
    statements with the cursor's, whatever the number of rows changed."""
    now = now or timezone.now()
    open_calls, removed = [], []
    for call in board_calls(since=since):
        if call["status"] in OPEN:
            del call["units"]
            open_calls.append(call)
        else:
            removed.append(call["id"])
    figures = board_figures_today(now=now)
    counts = figures.pop("counts")
    delta = {
        "kind": "delta",
        "version": cursor.token(),
        "now": _iso(now),
        "now_ms": int(now.timestamp() * 1000),
        "thresholds": Thresholds.from_settings().as_json(),
        "figures": figures,
        "counts": counts,
        "calls": open_calls,
        "removed_calls": removed,
        "units": board_units(since=since),
    }
    if since.resources != cursor.resources:
        delta["resources"] = board_resources(now=now)
    return delta


def board_update(token: str | None, *, now: datetime | None = None) -> dict | None:
    """/board/data's answer to a board holding the cursor `token`: None when nothing changed
    (the 304, one statement); the changes since (`board_delta`); or the whole snapshot when
    the cursor is absent, unreadable, from another database state, older than
    BOARD_DELTA_MAX_SECONDS, or the day, the language or the number of units changed."""
    now = now or timezone.now()
    since = BoardCursor.parse(token)
    cursor, changed = board_cursor(since=since, now=now)
    if since is None:
        return board_snapshot(now=now, cursor=cursor)
    same = (since.units, since.day, since.language) == (cursor.units, cursor.day, cursor.language)
    if same and not changed and since.resources == cursor.resources:
        return None
    behind = cursor.issued - since.issued > settings.BOARD_DELTA_MAX_SECONDS
    unknown = since.xmax > cursor.xmax or since.issued > cursor.issued + 60
    if not same or behind or unknown:
        return board_snapshot(now=now, cursor=cursor)
    return board_delta(since=since, cursor=cursor, now=now)
