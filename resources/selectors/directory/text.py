"""Full-text search of the directory: a query's words, stemmed in English and Spanish and
misspellings corrected from the directory's word list, matched and ranked against each service's
search document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQueryField
from django.db import connection, connections
from django.db.models import BooleanField, F, FloatField, Func, QuerySet, Value
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.functions import Cast, Least
from rapidfuzz.distance import OSA

# word_similarity of the query within a field: 0.3 lets "shleter" find "shelter" (0.33) and
# "detx" find "detox" (0.6); near misses such as "food" in "flood" (0.4) rank below exact words.
MIN_TEXT_RANK = 0.3


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
                groups.append("(" + " | ".join(f"({a})" for a in alternatives) + ")")
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
    the terms outranks one in the name only, and two words in the name outrank one."""
    return Func(
        _document(service, place),
        _tsquery(query.rank_tsquery),
        function="ts_rank_cd",
        template=f"%(function)s({_WEIGHTS_SQL}, %(expressions)s)",
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
# word of the document weighs at least HEAVY when it is stored.
WEIGHT_SCALE = 5
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


def heaviest_page_keys(queryset: QuerySet[Any], stop: int, *, service: str) -> list[Any] | None:
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
    "clinic" at 200,000 services: the page of 30,401 matching places from 163 candidate
    services (docs/directory.md, "Ranking a word from its heaviest documents")."""
    tsquery = ranked_tsquery(queryset)
    lexemes = any_of_lexemes(tsquery) if tsquery else None
    if not lexemes:
        return None
    heaviest = " UNION ALL ".join([_HEAVIEST_SQL] * len(lexemes))
    tried: list[list[int]] = []
    for offset in sorted({max(depth * stop - 1, 0) for depth in HEAVY_DEPTHS}):
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
