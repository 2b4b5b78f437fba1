"""`service_search`, the one search of the field app, admin and API, and reading its pages (narrow
keys, nearest first by an index walk, then wide rows)."""

from __future__ import annotations

import operator
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import reduce
from typing import Any, TypeVar

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.sql.where import AND, WhereNode
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from acs.errors import DomainError
from resources.models import (
    Address,
    Attribute,
    Language,
    SearchPlace,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
    capacity_stale_after,
)
from resources.models.opening_hours import MultirangeContains
from resources.selectors.directory.geo import (
    MAX_RADIUS_KM,
    Point,
    WithinRadius,
    chord_km,
    distance_km,
    in_chord_box,
)
from resources.selectors.directory.open_now import in_ids, open_at_condition, open_at_filter
from resources.selectors.directory.text import heaviest_page_keys, ranked_tsquery, text_search

_M = TypeVar("_M", bound=Model)

# The path from a service at location to its search row (SearchPlace): the name, status,
# referral flag, point, document, terms, languages and capacity the search filters and orders
# on, on one table.
PLACE = "search_place__"


def _term_ids(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> list[uuid.UUID]:
    return [t.public_id if isinstance(t, TaxonomyTerm) else t for t in terms]


def _terms_or_children(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> QuerySet[TaxonomyTerm]:
    """These terms and their direct children: what asking for a term means."""
    ids = _term_ids(terms)
    return TaxonomyTerm.objects.filter(Q(public_id__in=ids) | Q(parent__public_id__in=ids))


def offers_terms(terms: Iterable[uuid.UUID | TaxonomyTerm], *, service: str) -> Exists:
    """The service (the row's `service` column: "pk" for a Service, "service_id" for a
    service at a location) has any of these terms or one of their direct children."""
    return Exists(
        Attribute.objects.filter(
            service=OuterRef(service), taxonomy_term__in=_terms_or_children(terms)
        )
    )


def offers_terms_here(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> Q:
    """offers_terms on a service at location's search row: its service's terms (SearchPlace
    `terms`, under a GIN index) hold any of these terms or one of their direct children."""
    return Q(search_place__terms__overlap=ArraySubquery(_terms_or_children(terms).values("id")))


def in_taxonomy(taxonomy: uuid.UUID, *, service: str) -> Exists:
    """The service (as offers_terms's `service`) has a term of this taxonomy."""
    return Exists(
        Attribute.objects.filter(
            service=OuterRef(service), taxonomy_term__taxonomy__public_id=taxonomy
        )
    )


def _listing_prefetches(
    *, addresses: bool, languages: bool, needs: bool
) -> list[str | Prefetch[Any]]:
    chosen: list[str | Prefetch[Any]] = []
    if addresses:
        chosen.append("location__addresses")
    if languages:
        chosen.append(
            Prefetch("service__languages", queryset=Language.objects.order_by("code", "id"))
        )
    if needs:  # the terms service_needs reads
        chosen.append(
            Prefetch(
                "service__attributes",
                queryset=Attribute.objects.select_related(
                    "taxonomy_term__taxonomy", "taxonomy_term__parent"
                ),
            )
        )
    return chosen


def listed_with(
    queryset: QuerySet[ServiceAtLocation],
    *,
    addresses: bool = False,
    languages: bool = False,
    needs: bool = False,
) -> QuerySet[ServiceAtLocation]:
    """service_search's rows with only the lists the caller shows prefetched (service_search
    prefetches all three: the field app's snapshot shows them all): the addresses, the
    service's languages, its terms (`needs`). A list not shown is a statement and its model
    instances (four per term) a page that nothing reads."""
    return queryset.prefetch_related(None).prefetch_related(
        *_listing_prefetches(addresses=addresses, languages=languages, needs=needs)
    )


# The columns a line of a place shows (and what its lists and the referral preview read):
# the four joined rows' other columns (descriptions, contact fields, timestamps) were a third
# of reading the resources screen's 50 rows at 20,000 services (26 -> 19 ms in process,
# docs/benchmarks.md). Whoever goes on to write with a row reads it wide (`.defer(None)`).
BRIEF_FIELDS = (
    "public_id",
    "service__public_id",
    "service__name",
    "service__accepts_referrals",
    "service__organization__public_id",
    "service__organization__name",
    "location__name",
    "location__latitude",
    "location__longitude",
    "capacity__available",
    "capacity__total",
    "capacity__unit",
    "capacity__updated_at",
)


def listed_brief(
    queryset: QuerySet[ServiceAtLocation], *, languages: bool = False
) -> QuerySet[ServiceAtLocation]:
    """service_search's rows as a list of places shows each (the field app's resources screen,
    the admin's referral picker and its preview), in one statement: the service and its
    organization, the location (not its organization), the capacity figure, and as
    annotations the first address's `street` and `city` (None when it has none) and, with
    `languages`, the service's `language_codes` (by code).

    No prefetch: a list shows one line of each place, so reading every address and language
    as model instances (two statements and about 150 instances a page of 50) cost more than
    the page's own rows (the resources screen's 50 rows: 22 -> 14 ms at 20,000 services,
    docs/benchmarks.md). The annotations are read with the page's rows only: page_keys
    selects keys alone."""
    first_address = Address.objects.filter(location=OuterRef("location_id")).order_by("id")
    qs = (
        queryset.prefetch_related(None)
        .select_related(None)
        .select_related("service__organization", "location", "capacity")
        .only(*BRIEF_FIELDS)
        .annotate(
            street=Subquery(first_address.values("address_1")[:1]),
            city=Subquery(first_address.values("city")[:1]),
        )
    )
    if languages:
        qs = qs.annotate(
            language_codes=ArraySubquery(
                Language.objects.filter(service=OuterRef("service_id"))
                .order_by("code", "id")
                .values("code")
            )
        )
    return qs


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
    ).prefetch_related(*_listing_prefetches(addresses=True, languages=True, needs=True))
    if active_only:
        qs = qs.filter(search_place__status=ServiceStatus.ACTIVE)
    else:
        # Every place has its search row (the triggers write it with the place): joined
        # inner, as any filter on it would, so the name order can walk its index (a left
        # join, the HSDS list's every status, hashed every place: 3 -> 9.5 ms a page).
        qs = qs.filter(search_place__isnull=False)
    if organization:
        qs = qs.filter(service__organization__public_id=organization)
    if modified_after:
        qs = qs.filter(
            Q(updated_at__gte=modified_after) | Q(service__updated_at__gte=modified_after)
        )
    if accepts_referrals is not None:
        qs = qs.filter(search_place__accepts_referrals=accepts_referrals)
    if postcode:
        qs = qs.filter(
            Exists(Address.objects.filter(location=OuterRef("location_id"), postal_code=postcode))
        )
    if taxonomy_terms:
        qs = qs.filter(offers_terms_here(taxonomy_terms))
    if taxonomy:
        qs = qs.filter(in_taxonomy(taxonomy, service="service_id"))
    if language:
        # Case-blind: the search row holds the upper-case codes of the service's and the
        # location's languages, under a GIN index.
        qs = qs.filter(search_place__languages__contains=[language.strip().upper()])
    if has_capacity:
        qs = qs.filter(
            search_place__available__gt=0,
            search_place__capacity_updated_at__gte=timezone.now() - capacity_stale_after(),
        )
    ordering: list[OrderBy] = []
    if near is not None:
        if radius_km is not None:
            if not 0 < radius_km <= MAX_RADIUS_KM:
                raise DomainError(
                    "The radius is out of range.",
                    code="invalid",
                    fields={"radius_km": [f"Must be more than 0 and at most {MAX_RADIUS_KM:g}."]},
                )
            qs = qs.filter(WithinRadius(near, radius_km, place=PLACE))
        qs = qs.filter(search_place__point__isnull=False)
        qs = qs.annotate(distance_km=distance_km(near, place=PLACE))
        # The chord grows with the distance: the same order, and the one the index serves
        # (page_keys walks the index nearest first: see _nearest_cut).
        ordering.append(chord_km(near, place=PLACE).asc())
    text = text.strip()
    if text:
        qs, ranked = text_search(qs, text, service="service__", place=PLACE)
        if ranked:
            ordering.append(F("text_score").desc())
    if open_now:
        at = at or timezone.now()
        condition: Q | Func | None = open_at_condition(at, place=PLACE)
        if condition is None:  # beyond the intervals' window: judge the schedules in Python
            condition = in_ids("id", open_at_filter(qs, at))
        qs = qs.filter(condition)
    qs = qs.order_by(*ordering, "search_place__name", "id")
    if near is not None:
        # Read by page_keys; the query's attributes follow its clones (filters, slices).
        # An attribute of our own on Django's Query, which its stubs do not know.
        qs.query.nearest_first = (near, ordering[0])  # type: ignore[attr-defined]
    return qs


def left_out_of_search(
    text: str, *, accepts_referrals: bool = False, limit: int = 3
) -> list[tuple[str, str]]:
    """The services best matching `text` (every status) that `service_search(text=text,
    accepts_referrals=...)` leaves out, each with why, for a screen or picker that shows what
    that search finds and found nothing: its status when it is not active ("inactive",
    "temporarily closed"...), "does not take referrals" (when only those are asked for), "has
    no place yet" (the search lists services at locations); a name and reason once. In the
    active language. One query; directory data only."""
    qs, ranked = text_search(Service.objects.all(), text, service="")
    if not ranked:
        return []
    placed = ServiceAtLocation.objects.filter(service=OuterRef("pk"))
    listed = Q(status=ServiceStatus.ACTIVE, placed=True)
    if accepts_referrals:
        listed &= Q(accepts_referrals=True)
    rows = (
        qs.annotate(placed=Exists(placed))
        .exclude(listed)
        .order_by("-text_score", "name", "id")
        # A few more than `limit`: services of one name (each partner's "Food pantry") and
        # one reason are named once.
        .values_list("name", "status", "accepts_referrals")[: limit * 3]
    )
    reasons: list[tuple[str, str]] = []
    for name, status, takes_referrals in rows:
        if status != ServiceStatus.ACTIVE:
            why = _STATUS_REASONS.get(status, status)
        elif accepts_referrals and not takes_referrals:
            why = gettext("does not take referrals")
        else:  # active (and taking referrals, if asked), so left out for having no place
            why = gettext("has no place yet")
        if (name, str(why)) not in reasons:
            reasons.append((name, str(why)))
    return reasons[:limit]


def left_out_text(left_out: Iterable[tuple[str, str]]) -> str:
    """left_out_of_search's answer as people read it: "Name (why); Name (why)"."""
    return "; ".join(f"{name} ({why})" for name, why in left_out)


# A service status as the reason it is not listed (the labels are HSDS's, untranslated).
_STATUS_REASONS = {
    ServiceStatus.INACTIVE: gettext_lazy("inactive"),
    ServiceStatus.DEFUNCT: gettext_lazy("defunct"),
    ServiceStatus.TEMPORARILY_CLOSED: gettext_lazy("temporarily closed"),
}


# How far the nearest-first cut looks for a page's `stop` matches: the nearest
# REACH_PLACES * stop places. A search whose matches are sparser than that (a word, Spanish
# and places free, say) is not cut: see page_keys.
REACH_PLACES = 20
# Pages ending further than this are not cut (the look would cover too many places).
REACH_MAX_STOP = 200
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
    (the matches are sparse). A search with words looks without that bound: it walks every
    place nearest first, checking the words in the index, until `stop` match.
    """
    near, first = marker
    unbounded, within = _without_radius(queryset)
    looked = unbounded.order_by(first).annotate(
        knn_chord=chord_km(near, place=PLACE), knn_within=within
    )
    if "text_score" in queryset.query.annotations:
        # Words: the walk itself, nearest first through the GiST index of the point and the
        # document, which checks the words in the index and reads only the rows that have
        # them (their other filters), until `stop` of those match. PostgreSQL, misjudging
        # how many places match a word and places free (or open now) together, would rather
        # read every match and sort them (a word with places free near the tablet at 200,000
        # services: 103 -> 5 ms walked). The walk reads no more than that: at worst the
        # index's entries and every row with the words.
        with _planned_without(looked.db, "bitmapscan", "sort"):
            rows = list(looked.values_list("knn_chord", "knn_within")[:stop])
    else:
        places = SearchPlace.objects.order_by(chord_km(near, place="")).values("pk")
        rows = list(
            looked.filter(pk__in=places[: REACH_PLACES * stop]).values_list(
                "knn_chord", "knn_within"
            )[:stop]
        )
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
    then the cut page, was tried: no faster at 200,000 services).

    Best match first (a text rank leads the order: ranked_tsquery), the same: counted and
    sorted whole up to SPARSE_MATCHES; past that, the page is read from its words' heaviest
    documents when that is proven exact (heaviest_page_keys), or every match is ranked."""
    marker = _nearest_first(queryset, stop)
    best_first = marker is None and ranked_tsquery(queryset) is not None
    if (marker is not None or best_first) and counted_past < SPARSE_MATCHES:
        _count, keys = counted_page_keys(queryset, stop, limit=SPARSE_MATCHES)
        if keys is not None:
            return keys
    cut = None
    if best_first:
        # Many matches, best first: from the heaviest documents of the query's words, where
        # that is proven to find the page (heaviest_page_keys); else every match ranked,
        # below.
        keys = heaviest_page_keys(queryset, stop, service=_service_key(queryset))
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
    # Words open now: the matches are found from the indexes' bitmaps (the documents' first),
    # never by reading the table, or an index of every place, in order until `limit` of them
    # turn up. PostgreSQL takes open now for far more places than are open (its estimate,
    # like the spans' index, sees each place's whole window), so with a word it expected
    # 16,631 matches where there were 408 ("clinic", open now, at 200,000 services) and read
    # all 220,000 rows for them: 148 -> 38 ms from the bitmaps (docs/benchmarks.md). Words
    # alone it estimates well, and is left to plan.
    misjudged = "text_score" in queryset.query.annotations and _asks_spans(queryset.query.where)
    with (
        _planned_without(queryset.db, "seqscan", "indexscan") if misjudged else nullcontext(),
        connections[queryset.db].cursor() as cursor,
    ):
        cursor.execute(  # Django's own compiled SQL of the two querysets, with their params
            f"WITH matches AS MATERIALIZED ({matches_sql}) "  # noqa: S608
            "SELECT n, CASE WHEN n <= %s THEN ARRAY("
            f"{ordered_sql}) END FROM (SELECT count(*) AS n FROM matches) AS counted",
            (*matches_params, limit, *ordered_params),
        )
        count, keys = cursor.fetchone()
    return count, keys


def _asks_spans(where: WhereNode) -> bool:
    """The filters ask whether the opening spans hold an instant (open now from the
    intervals, open_at_condition), anywhere in the tree."""
    return any(
        isinstance(child, MultirangeContains)
        or (isinstance(child, WhereNode) and _asks_spans(child))
        for child in where.children
    )


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
