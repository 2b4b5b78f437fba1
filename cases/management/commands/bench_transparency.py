"""Benchmark the transparency dashboard over generated records (docs/benchmarks.md).

    psql postgres://postgres@127.0.0.1:5432/postgres -c 'CREATE DATABASE acs_transparency_bench'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_transparency_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py bench_transparency --calls 1000000
    psql postgres://postgres@127.0.0.1:5432/postgres -c 'DROP DATABASE acs_transparency_bench'

Generates calls over the last 36 months with `generate_series` (one INSERT per table: calls,
encounters, residents and their links, referrals and their acceptance events, follow-ups and
contact attempts), times a full and a routine rollup refresh, then requests the public page,
its JSON and the staff page through Django's test client and reports median and p95, cold and
warm. Floors measured in the same run: each page's SELECT statements replayed in plain SQL,
and a request that does nothing through the same client and middleware. Refuses to run on a
database whose name lacks "bench" (unless --force); `--calls 200 --months 3 --requests 2` is
the smoke run the test suite makes.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.roles import Role
from cases.call_types import APCO_CALL_TYPES
from cases.models.encounters import Need, ServiceOnScene
from cases.services.transparency import add_months, current_month, month_start

BENCH_CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "bench-transparency",
    }
}
# A queryset read with .iterator() is a server-side cursor: its SELECT follows this.
DECLARE = re.compile(r'^DECLARE "[^"]+" NO SCROLL CURSOR (?:WITH HOLD |WITHOUT HOLD )?FOR ')
SOURCES = ["911"] * 5 + ["311"] * 2 + ["police_request", "fire_request", "self_initiated"]
DESTINATIONS = [
    "UNM Hospital",
    "Presbyterian Hospital",
    "Westside Emergency Housing Center",
    "Gateway Center",
    "Bosque Detox and Recovery",
    "Crisis Triage Center",
]
NEEDS = [n.value for n in Need]
SERVICES_ON_SCENE = [s.value for s in ServiceOnScene]
OTHER_DISPOSITIONS = [
    "settled_by_contact",
    "settled_by_contact",
    "referred",
    "gone_on_arrival",
    "refused_services",
    "no_further_action",
]

CALLS = """
INSERT INTO cases_call (
    public_id, created_at, updated_at, incident_number, source, call_type, priority, status,
    received_at, status_changed_at, address, council_district, notes, dispatched_at,
    en_route_at, on_scene_at, transporting_at, cleared_at, cancelled_at,
    returned_to_police_at, escalated_at, acs_eligible, routed_to)
SELECT gen_random_uuid(), now(), now(), 'BENCH-' || i, source, call_type, 1 + i %% 5,
       CASE outcome WHEN 'attended' THEN 'cleared' WHEN 'cancelled' THEN 'cancelled'
            WHEN 'returned' THEN 'returned_to_police' ELSE 'pending' END,
       recv, recv, '', district, '',
       CASE WHEN outcome IN ('attended', 'cancelled') THEN recv + q END,
       CASE WHEN outcome = 'attended' THEN recv + q + interval '30 seconds' END,
       CASE WHEN outcome = 'attended' THEN recv + q + t END,
       CASE WHEN outcome = 'attended' AND transported THEN recv + q + t + s * 0.7 END,
       CASE WHEN outcome = 'attended' THEN recv + q + t + s END,
       CASE WHEN outcome = 'cancelled' THEN recv + q + interval '2 minutes' END,
       CASE WHEN outcome = 'returned' THEN recv + interval '45 minutes' END,
       CASE WHEN outcome = 'attended' AND escalated THEN recv + q + t + interval '5 minutes' END,
       -- CAD flags a fifth of calls itself (the rules decide the rest); eligible calls it
       -- sent elsewhere (issue 21's coverage) are pushed too.
       CASE WHEN random() < 0.2 THEN random() < 0.8 END,
       CASE WHEN outcome = 'routed' THEN (ARRAY['police', 'fire', 'none'])[1 + i %% 3]
            ELSE '' END
FROM (
    SELECT i,
           %(start)s::timestamptz + random() * %(span)s * interval '1 second' AS recv,
           (%(sources)s::text[])[1 + floor(random() * %(nsources)s)::int] AS source,
           (%(types)s::text[])[1 + floor(random() * %(ntypes)s)::int] AS call_type,
           CASE WHEN random() < 0.02 THEN ''
                ELSE (1 + floor(random() * 9)::int)::text END AS district,
           CASE WHEN r < 0.80 THEN 'attended' WHEN r < 0.88 THEN 'cancelled'
                WHEN r < 0.93 THEN 'returned' WHEN r < 0.95 THEN 'open'
                ELSE 'routed' END AS outcome,
           (30 + power(random(), 2) * 1800) * interval '1 second' AS q,
           (240 + random() * 1200) * interval '1 second' AS t,
           (600 + random() * 3000) * interval '1 second' AS s,
           random() < 0.12 AS transported,
           random() < 0.04 AS escalated
    FROM (SELECT i, random() AS r FROM generate_series(1, %(n)s) AS i) AS g
) AS c
"""

RESIDENTS = """
INSERT INTO cases_resident (
    public_id, created_at, updated_at, preferred_name, legal_name, aliases, dob_quality,
    gender, race_ethnicity, veteran_status, preferred_language, phone, email,
    where_to_find_me, housing_status, safety_flags, search_names)
SELECT gen_random_uuid(), now(), now(), 'Bench ' || i, '', '{}', 'unknown', '', '{}', '',
       CASE WHEN random() < 0.3 THEN 'es' ELSE 'en' END, '', '', '',
       (ARRAY['unknown', 'unknown', 'housed', 'at_risk', 'sheltered', 'unsheltered',
              'unsheltered', 'unsheltered'])[1 + floor(random() * 8)::int], '', 'bench ' || i
FROM generate_series(1, %(n)s) AS i
"""

ENCOUNTERS = """
INSERT INTO cases_encounter (
    public_id, created_at, updated_at, client_id, status, occurred_at, anonymous_people, needs,
    services_on_scene, narrative, narrative_part2, risk_level, disposition, transport_destination,
    police_requested, ems_requested, involuntary_hold, submitted_at, locks_at, call_id,
    created_by_id, unit_id)
SELECT gen_random_uuid(), now(), now(), gen_random_uuid(), 'submitted', c.on_scene_at,
       CASE WHEN random() < 0.3 THEN 1 + floor(random() * 2)::int ELSE 0 END,
       n.needs, n.services, '', 'substance_use' = ANY(n.needs) OR random() < 0.03,
       (ARRAY['not_screened', 'low', 'low', 'moderate', 'high'])[1 + floor(random() * 5)::int],
       CASE WHEN c.transporting_at IS NOT NULL THEN 'transported'
            WHEN c.escalated_at IS NOT NULL THEN 'escalated'
            ELSE (%(dispositions)s::text[])[1 + floor(random() * %(ndispositions)s)::int] END,
       CASE WHEN c.transporting_at IS NOT NULL
            THEN (%(destinations)s::text[])[1 + floor(random() * %(ndestinations)s)::int]
            ELSE '' END,
       c.escalated_at IS NOT NULL AND random() < 0.7, random() < 0.05, random() < 0.03,
       c.on_scene_at + interval '1 hour', c.on_scene_at + interval '3 hours', c.id,
       %(user)s, %(unit)s
FROM cases_call c
-- Zero to three needs and services on scene each (the coded lists the field app offers).
CROSS JOIN LATERAL (
    SELECT ARRAY(SELECT DISTINCT (%(needs)s::text[])[1 + floor(random() * %(nneeds)s)::int]
                 FROM generate_series(1, floor(random() * 4)::int + 0 * c.id)) AS needs,
           ARRAY(SELECT DISTINCT (%(services)s::text[])[1 + floor(random() * %(nservices)s)::int]
                 FROM generate_series(1, floor(random() * 4)::int + 0 * c.id)) AS services
) AS n
WHERE c.incident_number LIKE 'BENCH-%%' AND c.on_scene_at IS NOT NULL AND random() < 0.95
"""

LINKS = """
INSERT INTO cases_encounterresident (
    public_id, created_at, updated_at, encounter_id, resident_id, living_situation)
SELECT gen_random_uuid(), now(), now(), e.id,
       %(first_resident)s + floor(power(random(), 1.6) * %(residents)s)::bigint,
       (ARRAY['', '', 'unknown', 'housed', 'at_risk', 'sheltered', 'unsheltered', 'unsheltered',
              'unsheltered'])[1 + floor(random() * 9)::int]
FROM cases_encounter e
WHERE e.created_by_id = %(user)s AND (e.anonymous_people = 0 OR random() < 0.2)
"""

REFERRALS = """
INSERT INTO resources_referral (
    public_id, created_at, updated_at, status, urgency, reason, reason_part2, needs, outcome,
    sent_at, respond_by, responded_at, closed_at, consent_override_reason, created_by_id,
    encounter_id, organization_id, resident_id, service_id)
SELECT gen_random_uuid(), now(), now(), status,
       CASE WHEN random() < 0.8 THEN 'routine' WHEN random() < 0.7 THEN 'urgent' ELSE 'asap' END,
       '', part2, needs,
       CASE status WHEN 'completed' THEN 'enrolled' WHEN 'not_completed' THEN 'no_show'
            ELSE '' END,
       sent, sent + interval '3 days',
       CASE WHEN status <> 'sent' AND status <> 'expired' THEN sent + answer END,
       CASE WHEN status IN ('completed', 'not_completed', 'declined')
            THEN sent + answer + finish END,
       '', %(user)s, encounter_id, %(organization)s, resident_id, %(service)s
FROM (
    SELECT er.encounter_id, er.resident_id, e.occurred_at + interval '2 hours' AS sent,
           e.needs, e.narrative_part2 OR 'substance_use' = ANY(e.needs) AS part2,
           random() * 12 * interval '1 day' AS answer,
           random() * 40 * interval '1 day' AS finish,
           (ARRAY['sent', 'accepted', 'accepted', 'in_progress', 'completed', 'completed',
                  'completed', 'declined', 'expired', 'not_completed'])
               [1 + floor(random() * 10)::int] AS status
    FROM cases_encounterresident er JOIN cases_encounter e ON e.id = er.encounter_id
    WHERE e.created_by_id = %(user)s AND random() < 0.2
) AS r
"""

ACCEPTED = """
INSERT INTO resources_referralevent (
    public_id, created_at, updated_at, from_status, to_status, note, referral_id)
SELECT gen_random_uuid(), r.responded_at, r.responded_at, 'sent', 'accepted', '', r.id
FROM resources_referral r
WHERE r.created_by_id = %(user)s
  AND r.status IN ('accepted', 'in_progress', 'completed', 'not_completed')
"""

FOLLOW_UPS = """
INSERT INTO cases_followup (
    public_id, created_at, updated_at, kind, status, outcome, due_at, window_ends_at,
    attempts_made, max_attempts, closed_at, encounter_id, resident_id)
SELECT gen_random_uuid(), now(), now(), 'phone',
       CASE WHEN outcome = '' THEN 'open' ELSE 'closed' END, outcome,
       occurred_at + interval '48 hours', occurred_at + interval '7 days', 0, 3,
       CASE WHEN outcome <> '' THEN occurred_at + interval '5 days' END,
       encounter_id, resident_id
FROM (
    SELECT er.encounter_id, er.resident_id, e.occurred_at,
           (ARRAY['connected', 'connected', 'declined', 'unable_to_contact', ''])
               [1 + floor(random() * 5)::int] AS outcome
    FROM cases_encounterresident er JOIN cases_encounter e ON e.id = er.encounter_id
    WHERE e.created_by_id = %(user)s AND random() < 0.6
) AS f
"""

ATTEMPTS = """
INSERT INTO cases_contactattempt (
    public_id, created_at, updated_at, at, channel, outcome, next_step, by_id, follow_up_id)
SELECT gen_random_uuid(), now(), now(), f.due_at - interval '48 hours'
           + random() * 96 * interval '1 hour', 'phone', 'reached', '', %(user)s, f.id
FROM cases_followup f JOIN cases_encounter e ON e.id = f.encounter_id
WHERE e.created_by_id = %(user)s AND random() < 0.8
"""


def _stats(timings: list[float]) -> str:
    timings = sorted(timings)
    p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
    return (
        f"median={statistics.median(timings):.1f} ms p95={p95:.1f} ms "
        f"max={timings[-1]:.1f} ms (n={len(timings)})"
    )


class Command(BaseCommand):
    help = "Time the transparency rollups and page over generated calls (docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--calls", type=int, default=1_000_000)
        parser.add_argument("--requests", type=int, default=50)
        parser.add_argument("--months", type=int, default=36)
        parser.add_argument("--skip-generate", action="store_true")
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, calls, requests, months, skip_generate, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to add rows to {name!r}: use a *bench* database.")
        if not skip_generate:
            self.generate(calls, months)
        # A cache of its own (in this process), so that clearing it between "cold" requests
        # touches nobody else's.
        with override_settings(CACHES=BENCH_CACHES):
            self.refresh_and_measure(requests)

    def step(self, label: str, sql: str, params: dict) -> None:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.rowcount
        self.stdout.write(f"  {label}: {rows:,} rows in {time.perf_counter() - start:.1f} s")

    def generate(self, calls: int, months: int) -> None:
        from resources.models import Organization, Service
        from responders.models import Team, TeamKind, Unit, User

        self.stdout.write(f"Generating {calls:,} calls over {months} months ...")
        started = time.perf_counter()
        team, _ = Team.objects.get_or_create(
            name="Bench team", defaults={"kind": TeamKind.BEHAVIORAL_HEALTH}
        )
        unit, _ = Unit.objects.get_or_create(
            call_sign="BENCH-1", defaults={"team": team, "status_changed_at": timezone.now()}
        )
        user, _ = User.objects.get_or_create(username="bench-responder")
        organization, _ = Organization.objects.get_or_create(name="Bench partner")
        service, _ = Service.objects.get_or_create(organization=organization, name="Bench bed")
        # The department's eligibility rules (issue 21): a few types, one by priority.
        from cases.models import EligibilityRule

        for call_type, priority in (("WELFARE", None), ("MNTL", None), ("VAG", None), ("INTOX", 3)):
            EligibilityRule.objects.get_or_create(call_type=call_type, source="", priority=priority)
        first = add_months(current_month(), -(months - 1))
        span = (timezone.now() - month_start(first)).total_seconds()
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.24)")
            cursor.execute("SELECT coalesce(max(id), 0) FROM cases_resident")
            first_resident = cursor.fetchone()[0] + 1
        residents = max(calls // 5, 1)
        types = list(APCO_CALL_TYPES)
        params = {
            "n": calls,
            "start": month_start(first),
            "span": span,
            "sources": SOURCES,
            "nsources": len(SOURCES),
            "types": types,
            "ntypes": len(types),
            "dispositions": OTHER_DISPOSITIONS,
            "ndispositions": len(OTHER_DISPOSITIONS),
            "destinations": DESTINATIONS,
            "needs": NEEDS,
            "nneeds": len(NEEDS),
            "services": SERVICES_ON_SCENE,
            "nservices": len(SERVICES_ON_SCENE),
            "ndestinations": len(DESTINATIONS),
            "user": user.pk,
            "unit": unit.pk,
            "first_resident": first_resident,
            "residents": residents,
            "organization": organization.pk,
            "service": service.pk,
        }
        self.step("calls", CALLS, params)
        self.step("residents", RESIDENTS, {"n": residents})
        with connection.cursor() as cursor:
            # The sequence may be ahead of max(id) (rolled-back inserts use up numbers): the
            # first id this run inserted, its ids consecutive from there (one statement).
            cursor.execute(
                "SELECT min(id) FROM cases_resident WHERE id >= %s", [params["first_resident"]]
            )
            params["first_resident"] = cursor.fetchone()[0]
        self.step("encounters", ENCOUNTERS, params)
        self.step("encounter residents", LINKS, params)
        self.step("referrals", REFERRALS, params)
        self.step("acceptances", ACCEPTED, params)
        self.step("follow-ups", FOLLOW_UPS, params)
        self.step("contact attempts", ATTEMPTS, params)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.stdout.write(f"... generated in {time.perf_counter() - started:.0f} s")

    def refresh_and_measure(self, requests: int) -> None:
        from cases.services.transparency import transparency_refresh
        from responders.models import User

        for full in (True, False):
            start = time.perf_counter()
            refresh = transparency_refresh(full=full, now=timezone.now() + timedelta(seconds=1))
            self.stdout.write(
                f"refresh ({refresh.scope}, {refresh.first_month:%Y-%m}..{refresh.last_month:%Y-%m}"
                f"): {refresh.rows:,} figures in {time.perf_counter() - start:.1f} s"
            )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('cases_metricrollup'))")
            self.stdout.write(f"rollup table: {cursor.fetchone()[0]}")

        client = Client(SERVER_NAME="127.0.0.1")
        staff, _ = User.objects.get_or_create(
            username="bench-supervisor", defaults={"is_staff": True, "is_superuser": True}
        )
        from django.contrib.auth.models import Group

        staff.groups.add(Group.objects.get(name=Role.SUPERVISOR.value))
        cases = [
            ("public page, last 12 months, all districts", "/transparency/", None),
            ("public page, last 12 months, district 4", "/transparency/?district=4", None),
            ("public page, 36 months, all districts", "/transparency/?start={first36}", None),
            ("metrics.json, last 12 months", "/transparency/metrics.json", None),
            ("metrics.csv, last 12 months", "/transparency/metrics.csv", None),
            ("staff page (admin), last 12 months", "/admin/cases/metricrollup/", staff),
        ]
        first36 = f"{add_months(current_month(), -35):%Y-%m}"
        self.stdout.write(
            "cold: the cache cleared before each request (the first request after a refresh); "
            "warm: served from the cache"
        )
        for label, url, user in cases:
            url = url.format(first36=first36)
            if user is not None:
                client.force_login(user)
                self.pass_second_factor(client, user)
            else:
                client.logout()
            for _ in range(3):  # warm up Python and PostgreSQL
                if client.get(url).status_code != 200:
                    raise CommandError(f"{url} answered {client.get(url).status_code}")
            for temperature in ("cold", "warm"):
                timings = []
                for _ in range(requests):
                    if temperature == "cold":
                        cache.clear()
                    start = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - start) * 1000)
                    if response.status_code != 200:
                        raise CommandError(f"{url} answered {response.status_code}")
                self.stdout.write(f"{label:<46} {temperature}: {_stats(timings)}")
            self.stdout.write(f"{label:<46} plain SQL: {self.sql_floor(client, url, requests)}")
        # The floor of a request through the same client and middleware: a view that does
        # nothing (a redirect to the icon).
        timings = []
        client.logout()
        for _ in range(requests):
            start = time.perf_counter()
            response = client.get("/favicon.ico")
            timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 301:
                raise CommandError(f"/favicon.ico answered {response.status_code}")
        self.stdout.write(f"{'request floor (/favicon.ico, no query)':<46} {_stats(timings)}")

    @staticmethod
    def pass_second_factor(client: Client, user) -> None:
        """Record in the session that it passed a second factor, as allauth does at sign-in:
        supervisors need one before any page with personal data (acs/mfa.py), and the staff
        page would otherwise be a redirect to the second-factor form."""
        from allauth.account.internal.flows.login import record_authentication

        request = RequestFactory().get("/")
        request.session = client.session
        request.user = user
        record_authentication(request, user, "mfa", type="totp")
        request.session.save()

    def sql_floor(self, client: Client, url: str, requests: int) -> str:
        """The floor in plain SQL: the SELECT statements a cold request ran (those it ran
        through a server-side cursor too), run again `requests` times through a bare cursor,
        every row fetched, without the ORM, Python or the page."""
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        statements = [DECLARE.sub("", q["sql"].lstrip()) for q in queries.captured_queries]
        statements = [sql for sql in statements if sql.startswith("SELECT")]
        timings = []
        with connection.cursor() as cursor:
            for _ in range(requests):
                rows = 0
                start = time.perf_counter()
                for sql in statements:
                    cursor.execute(sql)
                    rows += len(cursor.fetchall())
                timings.append((time.perf_counter() - start) * 1000)
        return f"{_stats(timings)}, the {len(statements)} SELECTs of a cold request, {rows:,} rows"
