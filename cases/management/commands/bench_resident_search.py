"""Benchmark resident search: the selector against the same query in plain SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_bench \\
        .venv/bin/python manage.py bench_resident_search --residents 500000

Generates synthetic residents (in SQL, in one statement) up to the requested count, then times
`resident_candidates` with misspelt names, with and without a date of birth, and the plain SQL
that does the same work. Refuses to run on a database whose name lacks "bench".
"""

import random
import statistics
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cases.models import Resident
from cases.selectors import normalize_name, resident_candidates

FIRST = [
    "maria",
    "jose",
    "juan",
    "ana",
    "luis",
    "carmen",
    "miguel",
    "rosa",
    "jesus",
    "elena",
    "david",
    "sarah",
    "james",
    "linda",
    "robert",
    "patricia",
    "michael",
    "jennifer",
    "daniel",
    "marisol",
    "roberto",
    "lupe",
    "francisco",
    "teresa",
    "antonio",
    "yolanda",
    "manuel",
    "sunny",
    "tyler",
    "crystal",
    "dakota",
    "shawna",
    "ramon",
    "lorena",
    "arturo",
    "beatriz",
]
LAST = [
    "garcia",
    "martinez",
    "lopez",
    "chavez",
    "sanchez",
    "romero",
    "baca",
    "gallegos",
    "lucero",
    "montoya",
    "trujillo",
    "jaramillo",
    "smith",
    "johnson",
    "begay",
    "yazzie",
    "tsosie",
    "benally",
    "archuleta",
    "ortega",
    "vigil",
    "padilla",
    "armijo",
    "sandoval",
    "aragon",
    "maestas",
    "gonzales",
    "herrera",
    "apodaca",
    "duran",
    "salazar",
    "tafoya",
    "brown",
    "lee",
]
STREET = ["red", "shorty", "flaco", "tiny", "doc", "blue", "preacher", "slim", "gordo", "sunny"]

SQL = """
SELECT id, word_similarity(%(q)s, search_names) AS score
FROM cases_resident
WHERE merged_into_id IS NULL AND %(q)s <%% search_names {dob}
ORDER BY score DESC, id LIMIT 10
"""


def misspell(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # swap two letters


class Command(BaseCommand):
    help = "Time resident search over many generated residents (see docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=500_000)
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, residents, queries, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to add rows to {name!r}: use a *bench* database.")
        self.generate(residents)
        rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
        cases = []
        for _ in range(queries):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            dob = date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
            cases.append((misspell(rng, f"{first} {last}"), dob if rng.random() < 0.5 else None))
        for label, runner in (("selector (ORM)", self.orm), ("plain SQL", self.sql)):
            for warm in cases[:10]:
                runner(*warm)
            timings = []
            for q, dob in cases:
                start = time.perf_counter()
                runner(q, dob)
                timings.append((time.perf_counter() - start) * 1000)
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            self.stdout.write(
                f"{label:<15} n={len(timings)} median={statistics.median(timings):.1f} ms "
                f"p95={p95:.1f} ms max={timings[-1]:.1f} ms"
            )

    def orm(self, q, dob):
        return resident_candidates(name=q, date_of_birth=dob, limit=10)

    def sql(self, q, dob):
        dob_sql = ""
        params = {"q": normalize_name(q)}
        if dob is not None:
            dob_sql = (
                "AND (date_of_birth = %(dob)s OR (dob_quality = 'approximate' "
                "AND date_of_birth BETWEEN %(jan1)s AND %(dec31)s))"
            )
            params.update(dob=dob, jan1=date(dob.year, 1, 1), dec31=date(dob.year, 12, 31))
        with connection.cursor() as cursor:
            cursor.execute(SQL.format(dob=dob_sql), params)
            return cursor.fetchall()

    def generate(self, wanted: int) -> None:
        have = Resident.objects.count()
        missing = wanted - have
        if missing <= 0:
            self.stdout.write(f"{have} residents already there.")
            return
        self.stdout.write(f"Generating {missing} residents ...")
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO cases_resident (
                    public_id, created_at, updated_at, preferred_name, legal_name, aliases,
                    date_of_birth, dob_quality, gender, race_ethnicity, veteran_status,
                    preferred_language, phone, email, where_to_find_me, housing_status,
                    safety_flags, search_names, search_keys)
                SELECT gen_random_uuid(), now(), now(), f, f || ' ' || l,
                       CASE WHEN s IS NULL THEN '{}'::varchar[] ELSE ARRAY[s]::varchar[] END,
                       dob, CASE WHEN i %% 7 = 0 THEN 'approximate' ELSE 'full' END,
                       '', '{}', '', CASE WHEN i %% 4 = 0 THEN 'es' ELSE 'en' END, '', '',
                       '', 'unknown', '',
                       f || ' | ' || f || ' ' || l || coalesce(' | ' || s, ''),
                       cases_name_keys(f || ' ' || l || coalesce(' ' || s, ''))
                FROM (
                    SELECT i,
                           (%(first)s::text[])[1 + (i * 7919) %% %(nf)s] AS f,
                           (%(last)s::text[])[1 + (i * 104729) %% %(nl)s] AS l,
                           CASE WHEN i %% 5 = 0
                                THEN (%(street)s::text[])[1 + i %% %(ns)s] END AS s,
                           date '1940-01-01' + ((i * 2654435761) %% 24000)::int AS dob
                    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i
                ) AS g
                """,
                {
                    "first": FIRST,
                    "nf": len(FIRST),
                    "last": LAST,
                    "nl": len(LAST),
                    "street": STREET,
                    "ns": len(STREET),
                    "start": have + 1,
                    "stop": wanted,
                },
            )
            cursor.execute("VACUUM ANALYZE cases_resident")  # also flushes GIN pending lists
        self.stdout.write(f"... in {time.perf_counter() - start:.0f} s")
