"""A text search's best page read from its words' heaviest documents (DocumentWeight,
migration 0028) instead of ranking every match: the looks down each word's weights, the top
tier read down its rarest word or in name order (docs/directory.md, "Ranking a word from its
heaviest documents", "The top tier"). The words themselves, their matches and their rank:
text.py."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.db import connections
from django.db.models import Func, QuerySet
from django.db.models.expressions import RawSQL

from resources.models import Service, ServiceAtLocation
from resources.selectors.directory.open_now import equals_any
from resources.selectors.directory.text import (
    WEIGHT_SCALE,
    any_of_lexemes,
    rank_fifths_sql,
    ranked_tsquery,
)

# The best matches of a query, heaviest first (DocumentWeight, migration 0028). The
# weights of a document's heavy words are five times ts_rank_cd's (whole numbers), and a
# word of the document weighs at least HEAVY when it is stored (text.WEIGHT_SCALE).
HEAVY = 5
# How deep each word's heaviest documents are read (as a share of the page: its heaviest
# document, then as many as the page, then 8 and 64 times as many), with every document as
# heavy as the last one read; then every match is ranked, as without them. Ranks tie in
# steps (a name's word, a term's), so the heaviest step alone is often a page; a query of
# several words, or of a misspelling and its corrections, sums the bounds of each of its
# lexemes, so it may need a step or two more ("hot mels" at 200,000 services: 64 pages).
HEAVY_DEPTHS = (0, 1, 8, 64)
# No deeper look than this many of the lexemes' documents (rows of DocumentWeight): ranking
# that many candidates costs about as much as ranking every match (9 us a candidate, 3 us a
# match read from the GIN index at 200,000 services).
MAX_HEAVY_CANDIDATES = 12_000
# Half the step between two ranks of a query (0.2: 1 / WEIGHT_SCALE), so a float
# rank's rounding never decides whether a page is the best.
_RANK_MARGIN = 0.1


# For one lexeme: the weight of its `depth`-th heaviest document (NULL: fewer are stored),
# only then whether any document holds it at all (resources_document_holds, from the GIN
# index: a misspelling's own lexemes are in none), how many documents are at least as
# heavy (read no further than a limit), and the next lighter weight stored (NULL: none),
# the most a document lighter than the depth-th can weigh. One per lexeme, in UNION ALL.
_HEAVIEST_SQL = """
SELECT x.nth, CASE WHEN x.nth IS NULL THEN resources_document_holds(%s) END,
  (SELECT count(*) FROM (SELECT 1 FROM resources_documentweight c WHERE c.lexeme = %s
     AND c.weight >= coalesce(x.nth, %s) LIMIT %s) AS r),
  (SELECT max(l.weight) FROM resources_documentweight l WHERE l.lexeme = %s
     AND l.weight < x.nth)
FROM (SELECT (SELECT w.weight FROM resources_documentweight w WHERE w.lexeme = %s
              ORDER BY w.weight DESC OFFSET %s LIMIT 1) AS nth) AS x
"""
_CANDIDATES_SQL = (
    "SELECT w.service_id FROM unnest(%s::text[], %s::int[]) AS t(lexeme, weight) "
    "JOIN resources_documentweight w ON w.lexeme = t.lexeme AND w.weight >= t.weight"
)


# A planned look (_Planner): no more candidates than this (rows of DocumentWeight, the
# lexemes' documents at least as heavy as their floors), about 15 ms of ranking at 200,000
# services; each lexeme's stored weights are read no further than that many documents.
MAX_PLANNED_CANDIDATES = 6_000
# Each lexeme's stored weights, heaviest first, with how many documents weigh each, read from
# no more than %s of its heaviest documents (the index on (lexeme, weight DESC)), and, for a
# lexeme with none stored, whether any document holds it (resources_document_holds). Every
# lexeme in one statement: its place in the list, a weight (NULL: none), the documents, held.
_WEIGHTS_SQL = """
SELECT t.n, h.weight, h.documents,
  CASE WHEN h.weight IS NULL THEN resources_document_holds(t.lexeme) END
FROM unnest(%s::text[]) WITH ORDINALITY AS t(lexeme, n)
LEFT JOIN LATERAL (
  SELECT x.weight, count(*) AS documents FROM (
    SELECT w.weight FROM resources_documentweight w WHERE w.lexeme = t.lexeme
    ORDER BY w.weight DESC LIMIT %s) AS x
  GROUP BY x.weight) AS h ON true
"""


def _look_params(lexeme: str, offset: int) -> tuple[Any, ...]:
    """_HEAVIEST_SQL's parameters for one lexeme at one depth (`offset`)."""
    return (lexeme, lexeme, HEAVY, MAX_HEAVY_CANDIDATES + 1, lexeme, lexeme, offset)


def _among_candidates(service: str, candidates: RawSQL) -> Func:
    """`service = ANY(ARRAY(candidates))`: the rows of these candidate services, read from
    them. As `IN (candidates)`, PostgreSQL could start from the search's other conditions
    instead: it guesses a few hundred documents for words that thousands hold, so it read
    every match of the words from their index and joined the candidates to them ("birth
    certificate" in the referral picker at 200,000 services: 4,999 matches read for 724
    candidate services, 8-20 ms). The array is computed first, and the rows are found by
    their service's index."""
    return equals_any(service, Func(candidates, template="ARRAY%(expressions)s"))


def _candidates(lexemes: Sequence[str], floors: Sequence[int]) -> RawSQL:
    """The services holding any of `lexemes` at least as heavy as its floor (a constant
    statement: the lexemes and weights are its parameters)."""
    return RawSQL(_CANDIDATES_SQL, (list(lexemes), list(floors)))  # noqa: S611


def _ranked_candidates(
    queryset: QuerySet[Any], stop: int, service: str, lexemes: Sequence[str], floors: Sequence[int]
) -> list[tuple[Any, float]]:
    """The first `stop` (key, text_score) of `queryset` among the services holding any of
    `lexemes` at least as heavy as its floor: one look's candidates ranked with the filters."""
    among = _among_candidates(service, _candidates(lexemes, floors))
    return list(queryset.filter(among).values_list("pk", "text_score")[:stop])


def _proven(rows: list[tuple[Any, float]], stop: int, left_out: int) -> list[Any] | None:
    """The page's keys when `rows` fill it and its last ranks above what a document left out
    may weigh (`left_out`, fifths, by half a step: _RANK_MARGIN); else None."""
    if len(rows) == stop and rows[-1][1] > left_out / WEIGHT_SCALE + _RANK_MARGIN:
        return [pk for pk, _score in rows]
    return None


# The best matches read down the rank's rarest lexeme (_top_tier_keys): up to TIER_RANKED
# of its heaviest documents ranked with their filters, as a look of heaviest_page_keys
# ranks its candidates. More at its heaviest weight (the generated directory names thousands
# of services alike: "crisis" at 200,000 services, 4,666 documents at the heaviest weight)
# are not ranked whole to find their first places by name: the first places of the
# directory by name are read instead, TIER_WALK_SPREAD times as many as should hold the page
# among them, no more than TIER_WALK_MAX_PLACES (services at locations only: the search
# rows' name index).
TIER_RANKED = 1_000
# How many floors a word is read down (its heaviest weight, then the next lighter one):
# deeper, the looks of every word do as well ("hot mels" at 20,000 services: 4 floors, none
# the page, 15 ms).
TIER_STEPS = 2
TIER_WALK_SPREAD = 3
TIER_WALK_MAX_PLACES = 6_000
# A walk that knows the top tier by its weights reads the names' index alone, so it may go
# further: the admin's list, 50 a page, at 200,000 services: "crisis" reaches 6,394 names,
# "detox" 20,300 in 3 ms, where ranking its 1,478 heaviest documents took 14; the places'
# walk, "shelter" 10,873 names in 4 ms (its 1,214 heaviest services' places found first).
TIER_WALK_MAX_NAMES = 40_000
# A walk whose rows the filters mostly leave out (the referral picker: places taking
# referrals, 39% of the generated directory's) is walked once more, twice as far as the
# share they kept needs (names are not spread evenly).
TIER_WALKS = 2
# A lexeme's next lighter stored weight than %s (NULL: none is stored), and how many of its
# documents weigh at least that much (or %s, with none lighter), read no further than a
# limit. One per lexeme, in UNION ALL.
_LIGHTER_SQL = """
SELECT x.w, (SELECT count(*) FROM (SELECT 1 FROM resources_documentweight c
    WHERE c.lexeme = %s AND c.weight >= coalesce(x.w, %s) LIMIT %s) AS r)
FROM (SELECT max(w.weight) AS w FROM resources_documentweight w
      WHERE w.lexeme = %s AND w.weight < %s) AS x
"""
# The search rows (SearchPlace) in name order, the first %s of them: those whose rank (in
# whole fifths, as text_score) is the top one. A CASE, so that only rows with the words
# are ranked.
_TIER_WALK_SQL = f"""
SELECT w.pk FROM (
  SELECT p.service_at_location_id AS pk,
    CASE WHEN p.document @@ %s::tsquery THEN {rank_fifths_sql("p.document, %s::tsquery")} >= %s
    ELSE false END AS top
  FROM resources_searchplace p ORDER BY p.name, p.service_at_location_id LIMIT %s
) AS w WHERE w.top
"""  # noqa: S608 - constants only; the tsquery, rank and limit are parameters
# The documents stored at each lexeme's heaviest weight, every lexeme (the lexemes, weights
# and their number): the top rank's (no document weighs more, so only those rank the sum).
_TIER_WEIGHED_SQL = """
SELECT d.service_id FROM unnest(%s::text[], %s::int[]) AS t(lexeme, weight)
JOIN resources_documentweight d ON d.lexeme = t.lexeme AND d.weight >= t.weight
GROUP BY d.service_id HAVING count(*) = %s
"""
# The services, or the search rows, in name order, the first %s of them: those of the top
# tier (_TIER_WEIGHED_SQL's parameters follow). From the names' index alone, and the
# weights' (and, for places, the services' places).
_TIER_SERVICES_WALK_SQL = f"""
SELECT w.id FROM (
  SELECT s.id FROM resources_service s ORDER BY s.name, s.id LIMIT %s
) AS w WHERE w.id IN ({_TIER_WEIGHED_SQL})
"""  # noqa: S608 - constants only
_TIER_PLACES_WALK_SQL = f"""
SELECT w.pk FROM (
  SELECT p.service_at_location_id AS pk FROM resources_searchplace p
  ORDER BY p.name, p.service_at_location_id LIMIT %s
) AS w WHERE w.pk IN (
  SELECT sal.id FROM resources_serviceatlocation sal WHERE sal.service_id IN ({_TIER_WEIGHED_SQL})
)
"""  # noqa: S608 - constants only
# PostgreSQL's estimate of the number of rows of a table (0 or less: not yet analyzed).
_ROWS_SQL = "SELECT reltuples FROM pg_class WHERE oid = %s::regclass"


def ranked_words(queryset: QuerySet[Any]) -> int | None:
    """How many words `queryset`'s rank (ranked_tsquery) is the sum of (a word's stems and
    corrections are one); None when it is not ordered by a rank of any of its lexemes."""
    tsquery = ranked_tsquery(queryset)
    groups = _lexeme_groups(tsquery) if tsquery else None
    return None if groups is None else len(groups)


def _lexeme_groups(tsquery: str) -> list[list[str]] | None:
    """The lexemes of each word of a rank (text_query's `rank_tsquery`: its words' groups
    joined by `|`, each a word's stems and corrections), words sharing a lexeme merged; None
    when a group is not a query of any of its lexemes (any_of_lexemes)."""
    parts, depth, start, quoted, i = [], 0, 0, False, 0
    while i < len(tsquery):
        char = tsquery[i]
        if quoted:
            if char == "'" and tsquery[i + 1 : i + 2] == "'":
                i += 1  # an escaped quote inside a lexeme
            elif char == "'":
                quoted = False
        elif char == "'":
            quoted = True
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            parts.append(tsquery[start:i])
            start = i + 1
        i += 1
    parts.append(tsquery[start:])
    groups: list[set[str]] = []
    for part in parts:
        lexemes = any_of_lexemes(part)
        if not lexemes:
            return None
        merged = set(lexemes)
        for group in [g for g in groups if g & merged]:
            merged |= group
            groups.remove(group)
        groups.append(merged)
    return [sorted(group) for group in groups]


def _top_tier_keys(
    queryset: QuerySet[Any],
    stop: int,
    *,
    service: str,
    tsquery: str,
    lexemes: list[str],
    looked: list[tuple[Any, ...]],
    planner: _Planner,
) -> list[Any] | None:
    """The keys of queryset[:stop] (best match first, then by name and id) read down the heaviest
    documents of one word of the rank, the rarest, when that proves them; else None.

    `looked` is heaviest_page_keys's first look: for each of the rank's `lexemes`, its heaviest
    stored weight, whether a document holds it at all, how many documents weigh that much, and
    the next lighter weight stored. No document weighs more than the heaviest in any lexeme. So
    a document that weighs less than its floor in each lexeme of one word (its stems and
    corrections, _lexeme_groups) ranks at most the sum of what it can weigh under those floors
    (the next lighter weights stored, at the first floor; the floors less one after), plus the
    other words' heaviest weights: the documents at least that heavy in one of the word's
    lexemes are the candidates (up to TIER_RANKED of them, ranked with the filters), and the
    page is theirs when its last place ranks above that bound. The floors start at the heaviest
    weights (the top tier: the places ranking the sum of every lexeme's heaviest weight) and
    step down the word's stored weights together, TIER_STEPS floors at most. The word is the one
    with the fewest heaviest documents. A look of heaviest_page_keys takes every word's
    documents down to one depth: "food pantry" at 200,000 services, 3,791 candidates (food, and
    pantry's two stems, at their heaviest) where food's 51 heaviest documents start its top
    tier. A full page that is not proven plans a look from its last place's rank (`planner`,
    _Planner). A word with more than TIER_RANKED heaviest documents has its top tier read in
    name order (_top_tier_by_name), when `queryset` lists service_search's places."""
    heaviest: dict[str, tuple[int, int]] = {}  # lexeme: (weight, documents that heavy)
    under: dict[str, int] = {}  # lexeme: the most a document under its floor weighs
    for lexeme, (nth, found, count, lighter) in zip(lexemes, looked, strict=True):
        if nth is None:
            if found:  # the lexeme stands only in light places: its heaviest weight unknown
                return None
            continue  # in no document: it adds nothing to any rank
        heaviest[lexeme] = (nth, count)
        under[lexeme] = lighter or HEAVY - 1
    groups = _lexeme_groups(tsquery)
    if not heaviest or groups is None:
        return None
    top = sum(weight for weight, _count in heaviest.values())
    sized = [
        (sum(heaviest[lexeme][1] for lexeme in stored), stored)
        for stored in ([lexeme for lexeme in group if lexeme in heaviest] for group in groups)
        if stored
    ]
    reached, word = min(sized)
    most = min(TIER_RANKED, MAX_HEAVY_CANDIDATES)  # candidates ranked, at most
    if reached > most:
        tier = min(count for _weight, count in heaviest.values())
        return _top_tier_by_name(
            queryset, stop, tsquery=tsquery, top=top, tier=tier, heaviest=heaviest
        )
    if len(sized) == 1:
        return None  # one word: heaviest_page_keys's looks read the same documents down
    floors = {lexeme: heaviest[lexeme][0] for lexeme in word}
    others = top - sum(floors.values())  # the other words' heaviest weights
    for step in range(1, TIER_STEPS + 1):
        rows = _ranked_candidates(queryset, stop, service, word, [floors[x] for x in word])
        bound = sum(under[lexeme] for lexeme in word) + others
        if len(rows) == stop and round(rows[-1][1] * WEIGHT_SCALE) > bound:
            return [pk for pk, _score in rows]
        if len(rows) == stop:  # a full page, not proven: plan from its last place's rank
            keys = planner.keys(round(rows[-1][1] * WEIGHT_SCALE))
            if keys is not None:
                return keys
        if step == TIER_STEPS:
            break
        with connections[queryset.db].cursor() as cursor:  # each lexeme one weight lighter
            cursor.execute(
                " UNION ALL ".join([_LIGHTER_SQL] * len(word)),
                [
                    x
                    for lexeme in word
                    for x in (lexeme, floors[lexeme], most + 1, lexeme, floors[lexeme])
                ],
            )
            lighter = cursor.fetchall()
        if all(weight is None for weight, _count in lighter):
            return None  # every stored document is a candidate already
        if sum(count for _weight, count in lighter) > most:
            return None
        for lexeme, (weight, _count) in zip(word, lighter, strict=True):
            if weight is not None:
                floors[lexeme] = weight
                under[lexeme] = weight - 1
    return None


def _top_tier_by_name(
    queryset: QuerySet[Any],
    stop: int,
    *,
    tsquery: str,
    top: int,
    tier: int,
    heaviest: dict[str, tuple[int, int]],
) -> list[Any] | None:
    """_top_tier_keys's page read in name order, for a tier of `tier` documents (more than
    TIER_RANKED), of places listed by service_search or of services listed by the admin's
    service list (best match first, then by name and id); `heaviest` maps each lexeme of
    the rank to (its heaviest stored weight, how many documents weigh that much).

    The rows ranking the top rank (`top`, in fifths) come first, by name then id (equal
    ranks tie exactly: text_score). Read in that order, the first rows found among the
    directory's first N by name that rank the top rank and pass the filters are the page
    when there are `stop` of them: any other row ranking it comes after the first N. N is
    TIER_WALK_SPREAD times the rows among which `stop` of the tier should stand if its
    documents were spread evenly by name, and, when the filters leave too few of those
    found, twice as far as the share they kept needs (TIER_WALKS); the page is not
    given when N would pass the walk's limit or holds too few.

    Up to TIER_WALK_MAX_PLACES places are walked ranking each search row that has the words.
    Further, and for services, a row is of the top tier when its service is stored at each
    lexeme's heaviest weight (none weighs more, so only those rank the sum): read from the
    names' index and the weights' without a document, up to TIER_WALK_MAX_NAMES rows, when
    the lexemes' heaviest documents are at most MAX_HEAVY_CANDIDATES. "crisis" at 200,000
    services: the 20 first by name of 4,941 places at the top rank read from 2,820 places in
    name order, where ranking them all took 44 ms; the admin's 50 first of 4,692 services
    from 6,394 names, where ranking them took 29 ms (docs/directory.md, "The top tier")."""
    order = tuple(queryset.query.order_by[1:])
    places = queryset.model is ServiceAtLocation and order == ("search_place__name", "id")
    services = queryset.model is Service and order in {("name", "pk"), ("name", "id")}
    if not (places or services):
        return None  # neither list's order
    weighed = sum(count for _weight, count in heaviest.values()) <= MAX_HEAVY_CANDIDATES
    lexemes = sorted(heaviest)
    tier_params: list[Any] = [lexemes, [heaviest[lexeme][0] for lexeme in lexemes], len(lexemes)]
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(_ROWS_SQL, ["resources_searchplace" if places else "resources_service"])
        row = cursor.fetchone()
    rows = row[0] if row else 0
    if rows < 1:
        return None
    reach = math.ceil(TIER_WALK_SPREAD * stop * rows / tier)
    params: list[Any]
    for _walk in range(TIER_WALKS):
        if places and reach <= TIER_WALK_MAX_PLACES:
            walk, params = _TIER_WALK_SQL, [tsquery, tsquery, top, reach]
        elif weighed and reach <= TIER_WALK_MAX_NAMES:
            walk = _TIER_PLACES_WALK_SQL if places else _TIER_SERVICES_WALK_SQL
            params = [reach, *tier_params]
        else:
            return None
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(walk, params)
            keys = [key for (key,) in cursor.fetchall()]
        if len(keys) < stop:
            return None
        # The filters (status, referrals, languages, ...) on the few found, in the page's
        # order.
        page = list(
            queryset.filter(pk__in=keys).order_by(*order).values_list("pk", flat=True)[:stop]
        )
        if len(page) == stop:
            return page
        if not page:
            return None
        reach = math.ceil(2 * reach * stop / len(page))
    return None


def planned_floors(
    weights: Sequence[Sequence[tuple[int, int]]],
    complete: Sequence[bool],
    light: Sequence[bool],
    below: int,
    most: int = MAX_PLANNED_CANDIDATES,
) -> tuple[list[int], int] | None:
    """Each lexeme's floor for the fewest candidates (the documents at least as heavy as its
    floor in some lexeme) such that a document left out ranks below `below` (in fifths), and
    what it ranks at most; None when no more than `most` candidates do.

    `weights[i]` are lexeme i's stored weights, heaviest first, with how many documents weigh
    each (all of them when `complete[i]`; else the last weight's count may be short and
    lighter ones unread); `light[i]`: some document may hold it lighter than any stored
    weight (less than HEAVY: a description's word; a misspelling's own lexeme is in none).

    A document left out weighs less than the floor in each lexeme: at most the next lighter
    stored weight, or HEAVY - 1 below every stored one, or 0 if none holds the lexeme; a
    floor over the heaviest weight takes none of the lexeme's documents and leaves out its
    heaviest. The floors are chosen by dynamic programming over the lexemes, keyed on the sum
    of what the documents left out may weigh (a few dozen fifths): the cheapest whose sum is
    below `below`, the tightest of equal cost."""
    # cheapest[bound] = (candidates, floors so far) over the lexemes seen.
    cheapest: dict[int, tuple[int, list[int]]] = {0: (0, [])}
    for stored, whole, held in zip(weights, complete, light, strict=True):
        under = HEAVY - 1 if held else 0  # what a document may weigh below every stored weight
        options = [(0, stored[0][0] if stored else under, (stored[0][0] + 1) if stored else HEAVY)]
        taken = 0
        for i, (weight, documents) in enumerate(stored):
            taken += documents
            if i + 1 < len(stored):
                options.append((taken, stored[i + 1][0], weight))
            elif whole:
                options.append((taken, HEAVY - 1, weight))
        reached: dict[int, tuple[int, list[int]]] = {}
        for bound, (cost, floors) in cheapest.items():
            for more, left_out, floor in options:
                total, sum_ = cost + more, bound + left_out
                if total > most or sum_ >= below:
                    continue
                if sum_ not in reached or total < reached[sum_][0]:
                    reached[sum_] = (total, [*floors, floor])
        if not reached:
            return None
        cheapest = reached
    bound, (_cost, floors) = min(cheapest.items(), key=lambda item: (item[1][0], item[0]))
    return floors, bound


class _Planner:
    """Planned looks for one search: the keys of queryset[:stop] from the candidates
    planned_floors chooses, once some candidates ranked had a full page whose last place
    ranks `below` (fifths): the true page's last place ranks at least that much, so a
    document weighing less than what `below` allows in every lexeme cannot enter it. Each
    lexeme goes down its own stored weights, where a look takes every lexeme to one depth:
    "hot mels" at 200,000 services (hot, and meals in four spellings; the hot meals rank 36
    fifths), 2,878 candidates (hot down to 10, the heaviest "meals", "mes" down to 7) rather
    than 9,500 four looks down (28 ms). The lexemes' stored weights are read once, at the
    first plan; a search plans again only from a higher rank."""

    def __init__(self, queryset: QuerySet[Any], stop: int, service: str, lexemes: list[str]):
        self.queryset, self.stop, self.service, self.lexemes = queryset, stop, service, lexemes
        self.below = 0
        self.read: tuple[list[list[tuple[int, int]]], list[bool], list[bool]] | None = None

    def _weights(self) -> tuple[list[list[tuple[int, int]]], list[bool], list[bool]]:
        if self.read is None:
            with connections[self.queryset.db].cursor() as cursor:
                cursor.execute(_WEIGHTS_SQL, [self.lexemes, MAX_PLANNED_CANDIDATES + 1])
                rows = cursor.fetchall()
            weights: list[list[tuple[int, int]]] = [[] for _ in self.lexemes]
            light = [True] * len(self.lexemes)
            for n, weight, documents, held in sorted(rows, key=lambda r: (r[0], -(r[1] or 0))):
                if weight is None:
                    light[n - 1] = bool(held)
                else:
                    weights[n - 1].append((weight, documents))
            complete = [sum(c for _w, c in stored) <= MAX_PLANNED_CANDIDATES for stored in weights]
            self.read = (weights, complete, light)
        return self.read

    def keys(self, below: int) -> list[Any] | None:
        if below <= self.below:
            return None  # planned from this rank already
        self.below = below
        plan = planned_floors(*self._weights(), below, MAX_PLANNED_CANDIDATES)
        if plan is None:
            return None
        floors, left_out = plan
        rows = _ranked_candidates(self.queryset, self.stop, self.service, self.lexemes, floors)
        return _proven(rows, self.stop, left_out)


def heaviest_page_keys(
    queryset: QuerySet[Any], stop: int, *, service: str, depths: Sequence[int] = HEAVY_DEPTHS
) -> list[Any] | None:
    """The keys of queryset[:stop] (ordered by a text rank first: ranked_tsquery) read from
    the heaviest documents of the query's words, when the rank asks for any of its lexemes
    (any_of_lexemes: a query of one word, and the rank of several, `rank_tsquery`) and that
    is proven to find them; else None (rank every match).

    For such a rank ts_rank_cd is the sum of the weights of the lexemes' positions (each
    position a cover of its own: PostgreSQL's calc_rank_cd), so a document's rank is the sum
    of its DocumentWeight rows / WEIGHT_SCALE. Each lexeme's `depth` heaviest documents (and
    every other of the last one's weight) are the candidates; a document left out weighs less
    than that last weight in each lexeme (less than HEAVY if fewer are stored; nothing if the
    lexeme is in no document), so its rank is at most the sum of those bounds. When the
    stop-th best candidate (with `queryset`'s filters, ranked by ts_rank_cd itself) ranks
    above that sum, no document left out can reach the page, ties on name included: the page
    is exact. No deeper look than MAX_HEAVY_CANDIDATES documents. `service` is the path to
    the service's key ("pk" for a Service, "service_id" for a service at a location).
    `depths` are the looks to take, of HEAVY_DEPTHS (page_keys takes a word's first look
    before counting its matches, and the deeper ones after). "clinic" at 200,000 services:
    the page of 30,401 matching places from 163 candidate services (docs/directory.md,
    "Ranking a word from its heaviest documents")."""
    tsquery = ranked_tsquery(queryset)
    lexemes = any_of_lexemes(tsquery) if tsquery else None
    if tsquery is None or not lexemes:
        return None
    heaviest = " UNION ALL ".join([_HEAVIEST_SQL] * len(lexemes))
    tried: list[list[int]] = []
    planner = _Planner(queryset, stop, service, lexemes)
    for offset in sorted({max(depth * stop - 1, 0) for depth in depths}):
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(
                heaviest,
                [x for lexeme in lexemes for x in _look_params(lexeme, offset)],
            )
            looked = cursor.fetchall()
        if offset == 0:  # the top tier: in name order when it is too many to rank
            keys = _top_tier_keys(
                queryset,
                stop,
                service=service,
                tsquery=tsquery,
                lexemes=lexemes,
                looked=looked,
                planner=planner,
            )
            if keys is not None:
                return keys
        if sum(count for _nth, _found, count, _lighter in looked) > MAX_HEAVY_CANDIDATES:
            return None  # a deeper look reads at least as many: rank every match
        floors = [HEAVY if nth is None else nth for nth, *_ in looked]
        if floors in tried:  # the same candidates as a shallower look (ties, or none stored)
            continue
        tried.append(floors)
        # What a document left out may weigh in each lexeme, at most: the next lighter
        # weight stored, or less than HEAVY if none is, or nothing if no document holds it.
        left_out = sum(
            (lighter or HEAVY - 1) if nth is not None else (HEAVY - 1 if found else 0)
            for nth, found, _count, lighter in looked
        )
        rows = _ranked_candidates(queryset, stop, service, lexemes, floors)
        keys = _proven(rows, stop, left_out)
        if keys is not None:
            return keys
        if len(rows) == stop:  # a full page, not proven: plan from its last place's rank
            keys = planner.keys(round(rows[-1][1] * WEIGHT_SCALE))
            if keys is not None:
                return keys
    return None
