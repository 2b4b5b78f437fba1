"""Benchmark directory search: `service_search` against the same query in plain SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_dir_bench \\
        .venv/bin/python manage.py generate_directory --services 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_dir_bench \\
        .venv/bin/python manage.py bench_directory_search

Each selector query is what the field app and the API do with a result: count it and load the
first page of 20 (with its prefetches). Queries:

- street corner: "shelter", open at 23:00 tonight, within 3 km of a random point in the city,
  beds free, Spanish;
- typo: a misspelt word over the whole directory (text only), counted and paged as the HSDS
  API does (count capped at 1,000);
- typo in plain SQL: the same page and capped count, two statements, the corrected tsquery
  given;
- recall: misspellings (a letter dropped, two swapped, one replaced) of words drawn from the
  directory's service names, and the common ones of TYPOS, each with the words meant: recall@20
  is the share of queries whose first 20 results hold a service with every meant word in its
  name, organization or terms; precision@20 the mean share of such services in those 20;
- open now: open at a random hour today, whole directory;
- open now in plain SQL: the same rows from the opening intervals in one statement (the floor
  of the open-now query; run `manage.py build_opening_intervals` first);
- street corner in plain SQL: one statement with the same filters, rank and distance, and the
  SQL open-now prefilter (a schedule that may run yesterday or today); service_search then
  judges those candidates' hours exactly in Python (resources/opening_hours.py), which the
  plain SQL does not do.

Refuses to run on a database whose name lacks "bench".
"""

import random
import re
import statistics
import time
from datetime import datetime
from datetime import time as dtime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from resources.api.hsds_pagination import COUNT_CAP, paginate
from resources.models import Service
from resources.opening_hours import WEEKDAYS, candidate_days
from resources.selectors import Point, bounding_box, service_search, text_query

TYPOS = ["shleter", "fod pantry", "detx", "clnic", "counceling", "showres", "legl aid"]
# What each of TYPOS means (recall).
MEANT = {
    "shleter": "shelter",
    "fod pantry": "food pantry",
    "detx": "detox",
    "clnic": "clinic",
    "counceling": "counseling",
    "showres": "showers",
    "legl aid": "legal aid",
}
CITY_LAT = (35.05, 35.15)
CITY_LON = (-106.70, -106.55)
PAGE = 20

# The street-corner query of service_search, written by hand. %(...)s are parameters.
STREET_CORNER_SQL = """
WITH q AS (
  SELECT sal.id,
         2 * 6371.0088 * asin(least(1.0, sqrt(
             power(sin((radians(l.latitude::float) - %(lat)s) / 2), 2)
             + %(coslat)s * cos(radians(l.latitude::float))
               * power(sin((radians(l.longitude::float) - %(lon)s) / 2), 2)))) AS distance_km,
         greatest(
             word_similarity(%(text)s, s.name),
             word_similarity(%(text)s, o.name),
             coalesce((SELECT max(word_similarity(%(text)s, t.name))
                       FROM resources_attribute a
                       JOIN resources_taxonomyterm t ON t.id = a.taxonomy_term_id
                       WHERE a.service_id = s.id
                         AND word_similarity(%(text)s, t.name) >= 0.3), 0),
             word_similarity(%(text)s, s.description) * 0.9) AS rank,
         s.name
  FROM resources_serviceatlocation sal
  JOIN resources_service s ON s.id = sal.service_id
  JOIN resources_organization o ON o.id = s.organization_id
  JOIN resources_location l ON l.id = sal.location_id
  JOIN resources_capacity c ON c.service_at_location_id = sal.id
  WHERE s.status = 'active'
    AND c.available > 0 AND c.updated_at >= %(fresh)s
    AND l.latitude BETWEEN %(min_lat)s AND %(max_lat)s
    AND l.longitude BETWEEN %(min_lon)s AND %(max_lon)s
    AND EXISTS (SELECT 1 FROM resources_language g WHERE upper(g.code) = 'ES'
                AND (g.service_id = s.id OR g.location_id = l.id))
    AND (EXISTS (SELECT 1 FROM resources_schedule h
                 WHERE h.service_at_location_id = sal.id AND {may_run})
         OR EXISTS (SELECT 1 FROM resources_schedule h
                    WHERE h.service_id = s.id AND {may_run})
         OR EXISTS (SELECT 1 FROM resources_schedule h
                    WHERE h.location_id = l.id AND {may_run}))
)
SELECT id, distance_km, rank, count(*) OVER () FROM q
WHERE distance_km <= %(radius)s AND rank >= 0.3
ORDER BY distance_km, rank DESC, name, id
LIMIT {page}
"""

TYPO_MATCH = """
  FROM resources_serviceatlocation sal
  JOIN resources_service s ON s.id = sal.service_id
  JOIN resources_servicesearchdocument d ON d.service_id = s.id
  WHERE s.status = 'active' AND d.document @@ %(q)s::tsquery"""
TYPO_PAGE_SQL = f"""
SELECT sal.id, s.name, ts_rank_cd('{{0.4,1,0.8,1}}', d.document, %(q)s::tsquery) AS rank
{TYPO_MATCH}
ORDER BY rank DESC, s.name, sal.id LIMIT %(page)s"""
TYPO_COUNT_SQL = f"SELECT count(*) FROM (SELECT 1 {TYPO_MATCH} LIMIT %(cap)s) AS m"  # noqa: S608

MAY_RUN = """NOT h.closed
  AND (h.valid_from IS NULL OR h.valid_from <= %(today)s)
  AND (h.valid_to IS NULL OR h.valid_to >= %(yesterday)s)
  AND (h.dtstart IS NULL OR h.dtstart <= %(today)s)
  AND (h.until IS NULL OR h.until >= %(yesterday)s)
  AND (h.byday = '' OR h.freq = 'MONTHLY'
       OR upper(h.byday) LIKE %(day1)s OR upper(h.byday) LIKE %(day2)s)"""


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
    """(misspelt query, the words meant): TYPOS, then one or two words of a random service's
    name with one of them misspelt."""
    queries = [(typo, MEANT[typo]) for typo in TYPOS]
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


# Open now over the whole directory, written by hand over the opening intervals.
OPEN_NOW_SQL = """
SELECT sal.id, count(*) OVER ()
FROM resources_serviceatlocation sal
JOIN resources_service s ON s.id = sal.service_id
WHERE s.status = 'active'
  AND EXISTS (SELECT 1 FROM resources_openinginterval i
              WHERE i.service_at_location_id = sal.id AND i.during @> %(at)s)
ORDER BY s.name, sal.id
LIMIT {page}
"""


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[max(0, int(len(sorted_ms) * p) - 1)]


class Command(BaseCommand):
    help = "Time directory search over a generated directory (see docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument(
            "--only",
            choices=["street", "typo", "typosql", "open", "open_sql", "sql", "recall"],
            action="append",
            default=None,
        )
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, queries, seed, only, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to benchmark {name!r}: use a *bench* database.")
        if queries < 1:
            raise CommandError("--queries must be at least 1.")
        total = Service.objects.count()
        if total == 0:
            raise CommandError("No services: run manage.py generate_directory first.")
        self.stdout.write(f"{total} services in {name!r}; {queries} queries each.")
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        today = timezone.localdate()
        tonight = timezone.make_aware(datetime.combine(today, dtime(23)))
        points = [
            Point(round(rng.uniform(*CITY_LAT), 6), round(rng.uniform(*CITY_LON), 6))
            for _ in range(queries)
        ]
        hours = [
            timezone.make_aware(datetime.combine(today, dtime(rng.randrange(24), 30)))
            for _ in range(queries)
        ]
        typos = [TYPOS[i % len(TYPOS)] for i in range(queries)]
        runs = {
            "street": ("street corner (ORM)", points, lambda p: self.street(p, tonight)),
            "sql": ("street corner (SQL)", points, lambda p: self.street_sql(p, tonight)),
            "typo": ("typo, text only", typos, self.typo),
            "typosql": ("typo (SQL)", typos, self.typo_sql),
            "open": ("open now only", hours, self.open_now),
            "recall": ("misspellings, recall", misspellings(rng, queries), self.recall_one),
            "open_sql": ("open now only (SQL)", hours, self.open_now_sql),
        }
        self.recall_hits: list[tuple[bool, float]] = []
        self.tsqueries: dict = {}
        for key in only or ["street", "sql", "typo", "typosql", "open", "open_sql"]:
            label, inputs, runner = runs[key]
            for warm in inputs[:5]:
                runner(warm)
            timings, found = [], []
            for i, value in enumerate(inputs):
                start = time.perf_counter()
                found.append(runner(value))
                timings.append((time.perf_counter() - start) * 1000)
                if (i + 1) % 50 == 0 and i + 1 < len(inputs):
                    self.stderr.write(f"  {label}: {i + 1}/{len(inputs)}")
            timings.sort()
            self.stdout.write(
                f"{label:<22} n={len(timings)} median={statistics.median(timings):.1f} ms "
                f"p95={percentile(timings, 0.95):.1f} ms max={timings[-1]:.1f} ms "
                f"rows: median {statistics.median(found):g}, max {max(found)}"
            )
            if key == "recall":
                hits = self.recall_hits[-len(inputs) :]
                self.stdout.write(
                    f"  recall@{PAGE} {sum(h for h, _ in hits) / len(hits):.3f}  "
                    f"precision@{PAGE} {statistics.mean(p for _, p in hits):.3f}  "
                    f"({len(hits)} misspelt queries)"
                )

    def page(self, qs) -> int:
        count = qs.count()
        list(qs[:PAGE])
        return count

    def street(self, point: Point, at: datetime) -> int:
        return self.page(
            service_search(
                text="shelter",
                open_now=True,
                at=at,
                near=point,
                radius_km=3,
                has_capacity=True,
                language="es",
            )
        )

    def typo(self, text: str) -> int:
        # As the HSDS API pages it: the count capped at COUNT_CAP (docs/directory.md).
        _rows, envelope = paginate(service_search(text=text), page=1, per_page=PAGE)
        return envelope["total_items"]

    def typo_sql(self, text: str) -> int:
        """The floor: the page and the capped count, two plain statements over the same
        tables with the corrected tsquery given (what text_query makes, outside the timing)."""
        query = self.tsqueries.get(text) or self.tsqueries.setdefault(text, text_query(text))
        with connection.cursor() as cursor:
            cursor.execute(TYPO_PAGE_SQL, {"q": query.tsquery, "page": PAGE})
            cursor.fetchall()
            cursor.execute(TYPO_COUNT_SQL, {"q": query.tsquery, "cap": COUNT_CAP + 1})
            return cursor.fetchone()[0]

    def recall_one(self, query: tuple[str, str]) -> int:
        typo, meant = query
        rows = list(service_search(text=typo)[:PAGE])
        words = meant.split()
        relevant = 0
        for sal in rows:
            terms = " ".join(a.taxonomy_term.name for a in sal.service.attributes.all())
            haystack = f"{sal.service.name} {sal.service.organization.name} {terms}".lower()
            if all(re.search(rf"\b{re.escape(w)}", haystack) for w in words):
                relevant += 1
        self.recall_hits.append((relevant > 0, relevant / len(rows) if rows else 0.0))
        return len(rows)

    def open_now(self, at: datetime) -> int:
        return self.page(service_search(open_now=True, at=at))

    def open_now_sql(self, at: datetime) -> int:
        with connection.cursor() as cursor:
            cursor.execute(OPEN_NOW_SQL.format(page=PAGE), {"at": at})
            rows = cursor.fetchall()
        return rows[0][1] if rows else 0

    def street_sql(self, point: Point, at: datetime) -> int:
        import math

        from resources.models import capacity_stale_after

        yesterday, today = candidate_days(at)
        min_lat, max_lat, min_lon, max_lon = bounding_box(point, 3)
        params = {
            "text": "shelter",
            "lat": math.radians(point.latitude),
            "lon": math.radians(point.longitude),
            "coslat": math.cos(math.radians(point.latitude)),
            "fresh": timezone.now() - capacity_stale_after(),
            "min_lat": min_lat,
            "max_lat": max_lat,
            "min_lon": min_lon,
            "max_lon": max_lon,
            "radius": 3,
            "today": today,
            "yesterday": yesterday,
            "day1": f"%{WEEKDAYS[yesterday.weekday()]}%",
            "day2": f"%{WEEKDAYS[today.weekday()]}%",
        }
        sql = STREET_CORNER_SQL.format(may_run=MAY_RUN, page=PAGE)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return rows[0][3] if rows else 0
