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

- an update: one call changed before each request, so the ETag is stale and the whole
  snapshot is read and sent (what every open board fetches after a change);
- nothing changed: the 304 answer (what every open board fetches each interval otherwise);
- the floor, in the same run: the same statements in plain SQL, rows fetched, no Python
  shaping and no JSON.

and counts the statements of each. Refuses to run on a database whose name lacks "bench"
(unless --force). Deletes the rows it made. The suite's smoke run: `--units 5 --calls 20
--runs 2 --force`.
"""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import F
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.roles import Role
from cases.board import selectors, views
from cases.board.synthetic import board_fleet_delete, board_fleet_generate
from cases.models import Call
from responders.models import User

PREFIX = "BENCHB"


def summary(label: str, timings: list[float], statements: int) -> str:
    timings = sorted(timings)
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    return (
        f"{label:<34} median={statistics.median(timings):.1f} ms p95={p95:.1f} ms "
        f"max={timings[-1]:.1f} ms (n={len(timings)}) statements={statements}"
    )


class Command(BaseCommand):
    help = "Time the operations board's update at 300 units and 2,000 calls (docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--units", type=int, default=300)
        parser.add_argument("--calls", type=int, default=2000)
        parser.add_argument("--runs", type=int, default=200)
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, units, calls, runs, force, **options):
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
        user, _ = User.objects.get_or_create(username="bench-board-supervisor")
        user.groups.add(*user.groups.model.objects.filter(name=Role.SUPERVISOR.value))
        user = User.objects.prefetch_related("groups").get(pk=user.pk)
        try:
            self.measure(user, runs)
        finally:
            board_fleet_delete(prefix=PREFIX)
            user.delete()

    def measure(self, user, runs: int) -> None:
        factory = RequestFactory()
        victims = list(
            Call.objects.filter(incident_number__startswith=f"{PREFIX}-").values_list(
                "pk", flat=True
            )[:runs]
        )

        def update() -> tuple[float, int]:
            request = factory.get("/board/data")
            request.user = user
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = views.board_data(request)
                spent = (time.perf_counter() - begin) * 1000
            if response.status_code != 200:
                raise CommandError(f"/board/data answered {response.status_code}")
            return spent, len(queries)

        def unchanged(etag: str) -> tuple[float, int]:
            request = factory.get("/board/data", HTTP_IF_NONE_MATCH=etag)
            request.user = user
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = views.board_data(request)
                spent = (time.perf_counter() - begin) * 1000
            if response.status_code != 304:
                raise CommandError(f"/board/data answered {response.status_code}")
            return spent, len(queries)

        for _ in range(3):  # warm the caches and the plans
            update()
        timings, statements = [], 0
        for i in range(runs):
            # A change somewhere: the board's marker moves, the next fetch is a full snapshot.
            Call.objects.filter(pk=victims[i % len(victims)]).update(
                updated_at=timezone.now(), priority=F("priority")
            )
            spent, statements = update()
            timings.append(spent)
        snapshot = selectors.board_snapshot()
        self.stdout.write(
            f"snapshot: {len(snapshot['calls'])} calls, {len(snapshot['units'])} units, "
            f"{len(snapshot['resources'])} places; JSON "
            f"{len(views.JsonResponse(snapshot).content) // 1024} KiB"
        )
        self.stdout.write(summary("update (changed, full snapshot)", timings, statements))

        request = factory.get("/board/data")
        request.user = user
        etag = views.board_data(request)["ETag"]
        timings = []
        for _ in range(runs):
            spent, statements = unchanged(etag)
            timings.append(spent)
        self.stdout.write(summary("nothing changed (304)", timings, statements))

        timings = []
        for _ in range(runs):
            begin = time.perf_counter()
            self.floor()
            timings.append((time.perf_counter() - begin) * 1000)
        self.stdout.write(summary("floor: same statements, plain SQL", timings, 5))

    def floor(self) -> None:
        """The board's statements as plain SQL, rows fetched and dropped."""
        now = timezone.now()
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        statements = [
            (
                "SELECT (SELECT max(updated_at) FROM cases_call),"
                " (SELECT max(updated_at) FROM responders_unit),"
                " (SELECT count(*) FROM responders_unit),"
                " (SELECT max(id) FROM responders_unitposition),"
                " (SELECT max(updated_at) FROM resources_capacity WHERE available > 0),"
                " (SELECT count(*) FROM resources_capacity WHERE available > 0)",
                [],
            ),
            (
                "SELECT c.public_id, c.incident_number, c.priority, c.status, c.call_type,"
                " floor(extract(epoch FROM c.received_at) * 1000)::bigint,"
                " floor(extract(epoch FROM c.status_changed_at) * 1000)::bigint, c.address,"
                " c.latitude, c.longitude FROM cases_call c WHERE c.status IN"
                " ('received','pending','dispatched','en_route','on_scene','transporting',"
                "'escalated','reopened') ORDER BY c.received_at, c.id",
                [],
            ),
            (
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
                " ORDER BY recorded_at DESC, id DESC LIMIT 1) p ON true ORDER BY u.call_sign",
                [],
            ),
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
            (
                "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY"
                " extract(epoch FROM on_scene_at - received_at)),"
                " percentile_cont(0.9) WITHIN GROUP (ORDER BY"
                " extract(epoch FROM on_scene_at - received_at))"
                " FROM cases_call WHERE received_at >= %s AND received_at <= %s",
                [start, now],
            ),
        ]
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
