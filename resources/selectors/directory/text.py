"""Full-text search of the directory: a query's words, stemmed in English and Spanish and
misspellings corrected from the directory's word list, matched and ranked against each service's
search document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQueryField
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import BooleanField, F, FloatField, Func, QuerySet, Value
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast, Least
from django.db.models.lookups import Exact
from rapidfuzz.distance import OSA

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


class TextMatch(Func):
    """`document @@ tsquery`: a search document matches a query (text_matches)."""

    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


def text_matches(query: TextQuery, *, service: str = "service__", place: str | None = None) -> Func:
    """The service's search document matches `query` (GIN index on the document)."""
    return TextMatch(_document(service, place), _tsquery(query.tsquery))


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


def only_text_match(queryset: QuerySet[Any]) -> str | None:
    """The tsquery (text form) of the text match (text_matches) that is `queryset`'s only
    condition, or None when it has another (a list's filter) or none."""
    where = queryset.query.where
    if where.negated or len(where.children) != 1:
        return None
    (condition,) = where.children
    if isinstance(condition, Exact) and condition.rhs is True:  # how filter() keeps it
        condition = condition.lhs
    if not isinstance(condition, TextMatch):  # another condition, or words ORed with one
        return None
    values = [e.value for e in condition.flatten() if isinstance(e, Value)]
    return values[0] if len(values) == 1 and isinstance(values[0], str) else None


# The matches of a tsquery counted from the documents' GIN index, no further than a limit.
_DOCUMENTS_COUNTED = (
    "(SELECT count(*) FROM (SELECT 1 FROM resources_servicesearchdocument"
    " WHERE document @@ %(tsquery)s::tsquery LIMIT %(limit)s) AS found)"
)
# A word's lexemes first: one held heavily by `limit` documents settles the count, and the
# documents are counted only otherwise (an InitPlan runs where it is first read).
_HEAVY_FIRST_SQL = f"""
SELECT CASE WHEN (
    SELECT max(h.n) FROM unnest(%(lexemes)s::text[]) AS l(lexeme),
    LATERAL (SELECT count(*) AS n FROM (
        SELECT 1 FROM resources_documentweight w WHERE w.lexeme = l.lexeme LIMIT %(limit)s
    ) AS heavy) AS h
) >= %(limit)s THEN %(limit)s ELSE {_DOCUMENTS_COUNTED} END"""  # noqa: S608 - constants


def documents_matching(tsquery: str, *, limit: int, using: str = DEFAULT_DB_ALIAS) -> int:
    """How many services' search documents match `tsquery` (text form), counted no further
    than `limit`: from the documents' GIN index alone. Each document is one service's, so
    this is the count of a service list searched for it and filtered no further; counted
    through the services instead, PostgreSQL walked both tables in key order (guessing a
    match in every few rows) and read 10,000 documents to find 1,000 matches of "shelter"
    (7.7 -> 0.7 ms at 20,000 services).

    A word (any of its stems and corrections: any_of_lexemes) held heavily by `limit`
    documents or more is that many without the documents: DocumentWeight's index, read
    alone, counts each lexeme's heavy documents (a name's or a term's word), and all of them
    match. Otherwise, and for words together, the documents are counted, which PostgreSQL
    did for a common word by reading them in turn ("housing" at 20,000 services: 6,400
    documents read and matched to find 1,001, 1.6 ms; "counseling" at 200,000, 7.9; from
    the heavy documents, 0.4 each)."""
    lexemes = any_of_lexemes(tsquery)
    sql = _HEAVY_FIRST_SQL if lexemes else f"SELECT {_DOCUMENTS_COUNTED}"
    with connections[using].cursor() as cursor:
        cursor.execute(sql, {"tsquery": tsquery, "limit": limit, "lexemes": lexemes})
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# A lexeme of a tsquery's text form, quoted (a quote inside doubled).
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
