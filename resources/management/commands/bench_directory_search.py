"""Benchmark every way into the directory, beside its floors (docs/benchmarks.md, #18).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_dir_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py generate_directory --services 20000
    .venv/bin/python manage.py bench_directory_search --queries 50

Each query kind runs `--queries` varied queries (words, misspellings, points, hours, terms,
languages drawn with a fixed seed), timed three ways in the same run:

- in process: `resources.selectors.service_search`, paged and counted as the HSDS API does
  (`resources.api.hsds_pagination.paginate`: the count capped at COUNT_CAP, the page's keys
  then its rows), without serializing;
- over HTTP: `/api/hsds/service_at_locations` (the HSDS endpoint over service_search; the
  `/api/hsds/services` list takes only text and terms) served by gunicorn with 2 workers, started
  here on a free port with this database (`--no-http` leaves it out);
- the floors: plain SQL returning the same rows (the first page, then the count capped as the
  API's: two statements), over the same tables and indexes the selector reads: the services'
  search documents with the corrected tsquery (`text_query(text).tsquery`, made outside the
  timing), the opening intervals (`EXISTS ... during @> at`), the locations' earth points;
  and a plain HTTP client's round trip to a view that reads nothing (`/api/hsds/`).

The `recall` kind times misspellings (a letter dropped, two swapped, one replaced) of words of
the directory's service names, and the common ones of TYPOS, and prints recall@20 (the share of
queries whose first 20 results hold a service with every meant word in its name, organization
or terms) and precision@20 (the mean share of such services in those 20).

Then the field app's resources screen (responders/field/directory_views.py) and the admin's
directory searches (the service changelist's search box, and the referral picker of the resident
page) over HTTP as signed-in users: a bench responder, and a bench case manager whose session is
made here through django.contrib.auth's login and allauth's authentication records (password and
second factor), as a browser sign-in with TOTP leaves it.

Last, the `concurrent` kind: `--clients` clients at once (2, as gunicorn's workers) for
`--seconds`, each sending the text, misspelt, open now and taxonomy searches and the field
screen's, drawn at random, one after another: the requests answered a second and each kind's
p50/p95 under that load, then the same clients on the view that reads nothing (its floor).

Refuses to run on a database whose name lacks "bench".

The queries are made in resources/management/bench_directory/queries.py, the server and the
signed-in sessions in its server.py, the concurrent clients in its load.py.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import requests
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from acs.admin_base import FastListAdmin
from resources.api.hsds_pagination import COUNT_CAP, paginate
from resources.management.bench_directory.load import MIXED_KINDS, concurrent
from resources.management.bench_directory.queries import (
    PAGE,
    TYPOS,
    WORDS,
    Query,
    field_params,
    field_queries,
    misspellings,
    query_plan,
    relevant_share,
)
from resources.management.bench_directory.server import bench_session, get, gunicorn
from resources.models import EARTH_RADIUS_KM, Service, TaxonomyTerm, capacity_stale_after
from resources.selectors import (
    MATCHES_COUNTED,
    listed_brief,
    page_rows,
    service_at_locations_list,
    service_search,
    text_query,
)
from resources.selectors.directory.text import WEIGHT_SCALE, TextQuery, rank_fifths_sql


@dataclass
class Timings:
    ms: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    def summary(self) -> str:
        if not self.ms:
            return "-"
        ms = sorted(self.ms)
        return f"{statistics.median(ms):.1f}/{percentile(ms, 0.95):.1f}/{ms[-1]:.1f}"


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[max(0, math.ceil(len(sorted_ms) * p) - 1)]


def timed(runner: Callable, inputs: list, out: Timings) -> None:
    for value in inputs[:2]:  # warm caches and connections
        runner(value)
    for value in inputs:
        start = time.perf_counter()
        out.rows.append(runner(value))
        out.ms.append((time.perf_counter() - start) * 1000)


# --- the plain SQL floor ---------------------------------------------------------------------

# A match is ranked by any of its words (TextQuery.rank_tsquery): the sum of their weights,
# in whole fifths (text_score).
TEXT_RANK_SQL = f"({rank_fifths_sql('d.document, %(rank_tsq)s::tsquery')} / {WEIGHT_SCALE})"
# The search rows' (SearchPlace, migration 0025): the service's name, status, referral flag and
# document, the location's point and the languages of both, on one row per place.
PLACE_RANK_SQL = TEXT_RANK_SQL.replace("d.document", "p.document")
POINT_SQL = "p.point"
CHORD_SQL = f"({POINT_SQL} <-> resources_earth_point(%(lat)s, %(lon)s))"
DISTANCE_SQL = f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, {CHORD_SQL} / (2 * {EARTH_RADIUS_KM}))))"
# Open at %(at)s: the row's opening spans (its intervals as one multirange, copied onto the
# search row) hold the instant (the GiST index on `spans`), as open_at_condition.
OPEN_SQL = "p.spans @> %(at)s::timestamptz"


def plain_sql(q: Query, tsquery: TextQuery | None, *, page: int = PAGE) -> tuple[str, str, dict]:
    """The statements returning the rows service_search returns for `q`: the ids of the first
    page, and the count capped as the HSDS API's (`capped_count`). `tsquery` is what
    text_query made of `q.text` (None: nothing to search for, no row)."""
    where = ["p.status = 'active'"]
    params: dict = {}
    order = []
    select_rank = "0.0"
    if q.accepts_referrals is not None:
        where.append("p.accepts_referrals = %(referrals)s")
        params["referrals"] = q.accepts_referrals
    if q.term is not None:
        children = TaxonomyTerm.objects.filter(parent=q.term).values_list("id", flat=True)
        where.append("p.terms && %(terms)s::bigint[]")
        params["terms"] = [q.term.pk, *children]
    if q.language:
        where.append("p.languages @> ARRAY[upper(%(lang)s)]::varchar(16)[]")
        params["lang"] = q.language
    if q.has_capacity:
        where.append("p.available > 0 AND p.capacity_updated_at >= %(fresh)s")
        params["fresh"] = timezone.now() - capacity_stale_after()
    if q.near is not None:
        params.update(lat=q.near.latitude, lon=q.near.longitude)
        if q.radius_km is not None:
            half = math.sin(q.radius_km / (2 * EARTH_RADIUS_KM))
            params.update(radius=q.radius_km, chord=2 * EARTH_RADIUS_KM * half)
            where.append(
                f"{POINT_SQL} <@ cube_enlarge(resources_earth_point(%(lat)s, %(lon)s),"
                f" %(chord)s, 3) AND {DISTANCE_SQL} <= %(radius)s"
            )
        else:
            where.append("p.point IS NOT NULL")
        order.append(CHORD_SQL)
    if q.text.strip():
        if tsquery is None:
            where.append("false")
        else:
            params["tsq"] = tsquery.tsquery
            params["rank_tsq"] = tsquery.rank_tsquery
            where.append("p.document @@ %(tsq)s::tsquery")
            select_rank = PLACE_RANK_SQL
            order.append("rank DESC")
    if q.at is not None:
        params["at"] = q.at
        where.append(OPEN_SQL)
    order += ["p.name", "p.service_at_location_id"]
    from_where = f"""FROM resources_searchplace p
WHERE {" AND ".join(where)}"""
    page_sql = f"""SELECT p.service_at_location_id, {select_rank} AS rank {from_where}
ORDER BY {", ".join(order)}
LIMIT {int(page)}"""
    count_sql = f"SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {COUNT_CAP + 1}) AS m"  # noqa: S608
    return page_sql, count_sql, params


def admin_services_sql(tsquery: TextQuery, *, page: int, cap: int) -> tuple[str, str, dict]:
    """The admin's service list searched (ServiceAdmin.get_search_results): every service
    whose document matches, best match first, its first page and its capped count
    (BestMatchKeysPaginator: one past MATCHES_COUNTED, "1000+"), in plain SQL."""
    from_where = """FROM resources_service s
JOIN resources_servicesearchdocument d ON d.service_id = s.id
WHERE d.document @@ %(tsq)s::tsquery"""
    params = {
        "tsq": tsquery.tsquery,
        "rank_tsq": tsquery.rank_tsquery,
    }
    page_sql = f"""SELECT s.id, {TEXT_RANK_SQL} AS rank {from_where}
ORDER BY rank DESC, s.name, s.id
LIMIT {int(page)}"""
    count_sql = f"SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {int(cap)}) AS m"  # noqa: S608
    return page_sql, count_sql, params


class SqlFloor:
    """run(q): the plain SQL of `q` (the page, then with `count` the capped count); the
    tsquery of each text is made once, by text_query, before any timing (prepare)."""

    def __init__(self):
        self.tsqueries: dict[str, TextQuery | None] = {}

    def prepare(self, texts) -> None:
        for text in texts:
            if text.strip() and text not in self.tsqueries:
                query = text_query(text)
                self.tsqueries[text] = query

    def rows(self, q: Query, *, page: int = PAGE, count: bool = True) -> tuple[list, int | None]:
        """The page's ids and (with `count`) the capped count."""
        page_sql, count_sql, params = plain_sql(q, self.tsqueries.get(q.text), page=page)
        with connection.cursor() as cursor:
            cursor.execute(page_sql, params)
            ids = [row[0] for row in cursor.fetchall()]
            if not count:
                return ids, None
            cursor.execute(count_sql, params)
            return ids, cursor.fetchone()[0]

    def run(self, q: Query, *, page: int = PAGE, count: bool = True) -> int:
        ids, total = self.rows(q, page=page, count=count)
        return len(ids) if total is None else total

    def admin_rows(self, text: str) -> tuple[list, int]:
        """The admin service list's first page of ids and its capped count for `text`."""
        tsquery = self.tsqueries.get(text)
        if tsquery is None:
            return [], 0
        page_sql, count_sql, params = admin_services_sql(
            tsquery, page=FastListAdmin.list_per_page, cap=MATCHES_COUNTED + 1
        )
        with connection.cursor() as cursor:
            cursor.execute(count_sql, params)
            (total,) = cursor.fetchone()
            cursor.execute(page_sql, params)
            return [row[0] for row in cursor.fetchall()], total


KINDS = [
    "text",
    "typo",
    "recall",
    "open",
    "taxonomy",
    "near",
    "language",
    "capacity",
    "street",
    "text_near",
    "taxonomy_open",
    "language_free_near",
    "field",
    "admin_services",
    "admin_picker",
    "concurrent",
]
# Kinds that only a request to the server measures (a list page, clients at once).
HTTP_ONLY = ("admin_services", "concurrent")


class Command(BaseCommand):
    help = "Time every directory query kind in process, over HTTP and in plain SQL."

    def add_arguments(self, parser):
        parser.add_argument("--queries", type=int, default=50, help="queries per kind")
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--only", choices=KINDS, action="append", default=None)
        parser.add_argument(
            "--http", action=argparse.BooleanOptionalAction, default=True, help="gunicorn too"
        )
        parser.add_argument("--force", action="store_true", help="run on any database")
        parser.add_argument(
            "--clients", type=int, default=2, help="clients at once (the concurrent kind)"
        )
        parser.add_argument(
            "--seconds", type=float, default=30.0, help="how long they send (concurrent kind)"
        )

    def handle(self, *args, queries, seed, only, http, force, clients, seconds, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to benchmark {name!r}: use a *bench* database.")
        if queries < 1:
            raise CommandError("--queries must be at least 1.")
        if clients < 1 or seconds <= 0:
            raise CommandError("--clients must be at least 1 and --seconds more than 0.")
        total = Service.objects.count()
        if total == 0:
            raise CommandError("No services: run manage.py generate_directory first.")
        kinds = only or KINDS
        # A stopped run still stops its gunicorn (the context manager's finally).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        self.stdout.write(
            f"{total} services in {name!r}; {queries} queries per kind; "
            f"{os.cpu_count()} CPUs, load {load}; {timezone.now():%Y-%m-%d %H:%M} UTC"
        )
        self.stdout.write("times in ms as p50/p95/max; rows: median matches (selector, SQL)")
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.sql_floor = SqlFloor()
        plan = query_plan(queries, rng)
        pairs = misspellings(random.Random(seed), queries)  # noqa: S311 - as above
        self.recall_meant = dict(pairs)
        plan["recall"] = ("misspellings (recall)", [Query(text=typo) for typo, _ in pairs])
        field = field_queries(queries, rng)
        with gunicorn() if http else _no_server() as base:
            if base:
                floor = Timings()
                anonymous = requests.Session()
                root = f"{base}/api/hsds/"
                timed(lambda _: len(get(anonymous, root).content), [0] * queries, floor)
                self.stdout.write(
                    f"{'HTTP floor: GET /api/hsds/ (no query)':<40} http {floor.summary()}"
                )
            for kind in kinds:
                if kind in HTTP_ONLY and not base:
                    self.stdout.write(f"{kind:<40} not run: it is measured over HTTP only (--http)")
                elif kind in plan:
                    label, inputs = plan[kind]
                    self.api_kind(label, inputs, base, anonymous if base else None)
                    if kind == "recall":
                        self.recall(inputs)
                elif kind == "field":
                    self.field_kind(field, base)
                elif kind == "admin_services" and base:
                    self.admin_services(rng, queries, base)
                elif kind == "admin_picker":
                    self.admin_picker(rng, queries, base)
                elif kind == "concurrent" and base:
                    jobs = [(k, q) for k in MIXED_KINDS for q in plan[k][1]]
                    mix = [*jobs, *(("field", q) for q in field)]
                    self.concurrent(base, mix, clients=clients, seconds=seconds, seed=seed)

    def line(self, label: str, inproc: Timings, over_http: Timings, sql: Timings) -> None:
        rows = "-"
        if inproc.rows:
            sql_rows = f"{statistics.median(sql.rows):g}" if sql.rows else "-"
            rows = f"{statistics.median(inproc.rows):g}, {sql_rows}"
        self.stdout.write(
            f"{label:<40} in-process {inproc.summary():<18} http {over_http.summary():<18} "
            f"sql {sql.summary():<16} rows {rows}"
        )
        self.stdout.flush()  # a long run shows each kind as it ends, into a file too

    def api_kind(self, label: str, inputs: list[Query], base: str | None, http) -> None:
        inproc, over_http, sql = Timings(), Timings(), Timings()

        def page(q: Query) -> int:  # as the HSDS list: the capped count, the page's keys, rows
            # Active services only, as the floor (the API lists every status).
            listed = service_at_locations_list(active_only=True, **q.search_kwargs())
            _rows, envelope = paginate(listed, page=1, per_page=PAGE)
            return envelope["total_items"]

        timed(page, inputs, inproc)
        self.sql_floor.prepare(q.text for q in inputs)
        timed(self.sql_floor.run, inputs, sql)
        if base:
            url = f"{base}/api/hsds/service_at_locations"
            timed(lambda q: get(http, url, q.api_params()).json()["total_items"], inputs, over_http)
        self.line(label, inproc, over_http, sql)

    def field_kind(self, inputs: list[Query], base: str | None) -> None:
        inproc, over_http, sql = Timings(), Timings(), Timings()

        def now(q: Query) -> Query:  # the screen asks for "open now", at the time it is asked
            return replace(q, at=timezone.now() if q.at else None)

        # As the screen reads it (responders/field/directory_views.py): page_rows.
        timed(
            lambda q: len(
                page_rows(
                    listed_brief(service_search(**now(q).search_kwargs()), languages=True), 0, 50
                )
            ),
            inputs,
            inproc,
        )
        self.sql_floor.prepare(q.text for q in inputs)
        timed(lambda q: self.sql_floor.run(now(q), page=50, count=False), inputs, sql)
        if base:
            session = bench_session("responder")
            url = f"{base}/field/resources/"
            timed(lambda q: len(get(session, url, field_params(q)).content), inputs, over_http)
        self.line("field app: resources screen (50)", inproc, over_http, sql)

    def admin_services(self, rng: random.Random, n: int, base: str) -> None:
        words = [rng.choice(WORDS) for _ in range(n)]
        session = bench_session("case_manager")
        url = f"{base}/admin/resources/service/"
        over_http, sql = Timings(), Timings()
        timed(lambda w: len(get(session, url, {"q": w}).content), words, over_http)
        self.sql_floor.prepare(words)
        timed(lambda w: self.sql_floor.admin_rows(w)[1], words, sql)
        self.line("admin: service list search box", Timings(), over_http, sql)

    def admin_picker(self, rng: random.Random, n: int, base: str | None) -> None:
        words = [rng.choice([*WORDS, *TYPOS]) for _ in range(n)]
        inproc, over_http, sql = Timings(), Timings(), Timings()
        timed(
            lambda w: len(
                page_rows(listed_brief(service_search(text=w, accepts_referrals=True)), 0, 21)
            ),
            words,
            inproc,
        )
        self.sql_floor.prepare(words)
        timed(
            lambda w: self.sql_floor.run(
                Query(text=w, accepts_referrals=True), page=21, count=False
            ),
            words,
            sql,
        )
        if base:
            session = bench_session("case_manager")
            url = f"{base}/admin/cases/resident/refer/options/"
            timed(lambda w: len(get(session, url, {"term": w}).json()["results"]), words, over_http)
        self.line("admin: referral picker (21)", inproc, over_http, sql)

    def concurrent(self, base: str, jobs: list, *, clients: int, seconds: float, seed: int) -> None:
        """Throughput and latency with `clients` at once: the mix, then the floor (the view
        that reads nothing, as many clients, a quarter of the time)."""
        responder = bench_session("responder")

        def session() -> requests.Session:
            http = requests.Session()
            http.cookies.update(responder.cookies)
            return http

        for label, mix, length in (
            (f"concurrent: {clients} clients, the mix", jobs, seconds),
            (f"concurrent: {clients} clients, floor", [("floor", Query())], seconds / 4),
        ):
            load = concurrent(
                base, mix, clients=clients, seconds=length, session=session, seed=seed
            )
            self.stdout.write(f"{label:<40} http {load.summary()}")
            self.stdout.flush()

    def recall(self, inputs: list[Query]) -> None:
        """recall@PAGE and precision@PAGE of the misspelt queries (not timed)."""
        shares = [
            relevant_share(list(service_search(text=q.text)[:PAGE]), self.recall_meant[q.text])
            for q in inputs
        ]
        self.stdout.write(
            f"  recall@{PAGE} {sum(x > 0 for x in shares) / len(shares):.3f}  "
            f"precision@{PAGE} {statistics.mean(shares):.3f}  ({len(shares)} misspelt queries)"
        )


@contextmanager
def _no_server() -> Iterator[None]:
    yield None
