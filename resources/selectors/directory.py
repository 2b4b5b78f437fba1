"""Reads of the directory. `service_search` is the one search of the field app, admin and API.

The directory is public (no personal data), so these selectors take no acting user.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQueryField, TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import ASin, Cast, Least, Upper
from django.db.models.sql.where import WhereNode
from django.utils import timezone
from rapidfuzz.distance import OSA

from acs.errors import DomainError
from resources.models import (
    Address,
    Attribute,
    Language,
    Location,
    OpeningHoursWindow,
    OpeningInterval,
    Organization,
    Schedule,
    ScheduleFreq,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
    capacity_stale_after,
    earth_point,
)
from resources.models.directory import EARTH_RADIUS_KM, Cube
from resources.opening_hours import (
    RULE_FIELDS,
    WEEKDAYS,
    Rule,
    ScheduleError,
    candidate_days,
    effective_schedules,
    is_open,
)

# word_similarity of the query within a field: 0.3 lets "shleter" find "shelter" (0.33) and
# "detx" find "detox" (0.6); near misses such as "food" in "flood" (0.4) rank below exact words.
MIN_TEXT_RANK = 0.3
MAX_RADIUS_KM = 500.0


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise DomainError(
                "The point is not on Earth.",
                code="invalid",
                fields={"point": ["Latitude must be within ±90 and longitude within ±180."]},
            )


# --- text ------------------------------------------------------------------------------------

# ts_rank_cd weights in PostgreSQL's order {D, C, B, A}: description, taxonomy terms,
# organization name, service name. A term is a curated category, as telling as the name; an
# organization runs services of many kinds; a description mentions much in passing.
TEXT_WEIGHTS = (0.4, 1.0, 0.8, 1.0)
_WEIGHTS_SQL = "'{" + ",".join(str(w) for w in TEXT_WEIGHTS) + "}'::float4[]"
# A query word that is not a word of the directory also stands for the directory's words
# nearest to it: those fewest edits away (optimal string alignment: a swap of two neighbours
# is one edit; at most MAX_EDITS for a short word, MAX_EDITS + 1 for a longer one), or, when
# more edits away, at least MIN_CORRECTION_SIMILARITY similar by trigrams ("shel"/"shelter"
# 0.44); the closest MAX_CORRECTIONS, ties broken by similarity then by use.
MIN_CORRECTION_SIMILARITY = 0.3
MAX_EDITS = 1
SHORT_WORD = 4
MAX_CORRECTIONS = 3
MAX_QUERY_WORDS = 12
MAX_WORD_LENGTH = 60

# One statement: for each query word, whether it is a stop word in English or Spanish (dropped,
# as websearch_to_tsquery drops them) and, when it is not a word of the directory, candidate
# corrections: its nearest words by trigram distance (GiST, nearest first) and the words within
# two edits that share its first letter and about its length (btree on both). Stop words are
# never candidates ("fod" is not "for"). ts_lexize returns '{}' for a stop word.
_WORDS_SQL = """
WITH q AS (
  SELECT u.word, u.n,
         ts_lexize('english_stem', u.word) = '{}' OR ts_lexize('spanish_stem', u.word) = '{}'
           AS stop
  FROM unnest(%s::text[]) WITH ORDINALITY AS u(word, n)
)
SELECT q.word, q.stop,
  CASE WHEN q.stop OR length(q.word) < 3
         OR EXISTS (SELECT 1 FROM resources_directoryword d WHERE d.word = q.word)
  THEN NULL ELSE (
    SELECT json_agg(json_build_array(c.word, c.sim, c.ndoc)) FROM (
      SELECT cand.word, similarity(cand.word, q.word) AS sim, max(cand.ndoc) AS ndoc
      FROM (
        (SELECT d.word, d.ndoc FROM resources_directoryword d
         ORDER BY d.word <-> q.word LIMIT 12)
        UNION ALL
        (SELECT d.word, d.ndoc FROM resources_directoryword d
         WHERE left(d.word, 1) = left(q.word, 1)
           AND length(d.word) BETWEEN length(q.word) - 2 AND length(q.word) + 2
           AND levenshtein_less_equal(d.word, q.word, 2) <= 2)
      ) AS cand
      WHERE ts_lexize('english_stem', cand.word) <> '{}'
        AND ts_lexize('spanish_stem', cand.word) <> '{}'
      GROUP BY cand.word
    ) AS c
  ) END AS candidates
FROM q ORDER BY q.n
"""
_TSQUERY_SQL = """
SELECT (plainto_tsquery('english', w) || plainto_tsquery('spanish', w))::text
FROM unnest(%s::text[]) AS w
"""


@dataclass(frozen=True)
class TextQuery:
    """A query's words as the documents are searched for them: `tsquery` (text form) matches
    documents holding every group (or any, when none holds them all: `all_words` False);
    `corrections` maps each misspelt word to the directory's words it also stands for."""

    tsquery: str
    corrections: dict[str, list[str]]
    all_words: bool


def _words(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", text.casefold())
    return [w[:MAX_WORD_LENGTH] for w in words][:MAX_QUERY_WORDS]


def _corrections(word: str, candidates: list[list]) -> list[str]:
    """The meant words among `candidates` ([word, trigram similarity, services using it])."""
    max_edits = MAX_EDITS if len(word) <= SHORT_WORD else MAX_EDITS + 1
    ranked = []
    for candidate, similarity, ndoc in candidates:
        edits = OSA.distance(word, candidate)
        if edits <= max_edits or similarity >= MIN_CORRECTION_SIMILARITY:
            ranked.append((edits, -similarity, -ndoc, candidate))
    ranked.sort()
    return [c for edits, *_, c in ranked if edits == ranked[0][0]][:MAX_CORRECTIONS]


def text_query(text: str) -> TextQuery | None:
    """The tsquery for `text` (None when it has no word to search for: empty, or only stop
    words). Each word is read with English and Spanish stemming; a word that is not in the
    directory's word list (DirectoryWord) also stands for its nearest words there, so
    "fod pantry" searches (fod | food) & pantry. Three small queries at most: the words and
    their corrections, their tsqueries, then, for several words, whether any document holds
    them all; if none does, any word will do."""
    words = _words(text)
    if not words:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_WORDS_SQL, [words])
        rows = cursor.fetchall()
        kept = [(word, _corrections(word, found or [])) for word, stop, found in rows if not stop]
        if not kept:
            return None
        variants = [[word, *fixes] for word, fixes in kept]
        cursor.execute(_TSQUERY_SQL, [[v for group in variants for v in group]])
        parts = iter(row[0] for row in cursor.fetchall())
        groups = []
        for group in variants:
            alternatives = [p for p in (next(parts) for _ in group) if p]
            if alternatives:
                groups.append("(" + " | ".join(f"({a})" for a in alternatives) + ")")
        if not groups:
            return None
        corrections = {word: fixes for word, fixes in kept if fixes}
        every = " & ".join(groups)
        if len(groups) == 1:
            return TextQuery(every, corrections, all_words=True)
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM resources_servicesearchdocument "
            "WHERE document @@ %s::tsquery)",
            [every],
        )
        if cursor.fetchone()[0]:
            return TextQuery(every, corrections, all_words=True)
        return TextQuery(" | ".join(groups), corrections, all_words=False)


def _tsquery(query: TextQuery):
    return Cast(Value(query.tsquery), SearchQueryField())


def text_matches(query: TextQuery, *, service: str = "service__") -> Func:
    """The service's search document matches `query` (GIN index on the document)."""
    return Func(
        F(f"{service}search_document__document"),
        _tsquery(query),
        template="%(expressions)s",
        arg_joiner=" @@ ",
        output_field=BooleanField(),
    )


def text_score(query: TextQuery, *, service: str = "service__") -> Func:
    """ts_rank_cd of the service's document for `query` with TEXT_WEIGHTS: each cover of the
    query's words counts, so a word in the name and the terms outranks one in the name only."""
    return Func(
        F(f"{service}search_document__document"),
        _tsquery(query),
        function="ts_rank_cd",
        template=f"%(function)s({_WEIGHTS_SQL}, %(expressions)s)",
        output_field=FloatField(),
    )


def _text_search(qs: QuerySet, text: str, *, service: str) -> tuple[QuerySet, bool]:
    """`qs` cut to the services matching `text`, annotated `text_score` (the order) and `rank`
    (the score capped at 1: every word found in a name, organization or term); (qs, False)
    when `text` has nothing to search for."""
    query = text_query(text)
    if query is None:
        return qs.none(), False
    return (
        qs.filter(text_matches(query, service=service))
        .annotate(text_score=text_score(query, service=service))
        .annotate(rank=Least(Value(1.0), F("text_score"), output_field=FloatField()))
    ), True


# --- distance --------------------------------------------------------------------------------


def _earth_point_at(point: Point) -> Func:
    return Func(
        Value(float(point.latitude)),
        Value(float(point.longitude)),
        function="resources_earth_point",
        output_field=Cube(),
    )


def earth_box(point: Point, radius_km: float, *, location: str = "location__") -> Func:
    """True where the location lies in the cube around `point` holding every place within
    `radius_km` (a superset, answered by the GiST index on locations): `point <@ box`."""
    # The straight-line (chord) length of an arc of radius_km on the sphere.
    chord = 2 * EARTH_RADIUS_KM * math.sin(min(radius_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
    return _in_chord_box(point, Value(chord), location=location)


def _in_chord_box(point: Point, chord, *, location: str = "location__") -> Func:
    """The location lies in the cube around `point` enlarged by `chord` km in each direction
    (a superset of the places within that straight-line distance; the GiST index's `<@`)."""
    box = Func(_earth_point_at(point), chord, Value(3), function="cube_enlarge")
    return Func(
        earth_point(f"{location}latitude", f"{location}longitude"),
        box,
        template="(%(expressions)s)",
        arg_joiner=" <@ ",
        output_field=BooleanField(),
    )


def chord_km(point: Point, *, location: str = "location__") -> Func:
    """The straight-line distance through the Earth from `point` to the location: grows with
    the great-circle distance, and ordering by it ("nearest first") is the GiST index's `<->`."""
    return Func(
        earth_point(f"{location}latitude", f"{location}longitude"),
        _earth_point_at(point),
        template="(%(expressions)s)",
        arg_joiner=" <-> ",
        output_field=FloatField(),
    )


def distance_km(point: Point, *, location: str = "location__"):
    """Great-circle distance in km from `point` to the location, in SQL (from the chord: the
    haversine formula's value, on the same sphere)."""
    half = chord_km(point, location=location) / Value(2 * EARTH_RADIUS_KM)
    return Value(2 * EARTH_RADIUS_KM) * ASin(Least(Value(1.0), half))


# --- open now --------------------------------------------------------------------------------


def _schedule_may_run(at: datetime) -> Q:
    """SQL superset of the schedules that may have a session covering `at` (yesterday's or
    today's, by validity and weekday); opening_hours.is_open decides exactly."""
    yesterday, today = candidate_days(at)
    weekday_codes = {WEEKDAYS[yesterday.weekday()], WEEKDAYS[today.weekday()]}
    weekday = Q(byday="") | Q(freq=ScheduleFreq.MONTHLY)
    for code in weekday_codes:
        weekday |= Q(byday__icontains=code)
    return (
        Q(closed=False)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=yesterday))
        & (Q(dtstart__isnull=True) | Q(dtstart__lte=today))
        & (Q(until__isnull=True) | Q(until__gte=yesterday))
        & weekday
    )


def _in_ids(field: str, ids: Iterable[int]) -> Func:
    """`field = ANY(%s)` with one array parameter: a long id list is one parameter, not
    thousands (which psycopg and the planner both pay for)."""
    return Func(
        F(field),
        Value(sorted(ids), output_field=ArrayField(BigIntegerField())),
        template="%(expressions)s)",
        arg_joiner=" = ANY(",
        output_field=BooleanField(),
    )


def open_at_filter(queryset: QuerySet[ServiceAtLocation], at: datetime) -> list[int]:
    """Ids of the rows of `queryset` that are open at `at`.

    SQL keeps only rows with a schedule that may run around `at`; their schedules (all three
    levels, closures included) are then read in one query and evaluated in Python.
    """
    may_run = Schedule.objects.filter(_schedule_may_run(at))
    # Three EXISTS, one per level, so each can use its foreign-key index.
    candidate_qs = queryset.filter(
        Exists(may_run.filter(service_at_location=OuterRef("pk")))
        | Exists(may_run.filter(service=OuterRef("service_id")))
        | Exists(may_run.filter(location=OuterRef("location_id")))
    ).order_by()
    candidates = list(candidate_qs.values_list("id", "service_id", "location_id"))
    if not candidates:
        return []
    sal_ids = {c[0] for c in candidates}
    service_ids = {c[1] for c in candidates}
    location_ids = {c[2] for c in candidates}
    relevant = (
        Q(_in_ids("service_at_location_id", sal_ids))
        | Q(_in_ids("service_id", service_ids))
        | Q(_in_ids("location_id", location_ids))
    )
    by_sal: dict[int, list[Rule]] = defaultdict(list)
    by_service: dict[int, list[Rule]] = defaultdict(list)
    by_location: dict[int, list[Rule]] = defaultdict(list)
    rows = (
        # Every row, in or out of season: the level whose regular hours govern is the most
        # specific one that has any (effective_schedules), whatever the date.
        Schedule.objects.filter(relevant)
        .order_by()
        .values_list("service_at_location_id", "service_id", "location_id", *RULE_FIELDS)
    )
    for sal_id, service_id, location_id, *fields in rows:
        rule = Rule(**dict(zip(RULE_FIELDS, fields, strict=True)))
        if sal_id in sal_ids:
            by_sal[sal_id].append(rule)
        if service_id in service_ids:
            by_service[service_id].append(rule)
        if location_id in location_ids:
            by_location[location_id].append(rule)
    # Many places share the same hours; judge each distinct set of rules once.
    verdicts: dict[tuple[Rule, ...], bool] = {}
    open_ids = []
    for sal_id, service_id, location_id in candidates:
        governing = tuple(
            effective_schedules(by_sal[sal_id], by_service[service_id], by_location[location_id])
        )
        if governing not in verdicts:
            try:
                verdicts[governing] = is_open(governing, at)
            except ScheduleError:
                verdicts[governing] = False  # an unreadable schedule never looks open
        if verdicts[governing]:
            open_ids.append(sal_id)
    return open_ids


def open_at_condition(at: datetime) -> Exists | None:
    """`EXISTS` an opening interval of the row that contains `at` (the GiST index on
    OpeningInterval.during), or None when the intervals do not answer for `at`: nothing built
    yet, or `at` outside the window they were built for (see resources.services.opening_hours).
    One small query (the window's row)."""
    if at.tzinfo is None:  # as is_open: a naive instant has no place in time
        raise ValueError("open now needs a timezone-aware datetime")
    window = OpeningHoursWindow.objects.filter(pk=1).values_list("first_day", "last_day").first()
    yesterday, today = candidate_days(at)
    if window is None or not (window[0] <= yesterday and today <= window[1]):
        return None
    return Exists(
        OpeningInterval.objects.filter(service_at_location=OuterRef("pk"), during__contains=at)
    )


# --- the search ------------------------------------------------------------------------------


def _term_ids(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> list[uuid.UUID]:
    return [t.public_id if isinstance(t, TaxonomyTerm) else t for t in terms]


def service_search(
    *,
    text: str = "",
    taxonomy_terms: Sequence[uuid.UUID | TaxonomyTerm] = (),
    taxonomy: uuid.UUID | None = None,
    organization: uuid.UUID | None = None,
    language: str = "",
    open_now: bool = False,
    at: datetime | None = None,
    has_capacity: bool = False,
    accepts_referrals: bool | None = None,
    near: Point | None = None,
    radius_km: float | None = None,
    modified_after: datetime | None = None,
    postcode: str = "",
    active_only: bool = True,
) -> QuerySet[ServiceAtLocation]:
    """Services at locations matching every filter given, best first.

    - `text`: full-text match of every word (English and Spanish stemming) over the service's
      name, organization, taxonomy terms and description, misspelt words corrected from the
      directory's words (`text_query`); annotates `text_score` (the order) and `rank` (0-1).
    - `taxonomy_terms`: any of these terms or their direct children.
    - `language`: ISO code spoken by the service or at the location.
    - `open_now`: open at `at` (default now) by the schedules: the precomputed opening
      intervals where their window covers `at`, else opening_hours.is_open (the reference).
    - `has_capacity`: a capacity figure with places free that is not stale.
    - `near`: annotates `distance_km`; with `radius_km`, only places within it.
    Ordered by distance when `near` is given (then rank), else by rank, else by name.

    The result is a lazy queryset, but `text` reads the query's words (one or two small
    queries) and `open_now` reads the intervals' window (one small query; two more to pick the
    open rows when `at` is outside it) when this is called.
    """
    qs = ServiceAtLocation.objects.select_related(
        "service__organization", "location__organization", "capacity"
    ).prefetch_related(
        "location__addresses",
        Prefetch("service__languages", queryset=Language.objects.order_by("code", "id")),
        Prefetch(
            "service__attributes",
            queryset=Attribute.objects.select_related(
                "taxonomy_term__taxonomy", "taxonomy_term__parent"
            ),
        ),
    )
    if active_only:
        qs = qs.filter(service__status=ServiceStatus.ACTIVE)
    if organization:
        qs = qs.filter(service__organization__public_id=organization)
    if modified_after:
        qs = qs.filter(
            Q(updated_at__gte=modified_after) | Q(service__updated_at__gte=modified_after)
        )
    if accepts_referrals is not None:
        qs = qs.filter(service__accepts_referrals=accepts_referrals)
    if postcode:
        qs = qs.filter(
            Exists(Address.objects.filter(location=OuterRef("location_id"), postal_code=postcode))
        )
    if taxonomy_terms:
        ids = _term_ids(taxonomy_terms)
        qs = qs.filter(
            Exists(
                Attribute.objects.filter(service=OuterRef("service_id")).filter(
                    Q(taxonomy_term__public_id__in=ids)
                    | Q(taxonomy_term__parent__public_id__in=ids)
                )
            )
        )
    if taxonomy:
        qs = qs.filter(
            Exists(
                Attribute.objects.filter(
                    service=OuterRef("service_id"), taxonomy_term__taxonomy__public_id=taxonomy
                )
            )
        )
    if language:
        # Case-blind on the indexed upper(code), and one EXISTS per owner: an OR of the two
        # owners inside one EXISTS could use neither foreign key's index (a nested loop over
        # every Spanish row for every candidate: seconds at 20,000 services).
        spoken = Language.objects.alias(code_upper=Upper("code")).filter(
            code_upper=language.strip().upper()
        )
        qs = qs.filter(
            Exists(spoken.filter(service=OuterRef("service_id")))
            | Exists(spoken.filter(location=OuterRef("location_id")))
        )
    if has_capacity:
        qs = qs.filter(
            capacity__available__gt=0,
            capacity__updated_at__gte=timezone.now() - capacity_stale_after(),
        )
    ordering: list = []
    if near is not None:
        if radius_km is not None:
            if not 0 < radius_km <= MAX_RADIUS_KM:
                raise DomainError(
                    "The radius is out of range.",
                    code="invalid",
                    fields={"radius_km": [f"Must be more than 0 and at most {MAX_RADIUS_KM:g}."]},
                )
            qs = qs.filter(earth_box(near, radius_km))
        qs = qs.filter(location__latitude__isnull=False, location__longitude__isnull=False)
        qs = qs.annotate(distance_km=distance_km(near))
        if radius_km is not None:
            qs = qs.filter(distance_km__lte=radius_km)
        # The chord grows with the distance: the same order, and the one the index serves
        # (page_keys walks the index nearest first: see _nearest_cut).
        ordering.append(chord_km(near).asc())
    text = text.strip()
    if text:
        qs, ranked = _text_search(qs, text, service="service__")
        if ranked:
            ordering.append(F("text_score").desc())
    if open_now:
        at = at or timezone.now()
        condition = open_at_condition(at)
        if condition is None:  # beyond the intervals' window: judge the schedules in Python
            condition = _in_ids("id", open_at_filter(qs, at))
        qs = qs.filter(condition)
    qs = qs.order_by(*ordering, "service__name", "id")
    if near is not None:
        # Read by page_keys; the query's attributes follow its clones (filters, slices).
        qs.query.nearest_first = (near, ordering[0])
    return qs


# How far the nearest-first cut looks for a page's `stop` matches: the nearest
# REACH_PLACES * stop places. A search whose matches are sparser than that (a word, Spanish
# and places free, say) is not cut: its own plan (the text index first) is the faster one.
REACH_PLACES = 20
# Pages ending further than this are not cut (the look would cover too many places).
REACH_MAX_STOP = 200


def _nearest_cut(queryset: QuerySet, stop: int) -> QuerySet:
    """`queryset` (service_search's, nearest first) cut to the places no farther than its
    `stop`-th nearest match, so its first `stop` rows come from an index walk, not a sort.

    PostgreSQL walks the locations' GiST index in `<->` order only when that distance is the
    whole ORDER BY; the search breaks its ties (rank, name, id), so on its own it sorts every
    match by distance (every place in the city for "nearest first" without a radius). Here a
    first small query takes the nearest REACH_PLACES * stop places (the index walk, bounded
    whatever the filters) and the first `stop` matches among them by distance alone; the
    search is then asked only for places in the cube of the farthest one's reach around the
    point (the same index's `<@`, a constant the planner sees). Every match that ranks in the
    first `stop` lies within that reach, ties included (`stop` matches are that near, so the
    stop-th nearest match of all is at most that far), so the first `stop` rows and their
    order are those of the uncut search. Fewer than `stop` matches among those places: no cut.
    """
    marker = getattr(queryset.query, "nearest_first", None)
    if marker is None or stop > REACH_MAX_STOP:
        return queryset
    near, first = marker
    if queryset.query.order_by[:1] != (first,):  # re-ordered since: not nearest first
        return queryset
    places = Location.objects.order_by(chord_km(near, location="")).values("id")
    reach = list(
        queryset.order_by(first)
        .filter(location_id__in=places[: REACH_PLACES * stop])
        .annotate(knn_chord=chord_km(near))
        .values_list("knn_chord", flat=True)[:stop]
    )
    if len(reach) < stop:
        return queryset
    return queryset.filter(_in_chord_box(near, Value(max(reach))))


def page_keys(queryset: QuerySet, stop: int) -> list:
    """The primary keys of queryset[:stop], in its order, found narrow: no select_related
    joins (a sort over thousands of matches, a text rank say, does not drag their
    organization, location and capacity rows along), nearest first by an index walk."""
    return list(_nearest_cut(queryset, stop).values_list("pk", flat=True)[:stop])


def rows_of(queryset: QuerySet, keys: Sequence) -> list:
    """The rows of `queryset` with these primary keys, in that order, read wide: with
    everything the queryset joins and prefetches (one query and its prefetches)."""
    if not keys:
        return []
    wide = queryset.order_by()
    # The keys passed every filter already: read them by primary key alone, not by searching
    # again (a planner that starts from a 5 km box or an opening-hours index reads thousands
    # of rows at 200,000 services to find these 20). The filters' joins stay: each is to one
    # row (service, location, capacity, search document) that these rows have, and the
    # annotations (distance, rank) read them.
    wide.query.where = WhereNode()
    found = {row.pk: row for row in wide.filter(pk__in=keys)}
    return [found[key] for key in keys if key in found]


def page_rows(queryset: QuerySet, start: int, stop: int) -> list:
    """queryset[start:stop], found narrow and then read wide (page_keys, then rows_of). One
    query more than a plain slice."""
    return rows_of(queryset, page_keys(queryset, stop)[start:stop])


# --- needs: the encounter's words for what a person needs, and the directory's terms --------

# The taxonomy the needs are matched in (seeded by migration 0005).
NEEDS_TAXONOMY = "ACS needs"
# Each need of an encounter (cases.models.Need) and the "ACS needs" terms that meet it; a term
# also covers its direct children (service_search's rule). "other" names no term.
NEED_TERMS: dict[str, tuple[str, ...]] = {
    "shelter": ("shelter",),
    "behavioral_health": ("behavioral-health", "crisis"),
    "substance_use": ("substance-use", "detox"),
    "medical": ("health",),
    "food": ("food",),
    "id_documents": ("id-documents",),
    "benefits": ("benefits",),
    "housing": ("housing",),
    "transportation": ("transportation",),
    "safety": ("domestic-violence",),
}


def need_terms(needs: Iterable[str]) -> list[TaxonomyTerm]:
    """The taxonomy terms that meet any of `needs` (one small query; none for no need or only
    needs without a term), for `service_search(taxonomy_terms=...)`."""
    codes = {code for need in needs for code in NEED_TERMS.get(need, ())}
    if not codes:
        return []
    return list(TaxonomyTerm.objects.filter(taxonomy__name=NEEDS_TAXONOMY, code__in=codes))


def service_needs(sal: ServiceAtLocation) -> list[str]:
    """The needs a service meets, read from its terms as service_search prefetches them (no
    query): the same rule as need_terms, so the tablet can filter offline as the server does."""
    codes = set()
    for attribute in sal.service.attributes.all():
        term = attribute.taxonomy_term
        if term.taxonomy.name != NEEDS_TAXONOMY:
            continue
        codes.add(term.code)
        if term.parent is not None:
            codes.add(term.parent.code)
    return [need for need, terms in NEED_TERMS.items() if codes.intersection(terms)]


# --- HSDS API reads --------------------------------------------------------------------------


def _detail_prefetches(prefix: str = "", *, shared: bool = True) -> list:
    """Prefetches of a full service; `shared=False` leaves out the ones service_search does."""
    p = prefix
    lookups: list = [
        f"{p}phones__languages",
        f"{p}schedules",
        f"{p}cost_options",
        f"{p}required_documents",
        f"{p}contacts__phones__languages",
    ]
    if shared:
        lookups += [
            Prefetch(f"{p}languages", queryset=Language.objects.order_by("code", "id")),
            Prefetch(
                f"{p}attributes",
                queryset=Attribute.objects.select_related(
                    "taxonomy_term__taxonomy", "taxonomy_term__parent"
                ),
            ),
        ]
    return lookups


def services_list(
    *,
    text: str = "",
    taxonomy_terms: Sequence[uuid.UUID] = (),
    taxonomy: uuid.UUID | None = None,
    organization: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    full: bool = False,
) -> QuerySet[Service]:
    """Services for the HSDS API (every status: HSDS publishes inactive ones with their status)."""
    qs = Service.objects.select_related("organization")
    if organization:
        qs = qs.filter(organization__public_id=organization)
    if modified_after:
        qs = qs.filter(updated_at__gte=modified_after)
    if taxonomy_terms:
        qs = qs.filter(
            Exists(
                Attribute.objects.filter(service=OuterRef("pk")).filter(
                    Q(taxonomy_term__public_id__in=taxonomy_terms)
                    | Q(taxonomy_term__parent__public_id__in=taxonomy_terms)
                )
            )
        )
    if taxonomy:
        qs = qs.filter(
            Exists(
                Attribute.objects.filter(
                    service=OuterRef("pk"), taxonomy_term__taxonomy__public_id=taxonomy
                )
            )
        )
    if full:
        qs = qs.prefetch_related(
            *_detail_prefetches(),
            Prefetch(
                "at_locations",
                queryset=ServiceAtLocation.objects.select_related(
                    "location__organization"
                ).prefetch_related(
                    "location__addresses",
                    "location__phones__languages",
                    "location__schedules",
                    "location__languages",
                    "phones__languages",
                    "schedules",
                    "contacts__phones__languages",
                ),
            ),
        )
    text = text.strip()
    if text:
        qs, ranked = _text_search(qs, text, service="")
        if ranked:
            return qs.order_by("-text_score", "name", "id")
    return qs.order_by("name", "id")


def service_at_locations_list(*, full: bool = False, **filters) -> QuerySet[ServiceAtLocation]:
    qs = service_search(active_only=False, **filters)
    if full:
        qs = qs.prefetch_related(
            *_detail_prefetches("service__", shared=False),
            "phones__languages",
            "schedules",
            "contacts__phones__languages",
            "location__phones__languages",
            "location__schedules",
            "location__languages",
            "location__contacts__phones__languages",
        )
    return qs


def organizations_list(
    *, text: str = "", full: bool = False, full_service: bool = False
) -> QuerySet[Organization]:
    qs = Organization.objects.all()
    if full or full_service:
        qs = qs.prefetch_related(
            "phones__languages",
            "contacts__phones__languages",
            Prefetch(
                "locations",
                queryset=Location.objects.prefetch_related(
                    "addresses", "phones__languages", "schedules", "languages"
                ),
            ),
        )
        if full_service:
            qs = qs.prefetch_related(
                Prefetch(
                    "services",
                    queryset=Service.objects.select_related("organization").prefetch_related(
                        *_detail_prefetches()
                    ),
                )
            )
        else:
            qs = qs.prefetch_related("services")
    text = text.strip()
    if text:
        return (
            qs.annotate(rank=TrigramWordSimilarity(Value(text), "name"))
            .filter(rank__gte=MIN_TEXT_RANK)
            .order_by("-rank", "name", "id")
        )
    return qs.order_by("name", "id")


def postcode_centroid(postcode: str) -> Point | None:
    """The mean position of our locations with this postcode (HSDS `proximity` is measured
    from the postcode's centroid; we know no other geography)."""
    from django.db.models import Avg

    centre = Location.objects.filter(
        addresses__postal_code=postcode, latitude__isnull=False, longitude__isnull=False
    ).aggregate(latitude=Avg("latitude"), longitude=Avg("longitude"))
    if centre["latitude"] is None:
        return None
    return Point(float(centre["latitude"]), float(centre["longitude"]))


def taxonomies_list(*, text: str = "") -> QuerySet[Taxonomy]:
    qs = Taxonomy.objects.all()
    if text.strip():
        qs = qs.filter(name__icontains=text.strip())
    return qs.order_by("name", "id")


def taxonomy_terms_list(
    *,
    text: str = "",
    taxonomy: uuid.UUID | None = None,
    parent: uuid.UUID | None = None,
    top_only: bool = False,
) -> QuerySet[TaxonomyTerm]:
    qs = TaxonomyTerm.objects.select_related("taxonomy", "parent")
    if taxonomy:
        qs = qs.filter(taxonomy__public_id=taxonomy)
    if parent:
        qs = qs.filter(parent__public_id=parent)
    if top_only:
        qs = qs.filter(parent__isnull=True)
    text = text.strip()
    if text:
        return (
            qs.annotate(rank=TrigramWordSimilarity(Value(text), "name"))
            .filter(rank__gte=MIN_TEXT_RANK)
            .order_by("-rank", "code", "id")
        )
    return qs.order_by("taxonomy__name", "code", "id")
