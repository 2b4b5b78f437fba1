"""What a board is sent: a whole snapshot, the changes since its cursor, or nothing (unchanged)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from cases.board.selectors.cursor import BoardCursor, board_cursor
from cases.board.selectors.reads import (
    board_calls,
    board_figures_today,
    board_resources,
    board_units,
    iso_utc,
)
from cases.board.selectors.urgency import OPEN, Thresholds


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
        "now": iso_utc(now),
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
        "now": iso_utc(now),
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
