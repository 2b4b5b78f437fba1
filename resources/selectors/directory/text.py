"""Full-text search of the directory: a query's words, stemmed in English and Spanish and
misspellings corrected from the directory's word list, matched and ranked against each service's
search document."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQueryField
from django.db import connection, connections
from django.db.models import BooleanField, F, FloatField, Func, QuerySet, Value
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.functions import Cast, Least
from rapidfuzz.distance import OSA

from resources.models import Service, ServiceAtLocation

# word_similarity of the query within a field: 0.3 lets "shleter" find "shelter" (0.33) and
# "detx" find "detox" (0.6); near misses such as "food" in "flood" (0.4) rank below exact words.
MIN_TEXT_RANK = 0.3


# ts_rank_cd weights in PostgreSQL's order {D, C, B, A}: description, taxonomy terms,
# organization name, service name. A term is a curated category, as telling as the name; an
# organization runs services of many kinds; a description mentions much in passing.
TEXT_WEIGHTS = (0.4, 1.0, 0.8, 1.0)
_WEIGHTS_SQL = "'{" + ",".join(str(w) for w in TEXT_WEIGHTS) + "}'::float4[]"
# Every weight is a whole number of fifths, so is every rank (for a query asking for any of
# its words, the sum of the weights of their positions: heaviest_page_keys). The rank is read
# as that whole number of fifths: ts_rank_cd's float4 of an equal sum could differ in its last
# bit with the order the positions were added in, and equal ranks must tie exactly for the
# name to order them (the top tier read in name order: _top_tier_by_name).
WEIGHT_SCALE = 5


def rank_fifths_sql(arguments: str) -> str:
    """SQL of ts_rank_cd with TEXT_WEIGHTS of `arguments` (SQL: "document, tsquery") in whole
    fifths, an integer: what text_score orders by, times WEIGHT_SCALE."""
    return f"round(ts_rank_cd({_WEIGHTS_SQL}, {arguments})::float8 * {WEIGHT_SCALE})"


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
    `corrections` maps each misspelt word to the directory's words it also stands for;
    `rank_tsquery` is what a match is ranked by: any of the words, so that its rank is the sum
    of the weights of the places its words stand in (the name, the organization, the terms,
    the description), word by word, as for a query of one word (docs/directory.md, "Ranking
    several words")."""

    tsquery: str
    corrections: dict[str, list[str]]
    all_words: bool
    rank_tsquery: str


def _words(text: str) -> list[str]:
    words = re.findall(r"[^\W_]+", text.casefold())
    return [w[:MAX_WORD_LENGTH] for w in words][:MAX_QUERY_WORDS]


def _corrections(word: str, candidates: list[list[Any]]) -> list[str]:
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
                groups.append(_any_of(alternatives))
        if not groups:
            return None
        corrections = {word: fixes for word, fixes in kept if fixes}
        every = " & ".join(groups)
        if len(groups) == 1:
            return TextQuery(every, corrections, all_words=True, rank_tsquery=every)
        any_word = " | ".join(groups)
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM resources_servicesearchdocument "
            "WHERE document @@ %s::tsquery)",
            [every],
        )
        if cursor.fetchone()[0]:
            return TextQuery(every, corrections, all_words=True, rank_tsquery=any_word)
        return TextQuery(any_word, corrections, all_words=False, rank_tsquery=any_word)


def _any_of(alternatives: list[str]) -> str:
    """One word's group of a tsquery: any of its `alternatives` (the tsqueries of the word,
    its stems and its corrections), each lexeme once. English and Spanish often stem a word
    alike and its corrections share stems ("naloxon": 'naloxon' five times of six), and
    PostgreSQL estimates an OR of lexemes as if each were another word: it took "naloxon"
    for 13% of the directory where it is 2%, and read 41,000 places one by one to count
    1,001 rather than from the words' index (28 ms at 200,000 services)."""
    lexemes = [any_of_lexemes(alternative) for alternative in alternatives]
    if any(found is None for found in lexemes):  # a phrase or words together: as they are
        return "(" + " | ".join(f"({a})" for a in dict.fromkeys(alternatives)) + ")"
    distinct = sorted({lexeme for found in lexemes for lexeme in found or ()})
    return "(" + " | ".join("'" + lexeme.replace("'", "''") + "'" for lexeme in distinct) + ")"


def _tsquery(tsquery: str) -> Cast:
    return Cast(Value(tsquery), SearchQueryField())


def _document(service: str, place: str | None) -> F:
    """The path to the search document: a search row's copy (`place`, the path to a
    SearchPlace) or the service's own (`service`, the path to a Service). Each has its GIN."""
    if place is not None:
        return F(f"{place}document")
    return F(f"{service}search_document__document")


def text_matches(query: TextQuery, *, service: str = "service__", place: str | None = None) -> Func:
    """The service's search document matches `query` (GIN index on the document)."""
    return Func(
        _document(service, place),
        _tsquery(query.tsquery),
        template="%(expressions)s",
        arg_joiner=" @@ ",
        output_field=BooleanField(),
    )


def text_score(query: TextQuery, *, service: str = "service__", place: str | None = None) -> Func:
    """ts_rank_cd of the service's document for any of `query`'s words (`rank_tsquery`) with
    TEXT_WEIGHTS: every place a word stands counts by its weight, so a word in the name and
    the terms outranks one in the name only, and two words in the name outrank one. Read in
    whole fifths (WEIGHT_SCALE), so that equal sums tie exactly."""
    return Func(
        _document(service, place),
        _tsquery(query.rank_tsquery),
        template=f"({rank_fifths_sql('%(expressions)s')} / {WEIGHT_SCALE})",
        output_field=FloatField(),
    )


def text_search(
    qs: QuerySet[Any], text: str, *, service: str, place: str | None = None
) -> tuple[QuerySet[Any], bool]:
    """`qs` cut to the services matching `text` (every word), annotated `text_score` (the
    order: the sum of the words' weights) and `rank` (the score capped at 1: a word found in
    a name, organization or term); (qs, False)
    when `text` has nothing to search for. With `place` (the path to a SearchPlace), read on
    the search row's copy of the document."""
    query = text_query(text)
    if query is None:
        return qs.none(), False
    return (
        qs.filter(text_matches(query, service=service, place=place))
        .annotate(text_score=text_score(query, service=service, place=place))
        .annotate(rank=Least(Value(1.0), F("text_score"), output_field=FloatField()))
    ), True


# The best matches of a query, heaviest first (DocumentWeight, migration 0028). The
# weights of a document's heavy words are five times ts_rank_cd's (whole numbers), and a
# word of the document weighs at least HEAVY when it is stored (WEIGHT_SCALE, above).
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
_OPERAND = re.compile(r"'((?:[^'\\]|'')*)'")


def any_of_lexemes(tsquery: str) -> list[str] | None:
    """The lexemes of a tsquery (its text form) that asks for any of them (operands joined by
    `|` alone: one word, its stems and its corrections, or words none of which a document
    holds together), distinct and sorted; None for any other query (words together, `&`)."""
    if re.sub(_OPERAND, "", tsquery).strip("|() "):
        return None
    return sorted({lexeme.replace("''", "'") for lexeme in _OPERAND.findall(tsquery)})


def ranked_tsquery(queryset: QuerySet[Any]) -> str | None:
    """The tsquery (text) whose rank `queryset` is ordered by first (text_search's
    `text_score`, best first), or None when it is ordered otherwise."""
    first = queryset.query.order_by[0] if queryset.query.order_by else None
    if not (
        first == "-text_score"
        or (isinstance(first, OrderBy) and first.descending and first.expression == F("text_score"))
    ):
        return None
    score = queryset.query.annotations.get("text_score")
    values = [
        e.value
        for e in (score.flatten() if score is not None else ())
        if isinstance(e, Value) and isinstance(e.value, str)
    ]
    return values[0] if len(values) == 1 else None


# For one lexeme: the weight of its `depth`-th heaviest document (NULL: fewer are stored),
# only then whether any document holds it at all (resources_document_holds, from the GIN
# index: a misspelling's own lexemes are in none), and how many documents are at least as
# heavy (read no further than a limit). One per lexeme, in UNION ALL.
_HEAVIEST_SQL = """
SELECT x.nth, CASE WHEN x.nth IS NULL THEN resources_document_holds(%s) END,
  (SELECT count(*) FROM (SELECT 1 FROM resources_documentweight c WHERE c.lexeme = %s
     AND c.weight >= coalesce(x.nth, %s) LIMIT %s) AS r)
FROM (SELECT (SELECT w.weight FROM resources_documentweight w WHERE w.lexeme = %s
              ORDER BY w.weight DESC OFFSET %s LIMIT 1) AS nth) AS x
"""
_CANDIDATES_SQL = (
    "SELECT w.service_id FROM unnest(%s::text[], %s::int[]) AS t(lexeme, weight) "
    "JOIN resources_documentweight w ON w.lexeme = t.lexeme AND w.weight >= t.weight"
)

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
) -> list[Any] | None:
    """The keys of queryset[:stop] (best match first, then by name and id) read down the
    heaviest documents of one word of the rank, the rarest, when that proves them; else
    None.

    `looked` is heaviest_page_keys's first look: for each of the rank's `lexemes`, its
    heaviest stored weight, whether a document holds it at all, and how many documents weigh
    that much. No document weighs more than the heaviest in any lexeme. So a document that
    weighs less than its floor in each lexeme of one word (its stems and corrections,
    _lexeme_groups) ranks at most the sum of those floors less one each, plus the other
    words' heaviest weights: the documents at least that heavy in one of the word's lexemes
    are the candidates (up to TIER_RANKED of them, ranked with the filters), and the page is
    theirs when its last place ranks above that bound. The floors start at the heaviest
    weights (the top tier: the places ranking the sum of every lexeme's heaviest weight) and
    step down the word's stored weights together, TIER_STEPS floors at most. The word is the
    one with the fewest heaviest documents. A look of heaviest_page_keys takes every word's
    documents down to one depth: "food pantry" at 200,000 services, 3,791 candidates (food,
    and pantry's two stems, at their heaviest) where food's 51 heaviest documents start its
    top tier. A word with more than TIER_RANKED heaviest documents has its top tier read in
    name order (_top_tier_by_name), when `queryset` lists service_search's places."""
    heaviest: dict[str, tuple[int, int]] = {}  # lexeme: (weight, documents that heavy)
    for lexeme, (nth, found, count) in zip(lexemes, looked, strict=True):
        if nth is None:
            if found:  # the lexeme stands only in light places: its heaviest weight unknown
                return None
            continue  # in no document: it adds nothing to any rank
        heaviest[lexeme] = (nth, count)
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
        # A constant statement; the lexemes and weights are its parameters.
        candidates = RawSQL(_CANDIDATES_SQL, (word, [floors[x] for x in word]))  # noqa: S611
        rows = list(
            queryset.filter(**{f"{service}__in": candidates}).values_list("pk", "text_score")[:stop]
        )
        bound = sum(floor - 1 for floor in floors.values()) + others
        if len(rows) == stop and round(rows[-1][1] * WEIGHT_SCALE) > bound:
            return [pk for pk, _score in rows]
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
    for offset in sorted({max(depth * stop - 1, 0) for depth in depths}):
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(
                heaviest,
                [
                    x
                    for lexeme in lexemes
                    for x in (lexeme, lexeme, HEAVY, MAX_HEAVY_CANDIDATES + 1, lexeme, offset)
                ],
            )
            looked = cursor.fetchall()
        if offset == 0:  # the top tier: in name order when it is too many to rank
            keys = _top_tier_keys(
                queryset, stop, service=service, tsquery=tsquery, lexemes=lexemes, looked=looked
            )
            if keys is not None:
                return keys
        if sum(count for *_, count in looked) > MAX_HEAVY_CANDIDATES:
            return None  # a deeper look reads at least as many: rank every match
        bounds = [(nth, found) for nth, found, _count in looked]
        floors = [HEAVY if nth is None else nth for nth, _found in bounds]
        if floors in tried:  # the same candidates as a shallower look (ties, or none stored)
            continue
        tried.append(floors)
        # What a document left out may weigh in each lexeme, at most.
        left_out = sum(
            nth - 1 if nth is not None else (HEAVY - 1 if found else 0) for nth, found in bounds
        )
        # A constant statement; the lexemes and weights are its parameters.
        candidates = RawSQL(_CANDIDATES_SQL, (lexemes, floors))  # noqa: S611
        rows = list(
            queryset.filter(**{f"{service}__in": candidates}).values_list("pk", "text_score")[:stop]
        )
        if len(rows) == stop and rows[-1][1] > left_out / WEIGHT_SCALE + _RANK_MARGIN:
            return [pk for pk, _score in rows]
    return None
