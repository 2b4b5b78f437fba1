"""Where a board stands (`BoardCursor`): the database snapshot its rows were read after, and what
else decides a whole snapshot; the cursor of the board now, and whether anything changed since
a board's."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone, translation


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
