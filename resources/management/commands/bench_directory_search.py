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

Then the field app's resources screen (responders/field/views.py) and the admin's directory searches
(the service changelist's search box, and the referral picker of the resident page) over HTTP
as signed-in users: a bench responder, and a bench case manager whose session is made here
through django.contrib.auth's login and allauth's authentication records (password and second
factor), as a browser sign-in with TOTP leaves it.

Refuses to run on a database whose name lacks "bench".
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from datetime import time as dtime

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from acs.embedded import database_url as embedded_database_url
from resources.api.hsds_pagination import COUNT_CAP, paginate
from resources.models import EARTH_RADIUS_KM, Service, TaxonomyTerm, capacity_stale_after
from resources.selectors import Point, service_search, text_query
from resources.selectors.directory.text import TEXT_WEIGHTS

PAGE = 20
CITY_LAT = (35.05, 35.15)
CITY_LON = (-106.70, -106.55)
WORDS = [
    "shelter", "food pantry", "dental", "detox", "counseling", "legal aid", "showers",
    "rental assistance", "bus pass", "birth certificate", "naloxone", "veterans", "comida",
    "albergue", "clinic", "job training", "laundry", "hot meals", "crisis", "housing",
]  # fmt: skip
# Common misspellings and the words meant (recall).
MEANT = {
    "shleter": "shelter", "fod pantry": "food pantry", "detx": "detox", "clnic": "clinic",
    "counceling": "counseling", "showres": "showers", "legl aid": "legal aid",
    "dentl": "dental", "vetrans": "veterans", "benifits": "benefits",
    "transportaion": "transportation", "laundy": "laundry", "hosuing": "housing",
    "naloxon": "naloxone", "albege": "albergue", "comda": "comida", "crisiss": "crisis",
    "hot mels": "hot meals", "rentl asistance": "rental assistance",
    "birth certficate": "birth certificate",
}  # fmt: skip
TYPOS = list(MEANT)
RECALL_TYPOS = 7  # the recall sample starts with the first seven (main's list before this one)
LANGUAGES = ["es", "es", "es", "nv", "vi", "ar", "zh", "ker"]


@dataclass(frozen=True)
class Query:
    text: str = ""
    term: TaxonomyTerm | None = None
    near: Point | None = None
    radius_km: float | None = None
    at: datetime | None = None
    has_capacity: bool = False
    language: str = ""
    accepts_referrals: bool | None = None

    def search_kwargs(self) -> dict:
        return {
            "text": self.text,
            "taxonomy_terms": [self.term] if self.term else [],
            "near": self.near,
            "radius_km": self.radius_km,
            "open_now": self.at is not None,
            "at": self.at,
            "has_capacity": self.has_capacity,
            "language": self.language,
            "accepts_referrals": self.accepts_referrals,
        }

    def api_params(self) -> dict:
        params: dict = {"per_page": PAGE}
        if self.text:
            params["search"] = self.text
        if self.term:
            params["taxonomy_term_id"] = str(self.term.public_id)
        if self.near:
            params["latitude"], params["longitude"] = self.near.latitude, self.near.longitude
        if self.radius_km:
            params["radius_km"] = self.radius_km
        if self.at:
            params["open_at"] = self.at.isoformat()
        if self.has_capacity:
            params["has_capacity"] = "true"
        if self.language:
            params["language"] = self.language
        return params


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

TEXT_RANK_SQL = "ts_rank_cd(%(weights)s::float4[], d.document, %(tsq)s::tsquery)"
POINT_SQL = "resources_earth_point(l.latitude::float8, l.longitude::float8)"
CHORD_SQL = f"({POINT_SQL} <-> resources_earth_point(%(lat)s, %(lon)s))"
DISTANCE_SQL = f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, {CHORD_SQL} / (2 * {EARTH_RADIUS_KM}))))"
# Open at %(at)s: one of the row's opening intervals holds the instant (the GiST index on
# `during`), as open_at_condition.
OPEN_SQL = """EXISTS (SELECT 1 FROM resources_openinginterval i
    WHERE i.service_at_location_id = sal.id AND i.during @> %(at)s)"""


def plain_sql(q: Query, tsquery: str | None, *, page: int = PAGE) -> tuple[str, str, dict]:
    """The statements returning the rows service_search returns for `q`: the ids of the first
    page, and the count capped as the HSDS API's (`capped_count`). `tsquery` is what
    text_query made of `q.text` (None: nothing to search for, no row)."""
    where = ["s.status = 'active'"]
    joins = ""
    params: dict = {}
    order = []
    select_rank = "0.0"
    if q.accepts_referrals is not None:
        where.append("s.accepts_referrals = %(referrals)s")
        params["referrals"] = q.accepts_referrals
    if q.term is not None:
        children = TaxonomyTerm.objects.filter(parent=q.term).values_list("id", flat=True)
        where.append(
            "EXISTS (SELECT 1 FROM resources_attribute a WHERE a.service_id = s.id"
            " AND a.taxonomy_term_id = ANY(%(terms)s))"
        )
        params["terms"] = [q.term.pk, *children]
    if q.language:
        where.append(
            "EXISTS (SELECT 1 FROM resources_language g WHERE upper(g.code) = upper(%(lang)s)"
            " AND (g.service_id = s.id OR g.location_id = l.id))"
        )
        params["lang"] = q.language
    if q.has_capacity:
        where.append("c.available > 0 AND c.updated_at >= %(fresh)s")
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
            where.append("l.latitude IS NOT NULL AND l.longitude IS NOT NULL")
        order.append(CHORD_SQL)
    if q.text.strip():
        if tsquery is None:
            where.append("false")
        else:
            joins = "JOIN resources_servicesearchdocument d ON d.service_id = s.id"
            params["tsq"] = tsquery
            params["weights"] = list(TEXT_WEIGHTS)
            where.append("d.document @@ %(tsq)s::tsquery")
            select_rank = TEXT_RANK_SQL
            order.append("rank DESC")
    if q.at is not None:
        params["at"] = q.at
        where.append(OPEN_SQL)
    order += ["s.name", "sal.id"]
    from_where = f"""FROM resources_serviceatlocation sal
JOIN resources_service s ON s.id = sal.service_id
JOIN resources_location l ON l.id = sal.location_id
LEFT JOIN resources_capacity c ON c.service_at_location_id = sal.id
{joins}
WHERE {" AND ".join(where)}"""
    page_sql = f"""SELECT sal.id, {select_rank} AS rank {from_where}
ORDER BY {", ".join(order)}
LIMIT {int(page)}"""
    count_sql = f"SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {COUNT_CAP + 1}) AS m"  # noqa: S608
    return page_sql, count_sql, params


class SqlFloor:
    """run(q): the plain SQL of `q` (the page, then with `count` the capped count); the
    tsquery of each text is made once, by text_query, before any timing (prepare)."""

    def __init__(self):
        self.tsqueries: dict[str, str | None] = {}

    def prepare(self, texts) -> None:
        for text in texts:
            if text.strip() and text not in self.tsqueries:
                query = text_query(text)
                self.tsqueries[text] = query.tsquery if query else None

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


# --- gunicorn and the signed-in users --------------------------------------------------------


def database_url() -> str:
    """This connection's database as a DATABASE_URL (the embedded server's socket too)."""
    return embedded_database_url(connection.settings_dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(workers: int = 2) -> Iterator[str]:
    """gunicorn with the project's settings (acs/gunicorn_conf.py) on a free port, on this
    database, DEBUG off; yields its base URL and stops it on the way out."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "0", "WEB_CONCURRENCY": "2"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            *(sys.executable, "-m", "gunicorn", "-c", "python:acs.gunicorn_conf"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
            *("--access-logfile", "/dev/null", "acs.wsgi"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two workers booting on a loaded machine
        while True:
            try:
                if requests.get(f"{base}/api/hsds/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening or still booting
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise CommandError(f"gunicorn did not start:\n{tail}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def bench_session(role: str) -> requests.Session:
    """A signed-in HTTP session of a bench user of `role`, made on the server as a sign-in
    leaves it: django.contrib.auth's login, and allauth's records of the password and (for desk
    staff, acs/mfa.py) the second factor."""
    # allauth's own writer of those records (its sign-in flows call it; internal module).
    from allauth.account.internal.flows.login import record_authentication
    from django.contrib.auth import get_user_model, login
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from acs.roles import STAFF_ROLES

    user, _ = get_user_model().objects.get_or_create(
        username=f"bench-{role}",
        defaults={"email": f"bench-{role}@example.org", "is_staff": role in STAFF_ROLES},
    )
    user.groups.add(Group.objects.get(name=role))
    request = RequestFactory().get("/")
    request.session = SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    record_authentication(request, user, method="password")
    if role in STAFF_ROLES:
        record_authentication(request, user, method="mfa", type="totp")
    request.session.save()
    http = requests.Session()
    http.cookies.set(settings.SESSION_COOKIE_NAME, request.session.session_key)
    return http


def get(http: requests.Session, url: str, params: dict | None = None) -> requests.Response:
    response = http.get(url, params=params, timeout=60, allow_redirects=False)
    if response.status_code != 200:
        raise CommandError(f"GET {response.url} answered {response.status_code}")
    return response


# --- the kinds -------------------------------------------------------------------------------


def misspell(word: str, rng: random.Random) -> str:
    """One edit a hurried typist makes: a letter dropped, two neighbours swapped, one replaced."""
    i = rng.randrange(1, len(word) - 1)  # keep the first letter, as people mostly do
    kind = rng.choice(["delete", "swap", "replace"])
    if kind == "delete":
        return word[:i] + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != word[i]])
    return word[:i] + letter + word[i + 1 :]


def misspellings(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(misspelt query, the words meant): the first RECALL_TYPOS of TYPOS, then one or two
    words of a random service's name with one of them misspelt."""
    queries = [(typo, MEANT[typo]) for typo in TYPOS[:RECALL_TYPOS]]
    names = list(Service.objects.order_by("id").values_list("name", flat=True))
    for name in rng.sample(names, min(len(names), count * 2)):
        if len(queries) >= count:
            break
        words = [w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 4]
        if not words:
            continue
        start = rng.randrange(len(words))
        meant = words[start : start + rng.choice([1, 2])]
        target = rng.randrange(len(meant))
        typo = [misspell(w, rng) if i == target else w for i, w in enumerate(meant)]
        queries.append((" ".join(typo), " ".join(meant)))
    return queries[:count]


def relevant_share(rows: list, meant: str) -> float:
    """The share of `rows` (services at locations) with every word of `meant` in the service's
    name, its organization's name or its taxonomy terms."""
    if not rows:
        return 0.0
    words = meant.split()
    relevant = 0
    for sal in rows:
        terms = " ".join(a.taxonomy_term.name for a in sal.service.attributes.all())
        haystack = f"{sal.service.name} {sal.service.organization.name} {terms}".lower()
        if all(re.search(rf"\b{re.escape(w)}", haystack) for w in words):
            relevant += 1
    return relevant / len(rows)


def _queries(n: int, rng: random.Random) -> dict[str, tuple[str, list[Query]]]:
    today = timezone.localdate()
    terms = list(TaxonomyTerm.objects.filter(taxonomy__name="ACS needs").order_by("code"))

    def point() -> Point:
        return Point(round(rng.uniform(*CITY_LAT), 6), round(rng.uniform(*CITY_LON), 6))

    def instant(hours: range = range(24)) -> datetime:
        clock = dtime(rng.choice(hours), rng.randrange(60))
        return timezone.make_aware(datetime.combine(today, clock))

    def word(pool: list[str]) -> str:
        return rng.choice(pool)

    def make(build: Callable[[], Query]) -> list[Query]:
        return [build() for _ in range(n)]

    night = range(18, 24)
    return {
        "text": ("text only (correct words)", make(lambda: Query(text=word(WORDS)))),
        "typo": ("a misspelt word", make(lambda: Query(text=word(TYPOS)))),
        "open": ("open now only", make(lambda: Query(at=instant()))),
        "taxonomy": ("one taxonomy term", make(lambda: Query(term=rng.choice(terms)))),
        "near": ("within 5 km, nearest first", make(lambda: Query(near=point(), radius_km=5))),
        "language": ("language", make(lambda: Query(language=word(LANGUAGES)))),
        "capacity": ("places free", make(lambda: Query(has_capacity=True))),
        "street": (
            "street corner (text+open+3 km+free+es)",
            make(
                lambda: Query(
                    text="shelter",
                    at=instant(night),
                    near=point(),
                    radius_km=3,
                    has_capacity=True,
                    language="es",
                )
            ),
        ),
        "text_near": (
            "text + within 5 km",
            make(lambda: Query(text=word(WORDS), near=point(), radius_km=5)),
        ),
        "taxonomy_open": (
            "taxonomy term + open now",
            make(lambda: Query(term=rng.choice(terms), at=instant())),
        ),
        "language_free_near": (
            "language + places free + 5 km",
            make(lambda: Query(language="es", has_capacity=True, near=point(), radius_km=5)),
        ),
    }


def _field_queries(n: int, rng: random.Random) -> list[Query]:
    """What responders send from the resources screen: a word or none, often open now, places
    free or Spanish, nearest first from where the tablet is (no radius)."""
    out = []
    for _ in range(n):
        out.append(
            Query(
                text=rng.choice(["", "", *WORDS, *TYPOS[:5]]),
                at=timezone.now() if rng.random() < 0.6 else None,
                has_capacity=rng.random() < 0.3,
                language="es" if rng.random() < 0.3 else "",
                near=Point(round(rng.uniform(*CITY_LAT), 6), round(rng.uniform(*CITY_LON), 6)),
            )
        )
    return out


def _field_params(q: Query) -> dict:
    params = {"lat": q.near.latitude, "lon": q.near.longitude}
    if q.text:
        params["q"] = q.text
    if q.at:
        params["open_now"] = "1"
    if q.has_capacity:
        params["has_capacity"] = "1"
    if q.language:
        params["language"] = q.language
    return params


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
]


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

    def handle(self, *args, queries, seed, only, http, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to benchmark {name!r}: use a *bench* database.")
        if queries < 1:
            raise CommandError("--queries must be at least 1.")
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
        plan = _queries(queries, rng)
        pairs = misspellings(random.Random(seed), queries)  # noqa: S311 - as above
        self.recall_meant = dict(pairs)
        plan["recall"] = ("misspellings (recall)", [Query(text=typo) for typo, _ in pairs])
        field = _field_queries(queries, rng)
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
                if kind in plan:
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
            _rows, envelope = paginate(service_search(**q.search_kwargs()), page=1, per_page=PAGE)
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

        timed(lambda q: len(list(service_search(**now(q).search_kwargs())[:50])), inputs, inproc)
        self.sql_floor.prepare(q.text for q in inputs)
        timed(lambda q: self.sql_floor.run(now(q), page=50, count=False), inputs, sql)
        if base:
            session = bench_session("responder")
            url = f"{base}/field/resources/"
            timed(lambda q: len(get(session, url, _field_params(q)).content), inputs, over_http)
        self.line("field app: resources screen (50)", inproc, over_http, sql)

    def admin_services(self, rng: random.Random, n: int, base: str) -> None:
        words = [rng.choice(WORDS) for _ in range(n)]
        session = bench_session("case_manager")
        url = f"{base}/admin/resources/service/"
        over_http = Timings()
        timed(lambda w: len(get(session, url, {"q": w}).content), words, over_http)
        self.line("admin: service list search box", Timings(), over_http, Timings())

    def admin_picker(self, rng: random.Random, n: int, base: str | None) -> None:
        words = [rng.choice([*WORDS, *TYPOS]) for _ in range(n)]
        inproc, over_http, sql = Timings(), Timings(), Timings()
        timed(
            lambda w: len(list(service_search(text=w, accepts_referrals=True)[:21])), words, inproc
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
