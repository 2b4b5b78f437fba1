"""Reading a page of the directory's search (`service_search`'s queryset): narrow keys first
(best match first from the words' heaviest documents, nearest first by an index walk, few
matches counted and sorted in one statement), then the page's rows read wide."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import reduce
from typing import Any, TypeVar

from django.db import connections, transaction
from django.db.models import BooleanField, ExpressionWrapper, Model, Q, QuerySet, Value
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.sql.where import AND, WhereNode

from resources.models import SearchPlace, Service
from resources.selectors.directory.geo import Point, WithinRadius, chord_km, in_chord_box
from resources.selectors.directory.heaviest import HEAVY_DEPTHS, heaviest_page_keys, ranked_words
from resources.selectors.directory.search import PLACE
from resources.selectors.directory.text import ranked_tsquery

_M = TypeVar("_M", bound=Model)

# How far the nearest-first cut looks for a page's `stop` matches: the nearest
# REACH_PLACES * stop places. A search whose matches are sparser than that (a word, Spanish
# and places free, say) is not cut: see page_keys.
REACH_PLACES = 20
# Pages ending further than this are not cut (the look would cover too many places).
REACH_MAX_STOP = 200
# How far a search's matches are counted (the HSDS list's `total_items`, the admin's service
# list): past it the count says "at least", since an exact count of a common word's matches
# is a scan of them on every page.
MATCHES_COUNTED = 1000
# A search too sparse to cut is counted this far and, if it has no more matches, those are
# sorted (counted_page_keys).
SPARSE_MATCHES = 1000


def _nearest_first(queryset: QuerySet[_M], stop: int) -> tuple[Point, OrderBy] | None:
    """service_search's (point, first order key) when `queryset` is still nearest first and
    its page ends near enough (REACH_MAX_STOP) to be cut; else None."""
    marker: tuple[Point, OrderBy] | None = getattr(queryset.query, "nearest_first", None)
    if marker is None or stop > REACH_MAX_STOP:
        return None
    if queryset.query.order_by[:1] != (marker[1],):  # re-ordered since: not nearest first
        return None
    return marker


def _nearest_cut(
    queryset: QuerySet[_M], stop: int, marker: tuple[Point, OrderBy]
) -> QuerySet[_M] | None:
    """`queryset` (service_search's, nearest first: `marker` is _nearest_first's) cut to the
    places no farther than its `stop`-th nearest match, so its first `stop` rows come from an
    index walk, not a sort.

    PostgreSQL walks the locations' GiST index in `<->` order only when that distance is the
    whole ORDER BY; the search breaks its ties (rank, name, id), so on its own it sorts every
    match by distance (every place in the city for "nearest first" without a radius). Here a
    first small query takes the nearest REACH_PLACES * stop places (the index walk, bounded
    whatever the filters) and the first `stop` matches among them by distance alone; the
    search is then asked only for places in the cube of the farthest one's reach around the
    point (the same index's `<@`, a constant the planner sees). Every match that ranks in the
    first `stop` lies within that reach, ties included (`stop` matches are that near, so the
    stop-th nearest match of all is at most that far), so the first `stop` rows and their
    order are those of the uncut search. Fewer than `stop` matches among those places: None
    (the matches are sparse), unless the search has a radius and those places held some: the
    places are then walked nearest first until `stop` match, bounded by the radius's cube,
    which holds more matches than page_keys sorts whole ("Spanish, places free, within 5 km"
    at 200,000 services, a third of the points: a 14 ms sort of every match in the radius
    became a 2-4 ms walk). A search with words looks without that bound: it walks every
    place nearest first, checking the words in the index, until `stop` match.
    """
    near, first = marker
    unbounded, within = _without_radius(queryset)

    def nearest(searched: QuerySet[_M], inside: Any) -> QuerySet[Any]:
        return searched.order_by(first).annotate(
            knn_chord=chord_km(near, place=PLACE), knn_within=inside
        )

    def walked(searched: QuerySet[_M], inside: Any) -> list[tuple[float, bool]]:
        with _planned_without(searched.db, "bitmapscan", "sort"):
            return list(nearest(searched, inside).values_list("knn_chord", "knn_within")[:stop])

    if "text_score" in queryset.query.annotations:
        # Words: the walk itself, nearest first through the GiST index of the point and the
        # document, which checks the words in the index and reads only the rows that have
        # them (their other filters), until `stop` of those match. PostgreSQL, misjudging
        # how many places match a word and places free (or open now) together, would rather
        # read every match and sort them (a word with places free near the tablet at 200,000
        # services: 103 -> 5 ms walked). The walk reads no more than that: at worst the
        # index's entries and every row with the words.
        rows = walked(unbounded, within)
    else:
        places = SearchPlace.objects.order_by(chord_km(near, place="")).values("pk")
        rows = list(
            nearest(unbounded, within)
            .filter(pk__in=places[: REACH_PLACES * stop])
            .values_list("knn_chord", "knn_within")[:stop]
        )
        if 0 < len(rows) < stop and unbounded is not queryset:
            # Some matches among the nearest places, too few, and a radius: walk the places
            # nearest first, as for words, until `stop` match. The radius holds more than
            # SPARSE_MATCHES matches (page_keys counted them), so the walk ends inside its
            # cube, and soon where the nearest places held some.
            rows = walked(queryset, Value(True))
    # Nearest first, the matches within the radius come before any beyond it.
    reach = [chord for chord, inside in rows if inside]
    if len(reach) < stop:
        return None
    return queryset.filter(in_chord_box(near, Value(max(reach)), place=PLACE))


@contextmanager
def _planned_without(using: str, *methods: str) -> Iterator[None]:
    """Statements inside are planned without these methods ("seqscan", "bitmapscan", "sort":
    PostgreSQL's `enable_*` settings), set for the transaction and put back on the way out (a
    savepoint: an error inside rolls them back with it)."""
    names = [f"enable_{method}" for method in methods]
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        current = ", ".join("current_setting(%s)" for _ in names)
        off = ", ".join("set_config(%s, 'off', true)" for _ in names)
        cursor.execute(f"SELECT {current}, {off}", [*names, *names])
        before = cursor.fetchone()[: len(names)]
        yield
        put_back = ", ".join("set_config(%s, %s, true)" for _ in names)
        pairs = [value for pair in zip(names, before, strict=True) for value in pair]
        cursor.execute(f"SELECT {put_back}", pairs)


def _without_radius(queryset: QuerySet[_M]) -> tuple[QuerySet[_M], ExpressionWrapper[Any]]:
    """`queryset` without its radius filters (WithinRadius), and their exact halves
    (`distance <= radius`) as one expression to read on each row (True when there are none).

    The nearest-first cut's first look reads the few hundred places nearest the point. With
    the radius among its filters, PostgreSQL started from the radius's cube instead, which it
    cannot count (it guessed 73 places where a 5 km cube in the synthetic city holds 33,000):
    it read and measured every place in the cube, then kept those among the nearest (50 ms at
    200,000 services, against 12 ms without it)."""
    where = queryset.query.where
    kept, radii = [], []
    if where.connector == AND and not where.negated:  # each child a filter of its own
        for child in where.children:
            condition = getattr(child, "lhs", None)
            if isinstance(condition, WithinRadius):
                radii.append(Q(condition.at_most()))
            else:
                kept.append(child)
    within = ExpressionWrapper(
        reduce(operator.and_, radii) if radii else Value(True), output_field=BooleanField()
    )
    if not radii:
        return queryset, within
    looked = queryset.all()
    looked.query.where = WhereNode(kept, connector=AND)
    return looked, within


def page_keys(queryset: QuerySet[_M], stop: int, *, counted_past: int = 0) -> list[Any]:
    """The primary keys of queryset[:stop], in its order, found narrow: no select_related
    joins (a sort over thousands of matches, a text rank say, does not drag their
    organization, location and capacity rows along), nearest first by an index walk.

    Nearest first, the matches are first counted, and sorted in the same statement when there
    are at most SPARSE_MATCHES (counted_page_keys), unless the caller counted past that many
    already (`counted_past`, the HSDS list's count). Most of the field app's searches (a word,
    open now, places free, Spanish) have fewer than 50 matches among the nearest 1,000
    places, too sparse for the cut: asked first, the cut's look was read for nothing (42 of
    the benchmark's 50; counted first: 33-36 -> 20-25 ms p50 at 20,000 services, 211-275 ->
    175-197 at 200,000; docs/benchmarks.md). Asked for the uncut order, PostgreSQL walks every
    place nearest first hoping to meet `stop` matches soon, and met none of the "food pantry,
    open now" on a Sunday morning at 200,000 services until it had read all 220,000 places
    (2.6 s). More matches than that: the cut (_nearest_cut), or, too sparse among the nearest
    places, the uncut search (an unbounded reach, walking the index until `stop` matches,
    then the cut page, was tried: no faster at 200,000 services; within a radius the walk
    is bounded, and _nearest_cut takes it).

    Best match first (a text rank leads the order: ranked_tsquery), the same: counted and
    sorted whole up to SPARSE_MATCHES; past that, the page is read from its words' heaviest
    documents when that is proven exact (heaviest_page_keys), or every match is ranked."""
    marker = _nearest_first(queryset, stop)
    best_first = marker is None and ranked_tsquery(queryset) is not None
    depths: tuple[int, ...] = HEAVY_DEPTHS
    if best_first and counted_past < SPARSE_MATCHES and ranked_words(queryset) == 1:
        # One word: its heaviest documents' first look (and top tier) before the count. A
        # common word's page is proven there, and counting its first thousand matches was
        # for nothing (the referral picker at 200,000 services: "shelter", 15 ms). Several
        # words are counted first: their first look ranks more candidates, and their
        # matches are fewer.
        keys = heaviest_page_keys(
            queryset, stop, service=_service_key(queryset), depths=HEAVY_DEPTHS[:1]
        )
        if keys is not None:
            return keys
        depths = HEAVY_DEPTHS[1:]
    if (marker is not None or best_first) and counted_past < SPARSE_MATCHES:
        _count, keys = counted_page_keys(queryset, stop, limit=SPARSE_MATCHES)
        if keys is not None:
            return keys
    cut = None
    if best_first:
        # Many matches, best first: from the heaviest documents of the query's words, where
        # that is proven to find the page (heaviest_page_keys); else every match ranked,
        # below.
        keys = heaviest_page_keys(queryset, stop, service=_service_key(queryset), depths=depths)
        if keys is not None:
            return keys
    elif marker is not None:
        cut = _nearest_cut(queryset, stop, marker)
    return list((queryset if cut is None else cut).values_list("pk", flat=True)[:stop])


def pages_by_slice(queryset: QuerySet[_M], count: int) -> bool:
    """Whether page_keys has no better way than a plain slice to a page of `queryset` of
    `count` matches: few enough to sort whole (SPARSE_MATCHES, page_keys's own limit), or
    ordered neither best match first nor nearest first (a list sorted by a column, whose
    deep pages a slice's OFFSET reaches without reading every key before them)."""
    if count <= SPARSE_MATCHES:
        return True
    return ranked_tsquery(queryset) is None and _nearest_first(queryset, 1) is None


def _service_key(queryset: QuerySet[_M]) -> str:
    """The path to the service's key on `queryset`'s rows: a Service's own, or a service at
    a location's service."""
    return "pk" if queryset.model is Service else "service_id"


def counted_page_keys(
    queryset: QuerySet[_M], stop: int, *, limit: int
) -> tuple[int, list[Any] | None]:
    """(count, keys) in one statement: the number of matches, read no further than `limit` + 1
    (so `limit` + 1 means "more than `limit`"), and, when there are at most `limit`, the keys
    of queryset[:stop] in its order, sorted from those matches alone (keys None past `limit`:
    page_keys finds them, by an index walk where it can).

    A search with few matches (the street corner's 18, a rare language's 200) was counted,
    then searched again for its page; now the matches the count reads are the ones sorted."""
    if queryset.query.is_empty():  # .none(): a text of stop words or symbols only
        return 0, []
    matches = queryset.order_by().values("pk")[: limit + 1]
    matches_sql, matches_params = matches.query.sql_with_params()
    ordered = _by_keys(queryset).filter(pk__in=RawSQL("SELECT pk FROM matches", ()))
    ordered_sql, ordered_params = ordered.values_list("pk", flat=True)[
        :stop
    ].query.sql_with_params()
    # Words open now are left to the planner: it once took open now for far more places than
    # were open (the spans' GiST sees each place's whole window), so this statement was
    # planned without sequential and ordered index scans ("clinic" open now at 200,000
    # services read all 220,000 rows: 148 -> 38 ms); since words ask the hour from their own
    # index (open_at_condition, migration 0030) it estimates them well, and those settings,
    # which also made each match's rows be read through a bitmap of one, cost 2-35 ms
    # (docs/benchmarks.md, "Words open now from one index").
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(  # Django's own compiled SQL of the two querysets, with their params
            f"WITH matches AS MATERIALIZED ({matches_sql}) "  # noqa: S608
            "SELECT n, CASE WHEN n <= %s THEN ARRAY("
            f"{ordered_sql}) END FROM (SELECT count(*) AS n FROM matches) AS counted",
            (*matches_params, limit, *ordered_params),
        )
        count, keys = cursor.fetchone()
    return count, keys


def _by_keys(queryset: QuerySet[_M]) -> QuerySet[_M]:
    """`queryset` without its filters: for rows whose keys passed every filter already, read
    by key alone, not by searching again (a planner that starts from a 5 km box or an
    opening-hours index reads thousands of rows at 200,000 services to find 20). The filters'
    joins stay: each is to one row (service, location, capacity, search document) that these
    rows have, and the annotations and order (distance, rank) read them."""
    unfiltered = queryset.all()
    unfiltered.query.where = WhereNode()
    return unfiltered


def rows_of(queryset: QuerySet[_M], keys: Sequence[Any]) -> list[_M]:
    """The rows of `queryset` with these primary keys, in that order, read wide: with
    everything the queryset joins and prefetches (one query and its prefetches)."""
    if not keys:
        return []
    found = {row.pk: row for row in _by_keys(queryset).order_by().filter(pk__in=keys)}
    return [found[key] for key in keys if key in found]


def page_rows(queryset: QuerySet[_M], start: int, stop: int) -> list[_M]:
    """queryset[start:stop], found narrow and then read wide (page_keys, then rows_of). One
    query more than a plain slice."""
    return rows_of(queryset, page_keys(queryset, stop)[start:stop])
