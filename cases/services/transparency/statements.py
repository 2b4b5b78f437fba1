"""The transparency rollups' SQL (cases/services/transparency/__init__.py runs it): the facts each
figure is counted from, as temporary tables, and the figures, grouped by month and district.

Built from constants only, never from input. Definitions in words:
cases/transparency/definitions.py and docs/metrics.md."""

from __future__ import annotations

from cases.models import ALL_DISTRICTS
from cases.transparency.equity import AGE_BANDS, HUD_RACE_GROUPS

_A = ALL_DISTRICTS
_AGE_BANDS = ", ".join(f"('{band}', {low}, {high})" for band, _, low, high in AGE_BANDS)


def _district(flag: str = "GROUPING(district)") -> str:
    """The district of a grouped row: the rows grouped by month alone cover all districts."""
    return f"CASE WHEN {flag} = 1 THEN '{_A}' ELSE district END"


def _seconds(later: str, earlier: str) -> str:
    """Seconds from `earlier` to `later`; NULL when either is missing or time runs backwards."""
    return (
        f"CASE WHEN {later} >= {earlier} THEN extract(epoch FROM {later} - {earlier})::float8 END"
    )


def _month(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE %(tz)s)::date"


def _people_shares(source: str, shares: list[tuple[str, str]], *, unit: str) -> str:
    """Shares over `source` (rows with month, district, person and boolean flags), by month
    and district and by month alone, in two hashed passes instead of DISTINCT sorts: each
    person is first reduced to one row per group. `unit` "records" counts the source's rows
    (referrals, follow-ups) with the distinct people behind them; "people" counts people."""
    flags = "".join(
        f", count(*) FILTER (WHERE {flag}) AS n{i}, bool_or({flag}) AS any{i}"
        for i, (_, flag) in enumerate(shares)
    )
    sums = "".join(
        f", sum(n{i})::bigint AS n{i}, count(*) FILTER (WHERE any{i}) AS p{i}"
        for i in range(len(shares))
    )
    if unit == "records":
        rows = [f"('{m}', n{i}, p{i}, records, people)" for i, (m, _) in enumerate(shares)]
    else:
        rows = [f"('{m}', p{i}, p{i}, people, people)" for i, (m, _) in enumerate(shares)]
    return f"""
SELECT month, {_district("gd")}, m.metric, '', m.count, m.people, m.denominator,
       m.denominator_people, NULL::float8, NULL::float8
FROM (
    SELECT month, gd, district, sum(n_all)::bigint AS records, count(*) AS people{sums}
    FROM (
        SELECT month, district, GROUPING(district) AS gd, person, count(*) AS n_all{flags}
        FROM {source}
        GROUP BY GROUPING SETS ((month, district, person), (month, person))
    ) AS per_person
    GROUP BY month, gd, district
) AS g, LATERAL (VALUES {", ".join(rows)})
    AS m(metric, count, people, denominator, denominator_people)
"""  # noqa: S608 - built from constants only, never from input


# Each step is ("facts", table, SELECT): the SELECT is kept in a temporary table (dropped at
# commit) and ANALYZEd, so the planner knows how many rows it holds and hashes rather than
# sorts; or ("figures", name, SELECT): its rows are inserted as rollup rows.

CALL_FACTS = f"""
SELECT {_month("c.received_at")} AS month,
       c.council_district AS district, c.source, c.call_type,
       to_char(c.received_at AT TIME ZONE %(tz)s, 'HH24') AS hour,
       CASE WHEN c.on_scene_at IS NOT NULL THEN 'attended'
            WHEN c.cancelled_at IS NOT NULL THEN 'cancelled'
            WHEN c.returned_to_police_at IS NOT NULL THEN 'returned_to_police'
            ELSE 'open' END AS outcome,
       c.escalated_at IS NOT NULL AS escalated,
       police.call_id IS NOT NULL AS police,
       c.source = 'police_request' AS police_source,
       c.routed_to <> '' AS routed,
       coalesce(c.acs_eligible, EXISTS (
           SELECT 1 FROM cases_eligibilityrule r
           WHERE r.active AND r.call_type = c.call_type
             AND (r.source = '' OR r.source = c.source)
             AND (r.priority IS NULL OR r.priority = c.priority))) AS eligible,
       CASE WHEN c.source <> 'self_initiated'
            THEN {_seconds("c.on_scene_at", "c.received_at")} END AS response_s,
       CASE WHEN c.source <> 'self_initiated'
            THEN {_seconds("c.dispatched_at", "c.received_at")} END AS queue_s,
       CASE WHEN c.source <> 'self_initiated'
            THEN {_seconds("c.on_scene_at", "c.dispatched_at")} END AS travel_s,
       CASE WHEN c.reopened_at IS NULL
            THEN {_seconds("coalesce(c.transporting_at, c.cleared_at)", "c.on_scene_at")}
            END AS scene_s
FROM cases_call c
LEFT JOIN (SELECT DISTINCT e.call_id FROM cases_encounter e
           WHERE e.police_requested AND e.status = 'submitted' AND e.call_id IS NOT NULL)
     AS police ON police.call_id = c.id
WHERE c.received_at >= %(start)s AND c.received_at < %(end)s
"""  # noqa: S608 - built from constants only, never from input

# Every count and share of calls in one hashed pass; the four durations in one sorted pass
# (each percentile_cont sorts only its own group).
CALL_FIGURES = f"""
WITH counts AS (
    SELECT month, district, source, call_type, hour, outcome,
           GROUPING(district) AS gd, GROUPING(source) AS gs, GROUPING(call_type) AS gt,
           GROUPING(hour) AS gh, GROUPING(outcome) AS go,
           count(*) AS n,
           count(*) FILTER (WHERE outcome = 'attended' AND NOT police) AS police_free,
           count(*) FILTER (WHERE outcome IN ('attended', 'returned_to_police')) AS taken_on,
           count(*) FILTER (WHERE outcome = 'attended' AND escalated) AS escalated,
           count(*) FILTER (WHERE outcome = 'attended') AS attended,
           count(*) FILTER (WHERE outcome = 'attended' AND (police OR police_source))
               AS police_involved
    FROM transparency_calls
    WHERE NOT routed
    GROUP BY GROUPING SETS (
        (month, district), (month), (month, district, source), (month, source),
        (month, district, call_type), (month, call_type), (month, district, hour), (month, hour),
        (month, district, outcome), (month, outcome))
),
durations AS (
    SELECT month, district, GROUPING(district) AS gd,
           count(response_s) AS response_n,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_s) AS response_p,
           count(queue_s) AS queue_n,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY queue_s) AS queue_p,
           count(travel_s) AS travel_n,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY travel_s) AS travel_p,
           count(scene_s) AS scene_n,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY scene_s) AS scene_p
    FROM transparency_calls WHERE NOT routed GROUP BY GROUPING SETS ((month, district), (month))
),
coverage AS (
    SELECT month, district, GROUPING(district) AS gd,
           count(*) FILTER (WHERE NOT routed AND outcome = 'attended') AS responded,
           count(*) AS eligible
    FROM transparency_calls WHERE eligible GROUP BY GROUPING SETS ((month, district), (month))
)
SELECT month, {_district("gd")}, m.metric, m.dimension, m.count, m.count, m.denominator,
       m.denominator, NULL::float8, NULL::float8
FROM counts, LATERAL (VALUES
    ('calls_received', '', n, NULL::bigint, gs + gt + gh + go = 4),
    ('handled_without_police', '', police_free, taken_on, gs + gt + gh + go = 4),
    ('escalated', '', escalated, attended, gs + gt + gh + go = 4),
    ('police_involvement', '', police_involved, attended, gs + gt + gh + go = 4),
    ('calls_by_source', source, n, NULL::bigint, gs = 0),
    ('calls_by_type', call_type, n, NULL::bigint, gt = 0),
    ('calls_by_hour', hour, n, NULL::bigint, gh = 0),
    ('call_outcomes', outcome, n, NULL::bigint, go = 0)
) AS m(metric, dimension, count, denominator, wanted)
WHERE m.wanted
UNION ALL
SELECT month, {_district("gd")}, m.metric, '', m.n, m.n, NULL::bigint, NULL::bigint,
       m.p[1], m.p[2]
FROM durations, LATERAL (VALUES
    ('response_time', response_n, response_p), ('queue_time', queue_n, queue_p),
    ('travel_time', travel_n, travel_p), ('time_on_scene', scene_n, scene_p)
) AS m(metric, n, p)
UNION ALL
SELECT month, {_district("gd")}, 'coverage', '', responded, responded, eligible, eligible,
       NULL::float8, NULL::float8
FROM coverage
"""  # noqa: S608 - built from constants only, never from input

ENCOUNTER_FACTS = f"""
SELECT e.id, {_month("e.occurred_at")} AS month,
       (date_trunc('month', e.occurred_at AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s)
           AS month_starts,
       coalesce(c.council_district, '') AS district, e.disposition, e.occurred_at,
       e.involuntary_hold, e.police_requested OR c.source = 'police_request' AS police,
       CASE WHEN e.disposition = 'transported'
            THEN initcap(regexp_replace(btrim(e.transport_destination), '\\s+', ' ', 'g'))
            END AS destination,
       e.anonymous_people
FROM cases_encounter e LEFT JOIN cases_call c ON c.id = e.call_id
WHERE e.status = 'submitted' AND e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
"""  # noqa: S608 - built from constants only, never from input

# The named residents of each encounter (people who gave no name are only counted).
NAMED_FACTS = """
SELECT e.id AS encounter_id, e.month, e.month_starts, e.district, e.disposition,
       e.destination, e.occurred_at, er.resident_id AS person
FROM transparency_encounters e JOIN cases_encounterresident er ON er.encounter_id = e.id
"""

# Per named resident and encounter: met before the month, referred, connected.
PERSON_FACTS = f"""
WITH ref AS (
    SELECT coalesce(r.encounter_id, f.encounter_id) AS encounter_id, r.resident_id,
           bool_or(r.sent_at IS NOT NULL) AS referred,
           bool_or(r.status = 'completed') AS completed,
           min(r.closed_at) FILTER (WHERE r.status = 'completed') AS first_completed_at
    FROM resources_referral r LEFT JOIN cases_followup f ON f.id = r.follow_up_id
    JOIN transparency_encounters e ON e.id = coalesce(r.encounter_id, f.encounter_id)
    GROUP BY 1, 2
),
fu AS (
    SELECT f.encounter_id, f.resident_id, bool_or(f.outcome = 'connected') AS connected
    FROM cases_followup f JOIN transparency_encounters e ON e.id = f.encounter_id
    GROUP BY 1, 2
),
first_met AS (
    SELECT er.resident_id, min(x.occurred_at) AS at
    FROM cases_encounterresident er
    JOIN cases_encounter x ON x.id = er.encounter_id AND x.status = 'submitted'
    WHERE er.resident_id IN (SELECT person FROM transparency_named)
    GROUP BY 1
),
-- Each encounter of the people met, from 90 days before the range: is it their third (or
-- later) within 90 days? One sort of their encounters, a range window over each person's.
third AS (
    SELECT encounter_id, resident_id, in_90 >= 3 AS third_in_90
    FROM (
        SELECT er.encounter_id, er.resident_id,
               count(*) OVER (PARTITION BY er.resident_id ORDER BY x.occurred_at
                              RANGE BETWEEN interval '90 days' PRECEDING AND CURRENT ROW)
                   AS in_90
        FROM cases_encounterresident er
        JOIN cases_encounter x ON x.id = er.encounter_id AND x.status = 'submitted'
        WHERE er.resident_id IN (SELECT person FROM transparency_named)
          AND x.occurred_at >= %(start)s - interval '90 days' AND x.occurred_at < %(end)s
    ) AS w
)
SELECT n.month, n.district, n.person, n.encounter_id,
       first_met.at < n.month_starts AS met_before,
       coalesce(ref.referred, false) AS referred,
       coalesce(ref.completed, false) OR coalesce(fu.connected, false) AS connected,
       coalesce(third.third_in_90, false) AS third_in_90,
       {_seconds("ref.first_completed_at", "n.occurred_at")} AS referral_s
FROM transparency_named n JOIN first_met ON first_met.resident_id = n.person
LEFT JOIN ref ON ref.encounter_id = n.encounter_id AND ref.resident_id = n.person
LEFT JOIN fu ON fu.encounter_id = n.encounter_id AND fu.resident_id = n.person
LEFT JOIN third ON third.encounter_id = n.encounter_id AND third.resident_id = n.person
"""  # noqa: S608 - built from constants only, never from input

_ENCOUNTER_SETS = """(month, district{x}), (month{x}), (month, district, disposition{x}),
        (month, disposition{x}), (month, district, destination{x}), (month, destination{x})"""
# The columns that tell one group of those sets from another. A destination set keeps
# transports only (other encounters have no destination: NULL), so coalescing the NULLs of
# the columns a set does not group by cannot make two groups one.
_GROUP = """month, GROUPING(district) AS gd, GROUPING(disposition) AS gi,
               GROUPING(destination) AS gt, coalesce(district, '') AS district,
               coalesce(disposition, '') AS disposition, coalesce(destination, '') AS destination"""
_KEYS = ("month", "gd", "gi", "gt", "district", "disposition", "destination")

# Encounters, dispositions and destinations with the people behind them (the named residents
# counted once per group, plus those who gave no name), then the shares of named residents.
ENCOUNTER_FIGURES = f"""
WITH enc AS (
    SELECT * FROM (
        SELECT {_GROUP}, count(*) AS n, sum(anonymous_people)::bigint AS anonymous,
               count(*) FILTER (WHERE involuntary_hold) AS holds,
               destination IS NOT NULL AS transport
        FROM transparency_encounters GROUP BY GROUPING SETS ({_ENCOUNTER_SETS.format(x="")})
    ) AS g WHERE gt = 1 OR transport
),
named AS (
    SELECT {", ".join(_KEYS)}, count(*) AS n
    FROM (
        SELECT {_GROUP}, destination IS NOT NULL AS transport
        FROM transparency_named GROUP BY GROUPING SETS ({_ENCOUNTER_SETS.format(x=", person")})
    ) AS x WHERE gt = 1 OR transport
    GROUP BY {", ".join(_KEYS)}
)
SELECT enc.month, {_district("enc.gd")}, m.metric, m.dimension, m.count, m.people,
       NULL::bigint, NULL::bigint, NULL::float8, NULL::float8
FROM enc LEFT JOIN named USING ({", ".join(_KEYS)}),
LATERAL (VALUES
    ('encounters', '', enc.n, coalesce(named.n, 0) + enc.anonymous, enc.gi + enc.gt = 2),
    ('people_served', '', coalesce(named.n, 0) + enc.anonymous,
     coalesce(named.n, 0) + enc.anonymous, enc.gi + enc.gt = 2),
    ('dispositions', enc.disposition, enc.n, coalesce(named.n, 0) + enc.anonymous,
     enc.gi = 0),
    ('transports_by_destination', enc.destination, enc.n,
     coalesce(named.n, 0) + enc.anonymous, enc.gt = 0)
) AS m(metric, dimension, count, people, wanted)
WHERE m.wanted
UNION ALL
{
    _people_shares(
        "transparency_people",
        [
            ("repeat_contacts", "met_before"),
            ("people_referred", "referred"),
            ("people_connected", "connected"),
        ],
        unit="people",
    )
}
"""  # noqa: S608 - built from constants only, never from input

# Issue 21: involuntary holds (a share of encounters), people met 3+ times in 90 days (a
# share of people, and the share of encounters they account for), and the time from an
# encounter to the first completed referral of a person met in it.
MORE_PEOPLE_FIGURES = f"""
WITH freq AS (
    SELECT month, person, bool_or(third_in_90) AS frequent
    FROM transparency_people GROUP BY month, person
),
flagged AS (
    SELECT p.month, p.district, p.person, p.encounter_id, f.frequent
    FROM transparency_people p JOIN freq f USING (month, person)
),
per_encounter AS (
    SELECT month, district, encounter_id, bool_or(frequent) AS frequent
    FROM flagged GROUP BY month, district, encounter_id
),
encounters AS (
    SELECT month, {_district()} AS d, count(*) FILTER (WHERE frequent) AS n, count(*) AS total
    FROM per_encounter GROUP BY GROUPING SETS ((month, district), (month))
),
people AS (
    SELECT month, {_district()} AS d, count(DISTINCT person) FILTER (WHERE frequent) AS n,
           count(DISTINCT person) AS total
    FROM flagged GROUP BY GROUPING SETS ((month, district), (month))
),
holds AS (
    SELECT month, {_district()} AS d, count(*) FILTER (WHERE involuntary_hold) AS n,
           count(*) AS total
    FROM transparency_encounters GROUP BY GROUPING SETS ((month, district), (month))
),
durations AS (
    SELECT month, {_district()} AS d, count(referral_s) AS n,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY referral_s) AS p
    FROM transparency_people GROUP BY GROUPING SETS ((month, district), (month))
)
SELECT people.month, people.d, m.metric, '', m.count, m.people, m.denominator,
       m.denominator_people, NULL::float8, NULL::float8
FROM people JOIN encounters USING (month, d), LATERAL (VALUES
    ('frequent_contacts', people.n, people.n, people.total, people.total),
    ('frequent_contact_encounters', encounters.n, people.n, encounters.total, people.total)
) AS m(metric, count, people, denominator, denominator_people)
UNION ALL
SELECT month, d, 'involuntary_holds', '', n, n, total, total, NULL::float8, NULL::float8
FROM holds
UNION ALL
SELECT month, d, 'time_to_referral', '', n, n, NULL::bigint, NULL::bigint, p[1], p[2]
FROM durations
"""  # noqa: S608 - built from constants only, never from input

# Equity (issue 21): the people-based figures by HUD race/ethnicity category (several per
# person allowed; none recorded is "not_recorded"), age band at the month's start, and
# preferred language. First each named person once per month and district (and once per
# month for all districts) with their flags, then each person in each of their groups.
_RACE_PATTERNS = ", ".join(
    f"('{code}', '%%{word}%%')" for code, words in HUD_RACE_GROUPS for word in words
)
EQUITY_FACTS = f"""
SELECT p.month, CASE WHEN GROUPING(p.district) = 1 THEN '{_A}' ELSE p.district END AS district,
       p.person,
       bool_or(p.referred) AS referred, bool_or(p.connected) AS connected,
       bool_or(e.disposition = 'transported') AS transported, bool_or(e.police) AS police,
       bool_or(fu.encounter_id IS NOT NULL) AS follow_up_due,
       coalesce(bool_or(fu.attempted), false) AS follow_up_48h
FROM transparency_people p JOIN transparency_encounters e ON e.id = p.encounter_id
LEFT JOIN (
    SELECT f.encounter_id, f.resident_id,
           bool_or(EXISTS (SELECT 1 FROM cases_contactattempt a WHERE a.follow_up_id = f.id
                           AND a.at <= x.occurred_at + interval '48 hours')) AS attempted
    FROM cases_followup f JOIN transparency_encounters x ON x.id = f.encounter_id
    WHERE x.occurred_at <= %(now)s - interval '48 hours'
    GROUP BY 1, 2
) AS fu ON fu.encounter_id = p.encounter_id AND fu.resident_id = p.person
GROUP BY GROUPING SETS ((p.month, p.district, p.person), (p.month, p.person))
"""  # noqa: S608 - built from constants only, never from input

EQUITY_FIGURES = f"""
WITH grouped AS (
    SELECT q.month, q.district, g.axis, g.grp,
           count(*) AS served, count(*) FILTER (WHERE q.referred) AS referred,
           count(*) FILTER (WHERE q.connected) AS connected,
           count(*) FILTER (WHERE q.transported) AS transported,
           count(*) FILTER (WHERE q.police) AS police,
           count(*) FILTER (WHERE q.follow_up_due) AS due,
           count(*) FILTER (WHERE q.follow_up_48h) AS followed
    FROM transparency_equity q JOIN cases_resident r ON r.id = q.person,
    LATERAL (
        SELECT 'race' AS axis, grp FROM unnest(coalesce(nullif(ARRAY(
            SELECT DISTINCT m.code FROM unnest(r.race_ethnicity) AS v(said)
            JOIN (VALUES {_RACE_PATTERNS}) AS m(code, pattern) ON lower(v.said) LIKE m.pattern
        ), '{{}}'), ARRAY['not_recorded'])) AS grp
        UNION ALL
        SELECT 'age', CASE
            WHEN r.date_of_birth IS NULL OR r.date_of_birth > q.month THEN 'unknown'
            ELSE (SELECT b.band FROM (VALUES {_AGE_BANDS}) AS b(band, low, high)
                  WHERE date_part('year', age(q.month, r.date_of_birth)) >= b.low
                    AND date_part('year', age(q.month, r.date_of_birth)) < b.high) END
        UNION ALL
        SELECT 'language', r.preferred_language
    ) AS g
    GROUP BY q.month, q.district, g.axis, g.grp
),
totals AS (
    SELECT month, district, count(*) AS named FROM transparency_equity GROUP BY 1, 2
)
SELECT grouped.month, grouped.district, 'equity_' || grouped.axis, m.figure || ':' || grouped.grp,
       m.count, m.count, m.denominator, m.denominator, NULL::float8, NULL::float8
FROM grouped JOIN totals USING (month, district), LATERAL (VALUES
    ('served', served, totals.named), ('referred', referred, served),
    ('connected', connected, served), ('transported', transported, served),
    ('police', police, served), ('follow_up_48h', followed, due)
) AS m(figure, count, denominator)
"""  # noqa: S608 - built from constants only, never from input

REFERRAL_FACTS = f"""
SELECT r.resident_id AS person, {_month("r.sent_at")} AS month,
       coalesce(c.council_district, '') AS district,
       EXISTS (SELECT 1 FROM resources_referralevent ev
               WHERE ev.referral_id = r.id AND ev.to_status = 'accepted'
                 AND ev.created_at <= r.sent_at + interval '30 days') AS accepted,
       (r.status = 'completed' AND r.closed_at <= r.sent_at + interval '30 days') AS completed
FROM resources_referral r
LEFT JOIN cases_followup f ON f.id = r.follow_up_id
LEFT JOIN cases_encounter e ON e.id = coalesce(r.encounter_id, f.encounter_id)
LEFT JOIN cases_call c ON c.id = e.call_id
WHERE r.sent_at >= %(start)s AND r.sent_at < %(end)s
"""  # noqa: S608 - built from constants only, never from input

FOLLOW_UP_FACTS = f"""
SELECT f.resident_id AS person, {_month("e.occurred_at")} AS month,
       coalesce(c.council_district, '') AS district,
       EXISTS (SELECT 1 FROM cases_contactattempt a
               WHERE a.follow_up_id = f.id
                 AND a.at <= e.occurred_at + interval '48 hours') AS attempted
FROM cases_followup f
JOIN cases_encounter e ON e.id = f.encounter_id AND e.status = 'submitted'
LEFT JOIN cases_call c ON c.id = e.call_id
WHERE e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
  AND e.occurred_at <= %(now)s - interval '48 hours'
"""  # noqa: S608 - built from constants only, never from input

STEPS = (
    ("facts", "transparency_calls", CALL_FACTS),
    ("figures", "calls", CALL_FIGURES),
    ("facts", "transparency_encounters", ENCOUNTER_FACTS),
    ("facts", "transparency_named", NAMED_FACTS),
    ("facts", "transparency_people", PERSON_FACTS),
    ("figures", "encounters", ENCOUNTER_FIGURES),
    ("figures", "more people", MORE_PEOPLE_FIGURES),
    ("facts", "transparency_equity", EQUITY_FACTS),
    ("figures", "equity", EQUITY_FIGURES),
    ("facts", "transparency_referrals", REFERRAL_FACTS),
    (
        "figures",
        "referrals",
        _people_shares(
            "transparency_referrals",
            [("referrals_accepted_30d", "accepted"), ("referrals_completed_30d", "completed")],
            unit="records",
        ),
    ),
    ("facts", "transparency_follow_ups", FOLLOW_UP_FACTS),
    (
        "figures",
        "follow-ups",
        _people_shares(
            "transparency_follow_ups", [("follow_up_within_48h", "attempted")], unit="records"
        ),
    ),
)
