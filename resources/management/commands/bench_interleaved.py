"""Compare this checkout with another over HTTP, each request sent to both (docs/benchmarks.md,
"A desk list's rows and sidebar").

    manage.py bench_interleaved --against /path/to/other/checkout --kind admin --queries 50

On this machine the speed moves by more than a few milliseconds between runs minutes apart,
so whole benchmark runs alternated cannot show a change that small. This starts gunicorn
(acs/gunicorn_conf.py, 2 workers, DEBUG off) from both checkouts at once on this database and
sends every request to both, which goes first alternating; the HTTP floor (`GET /api/hsds/`,
a view that reads nothing) is interleaved the same way. Both checkouts must read this
database's schema (the same migrations). Prints p50/p95/max in ms for each side."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from resources.management.bench_directory.queries import TYPOS, WORDS, field_params, field_queries
from resources.management.bench_directory.server import bench_session, get, gunicorn
from resources.management.commands.bench_directory_search import Timings
from resources.models import Service

# Each kind: the signed-in role, the path, and its queries' parameters.
KINDS: dict[str, tuple[str, str, Callable[[int, random.Random], list[dict]]]] = {
    "admin": (
        "case_manager",
        "/admin/resources/service/",
        lambda n, rng: [{"q": rng.choice(WORDS)} for _ in range(n)],
    ),
    "picker": (
        "case_manager",
        "/admin/cases/resident/refer/options/",
        lambda n, rng: [{"term": rng.choice([*WORDS, *TYPOS])} for _ in range(n)],
    ),
    "field": (
        "responder",
        "/field/resources/",
        lambda n, rng: [field_params(q) for q in field_queries(n, rng)],
    ),
}
FLOOR = ("anonymous", "/api/hsds/", lambda n, rng: [{} for _ in range(n)])


class Command(BaseCommand):
    help = "Compare this checkout with another over HTTP, each request sent to both."

    def add_arguments(self, parser):
        parser.add_argument("--against", required=True, help="the other checkout's folder")
        parser.add_argument("--kind", choices=sorted(KINDS), action="append", default=None)
        parser.add_argument("--queries", type=int, default=50, help="queries per kind")
        parser.add_argument("--rounds", type=int, default=3, help="times each query is sent")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, against, kind, queries, rounds, seed, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to benchmark {name!r}: use a *bench* database.")
        other = Path(against).resolve()
        if not (other / "acs" / "gunicorn_conf.py").is_file():
            raise CommandError(f"{other} is not a checkout of this project.")
        if queries < 1 or rounds < 1:
            raise CommandError("--queries and --rounds must be at least 1.")
        if not Service.objects.exists():
            raise CommandError("No services: run manage.py generate_directory first.")
        sides = {"this": Path(settings.BASE_DIR).resolve(), "other": other}
        self.stdout.write(
            f"{Service.objects.count()} services in {name!r}; this = {sides['this']}, "
            f"other = {other}; {queries} queries x {rounds} rounds per kind; p50/p95/max ms"
        )
        with ExitStack() as stack:
            bases = {side: stack.enter_context(gunicorn(root=root)) for side, root in sides.items()}
            for label, (role, path, make) in [
                ("HTTP floor: GET /api/hsds/", FLOOR),
                *((k, KINDS[k]) for k in (kind or sorted(KINDS))),
            ]:
                requests = make(queries, random.Random(seed))  # noqa: S311 - sampling
                timings = self.interleave(bases, role, path, requests, rounds)
                line = "  ".join(f"{side} {t.summary()}" for side, t in timings.items())
                self.stdout.write(f"{label:<28} {line}")
                self.stdout.flush()

    def interleave(
        self, bases: dict[str, str], role: str, path: str, requests: list[dict], rounds: int
    ) -> dict[str, Timings]:
        session = bench_session(role) if role != "anonymous" else None
        http = session if session is not None else _plain()
        for base in bases.values():  # each side's workers warmed
            for params in requests[:4]:
                get(http, base + path, params)
        timings = {side: Timings() for side in bases}
        order = list(bases)
        for round_ in range(rounds):
            for i, params in enumerate(requests):
                for side in order if (i + round_) % 2 else reversed(order):
                    start = time.perf_counter()
                    get(http, bases[side] + path, params)
                    timings[side].ms.append((time.perf_counter() - start) * 1000)
        return timings


def _plain() -> Any:
    import requests

    return requests.Session()
