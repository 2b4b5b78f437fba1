"""Upkeep of what text search reads (resources/models/search.py).

The triggers of migration 0014 keep each service's document exact and add new words as they
appear; they never remove a word (that would need a count per word, updated on every write).
`directory_words_rebuild` is the periodic part: it recounts the words from the directory and
drops those no service uses any more.
"""

from __future__ import annotations

from django.db import connection, transaction

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
        return cursor.rowcount
