"""Upkeep of what text search reads (resources/models/search.py).

The triggers of migration 0014 keep each service's document exact and add new words as they
appear; they never remove a word (that would need a count per word, updated on every write).
`directory_words_rebuild` is the periodic part: it recounts the words from the directory and
drops those no service uses any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

# The words of a service, as the trigger function resources_search_refresh reads them.
WORDS_SQL = r"""
SELECT w.word, count(DISTINCT s.id)
FROM resources_service s
JOIN resources_organization o ON o.id = s.organization_id
CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('simple'::regconfig, concat_ws(' ',
  s.name, o.name,
  (SELECT string_agg(t.name, ' ') FROM resources_attribute a
   JOIN resources_taxonomyterm t ON t.id = a.taxonomy_term_id WHERE a.service_id = s.id),
  s.description)))) AS w(word)
WHERE w.word ~ '^[[:alpha:]]{3,100}$'
GROUP BY w.word
"""


def directory_words_rebuild() -> int:
    """Make the word list exactly the directory's words with their service counts; returns
    how many words it holds. One transaction: searches meanwhile read the old list whole."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM resources_directoryword")
        cursor.execute(f"INSERT INTO resources_directoryword (word, ndoc) {WORDS_SQL}")
        rows: int = cursor.rowcount
        return rows


@contextmanager
def search_refresh_deferred() -> Iterator[None]:
    """Within a transaction: the search triggers note the services they would refresh
    (migration 0021) and the places whose search rows they would (migration 0025), and
    their documents and words, then those rows, are rewritten once, each in one set-based
    statement, on the way out; for bulk writes that touch each service and place several
    times (an HSDS import writes a service, then its terms, a place, then its languages and
    capacity; the generator, its services, then their attributes). Searches in the same
    transaction meanwhile see the documents and rows as they were (a new place has none
    yet). On an exception nothing is refreshed: the transaction is rolled back anyway."""
    if not connection.in_atomic_block:
        raise RuntimeError("search_refresh_deferred needs a transaction (transaction.atomic)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('resources.search_refresh', 'deferred', true)")
    yield  # on an exception, the setting (SET LOCAL) ends with the rolled-back transaction
    with connection.cursor() as cursor:
        # The documents now; the rows they change are still noted, and rewritten once below.
        cursor.execute("SELECT set_config('resources.search_refresh', 'places', true)")
        _flush(cursor, "resources_search_pending", "resources_search_refresh", "service_id")
        cursor.execute("SELECT set_config('resources.search_refresh', '', true)")
        _flush(
            cursor,
            "resources_searchplace_pending",
            "resources_searchplace_refresh",
            "service_at_location_id",
        )


def _flush(cursor: CursorWrapper, notes: str, refresh: str, column: str) -> None:
    """What the triggers noted in the temporary table `notes` rewritten once, by the SQL
    function `refresh` over the distinct `column` values, and the notes dropped (none: no
    trigger fired). The names are this module's constants, never input."""
    cursor.execute(f"SELECT to_regclass('pg_temp.{notes}') IS NOT NULL")
    if cursor.fetchone()[0]:
        noted = f"SELECT DISTINCT {column} FROM pg_temp.{notes}"  # noqa: S608 - constants
        cursor.execute(f"SELECT {refresh}(ARRAY({noted}))")
        cursor.execute(f"DROP TABLE pg_temp.{notes}")
