"""Benchmark the operations board's update (/board/data) at the size the issue asks for:
300 units and 2,000 open calls (docs/benchmarks.md, "Operations board").

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE acs_board_bench' postgres
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_board_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py bench_board            # --units 300 --calls 2000 --runs 200
    psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE acs_board_bench' postgres

Generates the fleet (cases/board/synthetic.py: units with two positions each, a third of them
on a call, the rest of the calls pending), then times, through the view itself (a request
object, the selectors, the JSON; no middleware, no network):

- a typical update: the board holds a cursor, then --changed calls change (priority) and as
  many units (a new position each; one in two also a status), and the board asks with its
  cursor: the delta (what every open board fetches after a change);
- the whole snapshot: a board without a cursor (a first load, too far behind, a reset);
- nothing changed: the 304 answer (what every open board fetches each interval otherwise);
- the floor of each, in the same run: the same statements in plain SQL, rows fetched, no
  Python shaping and no JSON.

and counts the statements of each. Refuses to run on a database whose name lacks "bench"
(unless --force). Deletes the rows it made. The suite's smoke run: `--units 5 --calls 20
--runs 2 --force`.
"""

from __future__ import annotations

import json
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import F
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.roles import Role
from cases.board import selectors, views
from cases.board.synthetic import board_fleet_delete, board_fleet_generate
from cases.models import Call
from responders.models import Unit, UnitPosition, User

PREFIX = "BENCHB"


def summary(label: str, timings: list[float], statements: int) -> str:
    timings = sorted(timings)
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    return (
        f"{label:<34} median={statistics.median(timings):.1f} ms p95={p95:.1f} ms "
        f"max={timings[-1]:.1f} ms (n={len(timings)}) statements={statements}"
    )


class Command(BaseCommand):
    help = "Time the operations board's updates at 300 units and 2,000 calls (docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=300)
        parser.add_argument("--calls", type=int, default=2000)
        parser.add_argument("--runs", type=int, default=200)
        parser.add_argument(
            "--changed", type=int, default=3, help="calls and units changed per update"
        )
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, units, calls, runs, changed, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to add rows to {name!r}: use a *bench* database.")
        board_fleet_delete(prefix=PREFIX)
        start = time.perf_counter()
        board_fleet_generate(units=units, calls=calls, prefix=PREFIX)
        self.stdout.write(
            f"Generated {units} units and {calls} open calls in "
            f"{time.perf_counter() - start:.1f} s."
        )
        with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them
            cursor.execute(
                "ANALYZE cases_call, cases_unitassignment, responders_unit, responders_unitposition"
            )
        user, _ = User.objects.get_or_create(username="bench-board-supervisor")
        user.groups.add(*user.groups.model.objects.filter(name=Role.SUPERVISOR.value))
        user = User.objects.prefetch_related("groups").get(pk=user.pk)
        try:
            self.measure(user, runs, changed)
        finally:
            board_fleet_delete(prefix=PREFIX)
            user.delete()

    def measure(self, user, runs: int, changed: int) -> None:
        factory = RequestFactory()
        calls = list(
            Call.objects.filter(incident_number__startswith=f"{PREFIX}-").values_list(
                "pk", flat=True
            )
        )
        units = list(
            Unit.objects.filter(call_sign__startswith=f"{PREFIX}-", positions__isnull=False)
            .distinct()
            .values_list("pk", flat=True)
        )
        changed_calls, changed_units = min(changed, len(calls)), min(changed, len(units))
        turn = iter(range(10**9))

        def change() -> str:
            """The board's cursor, then a few calls and units written after it."""
            token = selectors.board_cursor()[0].token()
            i = next(turn)
            picked = [calls[(i * changed_calls + k) % len(calls)] for k in range(changed_calls)]
            Call.objects.filter(pk__in=picked).update(
                updated_at=timezone.now(), priority=F("priority")
            )
            now = timezone.now()
            for k in range(changed_units):
                unit = units[(i * changed_units + k) % len(units)]
                UnitPosition.objects.create(
                    unit_id=unit,
                    latitude="35.08",
                    longitude="-106.65",
                    recorded_at=now,
                    source="cad",
                )
                if k % 2 == 0:
                    Unit.objects.filter(pk=unit).update(updated_at=now, status_changed_at=now)
            return token

        def ask(token: str | None, expect: int) -> tuple[float, int, HttpResponse]:
            headers = {"HTTP_IF_NONE_MATCH": f'"{token}"'} if token else {}
            request = factory.get("/board/data", **headers)
            request.user = user
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = views.board_data(request)
                spent = (time.perf_counter() - begin) * 1000
            if response.status_code != expect:
                raise CommandError(f"/board/data answered {response.status_code}, not {expect}")
            return spent, len(queries), response

        for _ in range(3):  # warm the caches and the plans
            ask(change(), 200)
            ask(None, 200)

        timings, statements, sizes = [], 0, []
        for _ in range(runs):
            spent, statements, response = ask(change(), 200)
            delta = json.loads(response.content)
            if delta["kind"] != "delta" or len(delta["calls"]) != changed_calls:
                raise CommandError(f"expected a delta of {changed_calls} calls: {delta['kind']}")
            timings.append(spent)
            sizes.append(len(response.content))
        self.stdout.write(
            f"delta: {changed_calls} calls and {changed_units} units changed; JSON "
            f"{statistics.median(sizes) / 1024:.1f} KiB"
        )
        self.stdout.write(summary("update (changed, delta)", timings, statements))
        timings = []
        for _ in range(runs):
            token = change()
            begin = time.perf_counter()
            self.floor_delta(token)
            timings.append((time.perf_counter() - begin) * 1000)
        self.stdout.write(summary("floor of the delta, plain SQL", timings, 4))

        timings = []
        for _ in range(runs):
            spent, statements, response = ask(None, 200)
            timings.append(spent)
        snapshot = json.loads(response.content)
        self.stdout.write(
            f"snapshot: {len(snapshot['calls'])} calls, {len(snapshot['units'])} units, "
            f"{len(snapshot['resources'])} places; JSON {len(response.content) // 1024} KiB"
        )
        self.stdout.write(summary("whole snapshot (no cursor)", timings, statements))
        timings = []
        for _ in range(runs):
            begin = time.perf_counter()
            self.floor_snapshot()
            timings.append((time.perf_counter() - begin) * 1000)
        self.stdout.write(summary("floor of the snapshot, plain SQL", timings, 5))

        token = json.loads(ask(None, 200)[2].content)["version"]
        timings = []
        for _ in range(runs):
            spent, statements, _ = ask(token, 304)
            timings.append(spent)
        self.stdout.write(summary("nothing changed (304)", timings, statements))
        timings = []
        since = selectors.BoardCursor.parse(token)
        for _ in range(runs):
            begin = time.perf_counter()
            self.run_sql([self.cursor_sql(since)])
            timings.append((time.perf_counter() - begin) * 1000)
        self.stdout.write(summary("floor of the 304, plain SQL", timings, 1))

    @staticmethod
    def run_sql(statements) -> None:
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    @staticmethod
    def cursor_sql(since) -> tuple[str, list]:
        """The cursor statement, with the "anything written since?" probes when given one."""
        changed, params = "false", []
        if since is not None:
            parts = []
            for table in selectors.STAMPED:
                sql, table_params = since.unseen(table)
                parts.append(f"EXISTS (SELECT 1 FROM {table} WHERE {sql})")  # noqa: S608
                params += table_params
            changed = " OR ".join(parts)
        return (
            "SELECT pg_current_snapshot()::text,"  # noqa: S608 (our tables, parameters)
            " coalesce(pg_current_xact_id_if_assigned()::text::bigint, 0),"
            " (SELECT last_value FROM board_change_seq),"
            " (SELECT count(*) FROM responders_unit),"
            " (SELECT max(updated_at) FROM resources_capacity WHERE available > 0),"
            " (SELECT count(*) FROM resources_capacity WHERE available > 0),"
            f" floor(extract(epoch FROM clock_timestamp()))::bigint, {changed}",
            params,
        )

    @staticmethod
    def figures_sql() -> tuple[str, list]:
        now = timezone.now()
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return (
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY"  # noqa: S608
            " extract(epoch FROM on_scene_at - received_at)),"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY"
            " extract(epoch FROM on_scene_at - received_at)),"
            " (SELECT count(*) FROM cases_call WHERE status IN ('received','pending')),"
            f" (SELECT count(*) FROM cases_call WHERE status IN ({OPEN_SQL})),"
            " (SELECT count(*) FROM responders_unit WHERE status <> 'out_of_service'),"
            " (SELECT count(*) FROM responders_unit)"
            " FROM cases_call WHERE received_at >= %s AND received_at <= %s",
            [start, now],
        )

    def floor_delta(self, token: str) -> None:
        """The delta's four statements as plain SQL: the cursor, the calls and the units
        written since, today's figures."""
        since = selectors.BoardCursor.parse(token)
        calls, call_params = since.unseen("x")
        calls = f"c.id IN (SELECT x.id FROM cases_call x WHERE {calls})"  # noqa: S608
        parts, unit_params = [], []
        for table, column in (
            ("responders_unit", "id"),
            ("cases_unitassignment", "unit_id"),
            ("responders_unitposition", "unit_id"),
        ):
            sql, params = since.unseen(table)
            parts.append(f"SELECT {column} FROM {table} WHERE {sql}")  # noqa: S608
            unit_params += params
        self.run_sql(
            [
                self.cursor_sql(None),
                (
                    CALLS_SQL.format(where=calls),
                    call_params,
                ),
                (UNITS_SQL.format(where=f"u.id IN ({' UNION '.join(parts)})"), unit_params),
                self.figures_sql(),
            ]
        )

    def floor_snapshot(self) -> None:
        """The snapshot's five statements as plain SQL, rows fetched and dropped."""
        self.run_sql(
            [
                self.cursor_sql(None),
                (CALLS_SQL.format(where=f"c.status IN ({OPEN_SQL})"), []),
                (UNITS_SQL.format(where="true"), []),
                (
                    "SELECT s.public_id, v.name, l.name, l.latitude, l.longitude, c.available,"
                    " c.total, c.unit, c.updated_at FROM resources_capacity c"
                    " JOIN resources_serviceatlocation s ON s.id = c.service_at_location_id"
                    " JOIN resources_service v ON v.id = s.service_id"
                    " JOIN resources_location l ON l.id = s.location_id"
                    " WHERE c.available > 0 AND l.latitude IS NOT NULL"
                    " ORDER BY c.updated_at DESC, c.id DESC LIMIT 500",
                    [],
                ),
                self.figures_sql(),
            ]
        )


OPEN_SQL = ", ".join(f"'{s}'" for s in selectors.OPEN)
CALLS_SQL = (
    "SELECT c.public_id, c.incident_number, c.priority, c.status, c.call_type,"
    " floor(extract(epoch FROM c.received_at) * 1000)::bigint,"
    " floor(extract(epoch FROM c.status_changed_at) * 1000)::bigint, c.address,"
    " c.latitude, c.longitude FROM cases_call c WHERE {where} ORDER BY c.received_at, c.id"
)
UNITS_SQL = (
    "SELECT u.public_id, u.call_sign, t.name, u.status,"
    " floor(extract(epoch FROM u.status_changed_at) * 1000)::bigint,"
    " u.needs_confirmation, a.public_id, a.incident_number, p.latitude,"
    " p.longitude, p.ms FROM responders_unit u"
    " LEFT JOIN responders_team t ON t.id = u.team_id"
    " LEFT JOIN LATERAL (SELECT c.public_id, c.incident_number"
    " FROM cases_unitassignment x JOIN cases_call c ON c.id = x.call_id"
    " WHERE x.unit_id = u.id AND x.status IN"
    " ('dispatched','en_route','on_scene','transporting')"
    " ORDER BY x.dispatched_at DESC, x.id DESC LIMIT 1) a ON true"
    " LEFT JOIN LATERAL (SELECT latitude, longitude,"
    " floor(extract(epoch FROM recorded_at) * 1000)::bigint AS ms"
    " FROM responders_unitposition WHERE unit_id = u.id"
    " ORDER BY recorded_at DESC, id DESC LIMIT 1) p ON true WHERE {where}"
    " ORDER BY u.call_sign"
)
