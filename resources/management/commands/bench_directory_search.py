"""Benchmark every way into the directory, beside its floors (docs/benchmarks.md, #18).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_dir_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py generate_directory --services 20000
    .venv/bin/python manage.py bench_directory_search --queries 50

Each query kind runs `--queries` varied queries (words, misspellings, points, hours, terms,
languages drawn with a fixed seed), timed three ways in the same run:

- in process: `resources.selectors.service_search`, counted and its first page of 20 loaded
  (what the HSDS API does with it, without serializing);
- over HTTP: `/api/hsds/service_at_locations` (the HSDS endpoint over service_search; the
  `/api/hsds/services` list takes only text and terms) served by gunicorn with 2 workers, started
  here on a free port with this database (`--no-http` leaves it out);
- the floors: one plain SQL statement per query returning the same rows (count and first page,
  opening hours judged in SQL by date and time of day with the levels' precedence and closures),
  and a plain HTTP client's round trip to a view that reads nothing (`/api/hsds/`).

Then the field app's resources screen (responders/views.py) and the admin's directory searches
(the service changelist's search box, and the referral picker of the resident page) over HTTP
as signed-in users: a bench responder, and a bench case manager whose session is made here
through django.contrib.auth's login and allauth's authentication records (password and second
factor), as a browser sign-in with TOTP leaves it.

Refuses to run on a database whose name lacks "bench".
"""

from __future__ import annotations

import argparse
import calendar
import math
import os
import random
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
from datetime import date, datetime, timedelta
from datetime import time as dtime
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from resources.models import EARTH_RADIUS_KM, Service, TaxonomyTerm, capacity_stale_after
from resources.opening_hours import DEPARTMENT_TZ, WEEKDAYS
from resources.selectors import MIN_TEXT_RANK, Point, service_search

PAGE = 20
CITY_LAT = (35.05, 35.15)
CITY_LON = (-106.70, -106.55)
WORDS = [
    "shelter", "food pantry", "dental", "detox", "counseling", "legal aid", "showers",
    "rental assistance", "bus pass", "birth certificate", "naloxone", "veterans", "comida",
    "albergue", "clinic", "job training", "laundry", "hot meals", "crisis", "housing",
]  # fmt: skip
TYPOS = [
    "shleter", "fod pantry", "detx", "clnic", "counceling", "showres", "legl aid", "dentl",
    "vetrans", "benifits", "transportaion", "laundy", "hosuing", "naloxon", "albege", "comda",
    "crisiss", "hot mels", "rentl asistance", "birth certficate",
]  # fmt: skip
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

TEXT_RANK_SQL = """greatest(
    word_similarity(%(text)s, s.name),
    word_similarity(%(text)s, o.name),
    coalesce((SELECT max(word_similarity(%(text)s, t.name)) FROM resources_attribute a
              JOIN resources_taxonomyterm t ON t.id = a.taxonomy_term_id
              WHERE a.service_id = s.id AND %(text)s <%% t.name), 0),
    word_similarity(%(text)s, s.description) * 0.9)"""
TEXT_MATCH_SQL = """(%(text)s <%% s.name OR %(text)s <%% s.description OR %(text)s <%% o.name
    OR EXISTS (SELECT 1 FROM resources_attribute a JOIN resources_taxonomyterm t
               ON t.id = a.taxonomy_term_id WHERE a.service_id = s.id AND %(text)s <%% t.name))"""
POINT_SQL = "resources_earth_point(l.latitude::float8, l.longitude::float8)"
CHORD_SQL = f"({POINT_SQL} <-> resources_earth_point(%(lat)s, %(lon)s))"
DISTANCE_SQL = f"(2 * {EARTH_RADIUS_KM} * asin(least(1.0, {CHORD_SQL} / (2 * {EARTH_RADIUS_KM}))))"
# A schedule h has a session starting on %(d)s (validity, weekdays, nth weekday of the month).
RUNS_ON_SQL = """(NOT h.closed
    AND (h.valid_from IS NULL OR h.valid_from <= %(d)s)
    AND (h.valid_to IS NULL OR h.valid_to >= %(d)s)
    AND (h.dtstart IS NULL OR h.dtstart <= %(d)s) AND (h.until IS NULL OR h.until >= %(d)s)
    AND (h.byday = '' OR string_to_array(upper(h.byday), ',') && %(d_days)s::text[]))"""
CLOSED_ON_SQL = " OR ".join(
    f"""EXISTS (SELECT 1 FROM resources_schedule z WHERE z.{col} = {ref} AND z.closed
    AND z.valid_from <= %(d)s AND coalesce(z.valid_to, z.valid_from) >= %(d)s)"""  # noqa: S608
    for col, ref in (
        ("service_at_location_id", "sal.id"),
        ("service_id", "s.id"),
        ("location_id", "l.id"),
    )
)
REGULAR_SQL = "EXISTS (SELECT 1 FROM resources_schedule x WHERE NOT x.closed AND x.{col} = {ref})"
# A session of a schedule at one level starting today, or yesterday and running past midnight,
# covers %(time)s (one EXISTS per level and day, each on its foreign-key index).
TODAY_SQL = """EXISTS (SELECT 1 FROM resources_schedule h WHERE h.{col} = {ref} AND {runs}
    AND coalesce(h.opens_at, '00:00') <= %(time)s
    AND (h.closes_at IS NULL OR h.closes_at <= h.opens_at OR %(time)s < h.closes_at))"""
YESTERDAY_SQL = """EXISTS (SELECT 1 FROM resources_schedule h WHERE h.{col} = {ref} AND {runs}
    AND h.closes_at < h.opens_at AND %(time)s < h.closes_at)"""
LEVELS = [("service_at_location_id", "sal.id"), ("service_id", "s.id"), ("location_id", "l.id")]


def _open_sql() -> str:
    """Open at %(time)s on %(today)s, as opening_hours.is_open over effective_schedules: the
    regular hours of the most specific level that has any, on days without a closure."""
    runs_today = RUNS_ON_SQL.replace("%(d)s", "%(today)s").replace("%(d_days)s", "%(today_days)s")
    runs_yday = RUNS_ON_SQL.replace("%(d)s", "%(yesterday)s").replace(
        "%(d_days)s", "%(yesterday_days)s"
    )
    closed_today = CLOSED_ON_SQL.replace("%(d)s", "%(today)s")
    closed_yday = CLOSED_ON_SQL.replace("%(d)s", "%(yesterday)s")

    def covered(col: str, ref: str) -> str:
        today = TODAY_SQL.format(col=col, ref=ref, runs=runs_today)
        yday = YESTERDAY_SQL.format(col=col, ref=ref, runs=runs_yday)
        return f"((NOT ({closed_today}) AND {today}) OR (NOT ({closed_yday}) AND {yday}))"

    (sal, sal_ref), (svc, svc_ref), (loc, loc_ref) = LEVELS
    has_sal = REGULAR_SQL.format(col=sal, ref=sal_ref)
    has_svc = REGULAR_SQL.format(col=svc, ref=svc_ref)
    return f"""(CASE WHEN {has_sal} THEN {covered(sal, sal_ref)}
    WHEN {has_svc} THEN {covered(svc, svc_ref)} ELSE {covered(loc, loc_ref)} END)"""


def _day_tokens(day: date) -> list[str]:
    """The BYDAY tokens that match `day`: its weekday, and its place in the month (1SA, -1SA)."""
    code = WEEKDAYS[day.weekday()]
    nth = (day.day - 1) // 7 + 1
    last = -((calendar.monthrange(day.year, day.month)[1] - day.day) // 7 + 1)
    return [code, f"{nth}{code}", f"+{nth}{code}", f"{last}{code}"]


def plain_sql(q: Query, *, page: int = PAGE, count: bool = True) -> tuple[str, dict]:
    """One statement returning the rows service_search returns for `q`: ids of the page and
    (with `count`) the number of matches."""
    where = ["s.status = 'active'"]
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
    if q.text:
        params["text"] = q.text
        params["min_rank"] = MIN_TEXT_RANK
        where.append(f"{TEXT_MATCH_SQL} AND {TEXT_RANK_SQL} >= %(min_rank)s")
        select_rank = TEXT_RANK_SQL
        order.append("rank DESC")
    if q.at is not None:
        local = q.at.astimezone(DEPARTMENT_TZ)
        today = local.date()
        yesterday = today - timedelta(days=1)
        params.update(
            time=local.time(),
            today=today,
            yesterday=yesterday,
            today_days=_day_tokens(today),
            yesterday_days=_day_tokens(yesterday),
        )
        where.append(_open_sql())
    order += ["s.name", "sal.id"]
    total = "count(*) OVER ()" if count else "0"
    sql = f"""SELECT sal.id, {select_rank} AS rank, {total}
FROM resources_serviceatlocation sal
JOIN resources_service s ON s.id = sal.service_id
JOIN resources_organization o ON o.id = s.organization_id
JOIN resources_location l ON l.id = sal.location_id
LEFT JOIN resources_capacity c ON c.service_at_location_id = sal.id
WHERE {" AND ".join(where)}
ORDER BY {", ".join(order)}
LIMIT {int(page)}"""  # noqa: S608 - our own fragments; values are parameters
    return sql, params


def run_sql(q: Query, *, page: int = PAGE, count: bool = True) -> int:
    sql, params = plain_sql(q, page=page, count=count)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not count:
        return len(rows)
    return rows[0][2] if rows else 0


@contextmanager
def trigram_threshold() -> Iterator[None]:
    """The `<%` operator's cut-off at the search's rank (service_search sets it per query)."""
    with connection.cursor() as cursor:
        cursor.execute("SET pg_trgm.word_similarity_threshold = %s", [MIN_TEXT_RANK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET pg_trgm.word_similarity_threshold")


# --- gunicorn and the signed-in users --------------------------------------------------------


def database_url() -> str:
    """This connection's database as a DATABASE_URL (the embedded server's socket too)."""
    d = connection.settings_dict
    auth = quote(d["USER"] or "", safe="")
    if d.get("PASSWORD"):
        auth += ":" + quote(d["PASSWORD"], safe="")
    host = quote(d["HOST"] or "localhost", safe="")
    port = f":{d['PORT']}" if d.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(d['NAME'], safe='')}"


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
        deadline = time.monotonic() + 60
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
        plan = _queries(queries, rng)
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

        def page(q: Query) -> int:
            qs = service_search(**q.search_kwargs())
            count = qs.count()
            list(qs[:PAGE])
            return count

        timed(page, inputs, inproc)
        with trigram_threshold():
            timed(run_sql, inputs, sql)
        if base:
            url = f"{base}/api/hsds/service_at_locations"
            timed(lambda q: get(http, url, q.api_params()).json()["total_items"], inputs, over_http)
        self.line(label, inproc, over_http, sql)

    def field_kind(self, inputs: list[Query], base: str | None) -> None:
        inproc, over_http, sql = Timings(), Timings(), Timings()

        def now(q: Query) -> Query:  # the screen asks for "open now", at the time it is asked
            return replace(q, at=timezone.now() if q.at else None)

        timed(lambda q: len(list(service_search(**now(q).search_kwargs())[:50])), inputs, inproc)
        with trigram_threshold():
            timed(lambda q: run_sql(now(q), page=50, count=False), inputs, sql)
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
        with trigram_threshold():
            timed(
                lambda w: run_sql(Query(text=w, accepts_referrals=True), page=21, count=False),
                words,
                sql,
            )
        if base:
            session = bench_session("case_manager")
            url = f"{base}/admin/cases/resident/refer/options/"
            timed(lambda w: len(get(session, url, {"term": w}).json()["results"]), words, over_http)
        self.line("admin: referral picker (21)", inproc, over_http, sql)


@contextmanager
def _no_server() -> Iterator[None]:
    yield None
