"""What text search reads: a document per service and the directory's words (docs/directory.md).

Both tables are derived from the directory and written only by the database: triggers on
service, organization, attribute and taxonomy term (migration 0014) keep each service's
document current in the same transaction as the change, whatever wrote it (the admin, the HSDS
import, bulk_create in the generator, a queryset `.update()`), and add the new words it brings.
`resources.services.search.directory_words_rebuild` (a maintenance task) recounts the words and
drops those no service uses any more. Neither leaves the database, so neither has a public id.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Left, Length

from resources.models.directory import Cube
from resources.models.opening_hours import DateTimeMultirangeField


class ServiceSearchDocument(models.Model):
    """A service's words for full-text search, weighted by where they come from: A its name,
    B its organization's name, C its taxonomy terms' names, D its description; each read with
    English and with Spanish stemming (lexemes both readings share are kept once)."""

    # The database deletes the document with its service (ON DELETE CASCADE, migration 0014):
    # the triggers may rewrite it while Django is deleting the service's attributes.
    service = models.OneToOneField(
        "resources.Service",
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="search_document",
        db_constraint=False,
    )
    document = SearchVectorField()
    updated_at = models.DateTimeField()

    class Meta:
        # A short pending list (128 kB): every search reads it whole (migration 0022).
        indexes = [
            GinIndex(
                fields=["document"], name="resources_search_doc_gin", gin_pending_list_limit=128
            )
        ]

    def __str__(self) -> str:
        return f"search document of service {self.service_id}"


class DocumentWeight(models.Model):
    """A heavy word of a service's search document: a lexeme whose positions weigh at least
    1 by the rank's weights (a name's or a term's word, an organization's with the
    description's, a word the description says three times), and `weight`, five times their
    sum (text.TEXT_WEIGHTS: A 1.0, B 0.8, C 1.0, D 0.4 count 5, 4, 5 and 2).

    For a query of one word (its English and Spanish stems and its corrections, any of
    them), and for several (ranked by any of them: TextQuery.rank_tsquery), a document's rank
    (ts_rank_cd) is the sum of its words' weights, so the best
    matches are found by walking this table's index heaviest first instead of ranking every
    match (selectors.heaviest_page_keys; docs/directory.md, "Ranking a word from its
    heaviest documents"). Written only by the database, with the document (migration 0028's
    triggers); goes with it (ON DELETE CASCADE)."""

    pk = models.CompositePrimaryKey("service_id", "lexeme")
    service = models.ForeignKey(  # the primary key's first column is its index
        ServiceSearchDocument, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False
    )
    lexeme = models.TextField()
    weight = models.SmallIntegerField()

    class Meta:
        indexes = [
            # A word's documents heaviest first, read from the index alone.
            models.Index(
                fields=["lexeme", "-weight"],
                include=["service"],
                name="resources_docweight_heaviest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lexeme} ({self.weight}) in the document of service {self.service_id}"


class DirectoryWord(models.Model):
    """A distinct word of the directory's names, terms and descriptions (lower case, letters
    only, three or more), with the number of services using it: what a misspelt query word is
    corrected to. Not unique on purpose: triggers add words without waiting on each other, and
    the rebuild folds any twin two concurrent writes made.

    The trigram index is GiST, not GIN: "the words nearest to this one" is a nearest-neighbour
    question (`ORDER BY word <-> 'shleter' LIMIT n`), which GiST answers from the index and GIN
    cannot; GIN would need the `%` operator and its session-wide similarity threshold."""

    word = models.CharField(max_length=100)
    ndoc = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["word"], name="resources_dirword_word_idx"),
            # The words a few edits from a query word: same first letter, about its length.
            models.Index(Left("word", 1), Length("word"), name="resources_dirword_shape_idx"),
            GistIndex(fields=["word"], opclasses=["gist_trgm_ops"], name="resources_dirword_trgm"),
        ]

    def __str__(self) -> str:
        return self.word


class SearchPlace(models.Model):
    """One row per service at location holding everything most searches filter and order on:
    the service's name, status, referral flag, search document and taxonomy terms, the
    location's Earth point, the languages spoken by the service or at the location (upper
    case) and the place's live capacity (places free, and when they were counted).

    A search that combines them (a word within 5 km, Spanish near a point, nearest first)
    then reads one table, whose indexes PostgreSQL combines (a bitmap AND of the document's
    GIN and the point's GiST) or walks (the point's GiST, nearest first, every filter read on
    the same row), instead of joining six tables for every candidate of each filter
    (docs/benchmarks.md, "One search row per place"). Written only by the database: the
    triggers of migration 0025 rewrite a place's row in the same statement as any change to
    what it copies (the service at location, its service, its location, the service's
    document, an attribute, a language, the capacity), whatever wrote it, and the triggers
    of migration 0026 copy the place's opening spans (OpeningSpans) when they are rewritten.
    Derived, like the documents: no public id."""

    # The row goes with its service at location (ON DELETE CASCADE, migration 0025).
    service_at_location = models.OneToOneField(
        "resources.ServiceAtLocation",
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="search_place",
        db_constraint=False,
    )
    name = models.CharField(max_length=255)  # the service's
    status = models.CharField(max_length=20)  # the service's
    accepts_referrals = models.BooleanField()  # the service's
    point = Cube(null=True)  # resources_earth_point of the location; null without one
    document = SearchVectorField(null=True)  # the service's (ServiceSearchDocument)
    languages = ArrayField(models.CharField(max_length=16), default=list)
    terms = ArrayField(models.BigIntegerField(), default=list)  # the service's attributes' terms
    available = models.PositiveIntegerField(null=True)  # the capacity's; null without one
    capacity_updated_at = models.DateTimeField(null=True)  # when `available` was counted
    # The place's opening spans (OpeningSpans, copied by migration 0026's triggers): null
    # before they are built, or when the place has no session in the window.
    spans = DateTimeMultirangeField(null=True)
    # The hours of the week (UTC, 0-167: opening_hours.hour_of_week) in which the spans are
    # open at any moment, written by PostgreSQL whenever `spans` is (resources_open_hours,
    # migration 0030) and indexed with the words, so a search of words open now reads only
    # the places with the words that open in this hour from one index, then checks the spans
    # on those rows (docs/directory.md, "Words open now"). A superset of "open now", never
    # the answer alone; null with the spans.
    open_hours = ArrayField(models.SmallIntegerField(), null=True, editable=False)

    class Meta:
        indexes = [
            GistIndex(fields=["point"], name="resources_searchplace_point"),
            # Words nearest first: a walk in distance order that checks the words in the
            # index and reads only the rows that have them (migration 0027). Only rows with
            # a point, so that only a search near a point (which says `point IS NOT NULL`)
            # can read it: PostgreSQL took it over the document's GIN index for words alone
            # (migration 0029).
            GistIndex(
                fields=["point", "document"],
                name="resources_searchplace_point_doc",
                condition=models.Q(point__isnull=False),
            ),
            # The words, and with them the languages and the hours open (a multicolumn GIN:
            # any of its columns alone is served as by an index of its own), so that words
            # with Spanish, open now, are one scan that steps through the common keys' lists
            # by the rare word's (migration 0030): not three bitmaps ANDed.
            GinIndex(
                fields=["document", "languages", "open_hours"],
                name="resources_searchplace_doc",
                gin_pending_list_limit=128,
            ),
            GinIndex(fields=["languages"], name="resources_searchplace_lang"),
            # The terms, and with them the hours open: a term open now is one scan, not
            # every place of the term read to check its spans (migration 0031).
            GinIndex(
                fields=["terms", "open_hours"],
                name="resources_searchplace_terms",
                gin_pending_list_limit=128,
            ),
            # Open at an instant (`spans @> t`), for the whole directory or ANDed with the
            # other indexes (a common word open now: docs/benchmarks.md).
            GistIndex(fields=["spans"], name="resources_searchplace_spans"),
            # Places free and not stale (capacity_stale_after), as the capacity's own index.
            models.Index(
                fields=["capacity_updated_at"],
                name="resources_searchplace_free",
                condition=models.Q(available__gt=0),
            ),
            # The active places in key order, read without their (wide) rows: a count of the
            # places open now walks it beside the opening spans' key (8 -> 5 ms at 20,000).
            models.Index(
                fields=["service_at_location"],
                name="resources_searchplace_active",
                condition=models.Q(status="active"),
            ),
            # Searches without text or a point are in name order (then id).
            models.Index(fields=["name", "service_at_location"], name="resources_searchplace_name"),
        ]

    def __str__(self) -> str:
        return f"search row of service at location {self.service_at_location_id}"
