"""Bulk writes may defer the search documents' refresh to one set-based statement at the end
(resources.services.search.search_refresh_deferred): with the session setting
`resources.search_refresh` at 'deferred', resources_search_refresh (migration 0015, called by
every search trigger) notes the services' ids in a temporary table instead of rewriting their
documents, and the caller refreshes them all at once before its transaction ends. An HSDS
import wrote each service's document twice (its insert, then its terms'), batch by batch; now
once. Any other writer (the admin, the API, a task) never sets it: nothing changes for them.
"""

from django.db import migrations

# The body of migration 0015's function, with the deferral in front.
REFRESH = r"""
CREATE OR REPLACE FUNCTION resources_search_refresh(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  IF current_setting('resources.search_refresh', true) = 'deferred' THEN
    CREATE TEMPORARY TABLE IF NOT EXISTS resources_search_pending (service_id bigint)
      ON COMMIT DROP;
    INSERT INTO resources_search_pending (service_id) SELECT unnest(ids);
    RETURN;
  END IF;
  WITH src AS (
    SELECT s.id, s.name, o.name AS organization,
           coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name)
                     FROM resources_attribute a
                     JOIN resources_taxonomyterm t ON t.id = a.taxonomy_term_id
                     WHERE a.service_id = s.id), '') AS terms,
           s.description
    FROM resources_service s
    JOIN resources_organization o ON o.id = s.organization_id
    WHERE s.id = ANY(ids)
  ), documents AS (
    INSERT INTO resources_servicesearchdocument (service_id, document, updated_at)
    SELECT id,
           setweight(resources_bilingual_tsvector(name), 'A')
           || setweight(resources_bilingual_tsvector(organization), 'B')
           || setweight(resources_bilingual_tsvector(terms), 'C')
           || setweight(resources_bilingual_tsvector(description), 'D'),
           now()
    FROM src
    ON CONFLICT (service_id) DO UPDATE
      SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at
  )
  INSERT INTO resources_directoryword (word, ndoc)
  SELECT w.word, count(DISTINCT src.id)
  FROM src,
       unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
         concat_ws(' ', src.name, src.organization, src.terms, src.description)))) AS w(word)
  WHERE w.word ~ '^[[:alpha:]]{3,100}$'
    AND NOT EXISTS (SELECT 1 FROM resources_directoryword d WHERE d.word = w.word)
  GROUP BY w.word;
END
$$;
"""


def _previous() -> str:
    from importlib import import_module

    functions = import_module("resources.migrations.0015_search_triggers").FUNCTIONS
    start = functions.index("CREATE FUNCTION resources_search_refresh")
    end = functions.index("$$;", functions.index("BEGIN", start)) + 3
    return functions[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [("resources", "0020_language_code_upper_index")]

    operations = [migrations.RunSQL(REFRESH, _previous())]
