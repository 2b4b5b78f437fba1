"""The opening spans on the search row (SearchPlace.spans: a copy of OpeningSpans), so "open
now" is one more indexed condition on the row the search reads, which PostgreSQL ANDs with
the document's, the terms', the languages' and the point's indexes (docs/directory.md,
"Open now").

Kept by statement-level triggers on resources_openingspans, as migration 0025's: each
written or deleted row's spans copied onto its place's search row when they differ, or,
inside a bulk write that deferred the search's upkeep, the place noted for the refresh at
its end, which now copies the spans too. Nothing searches resources_openingspans itself any
more, so its GiST index goes. Filled here; the index is built CONCURRENTLY after the fill.
"""

import importlib

import django.contrib.postgres.indexes
from django.db import migrations

import resources.models.opening_hours

# resources_searchplace_refresh as migration 0025 defines it, and with the spans.
_0025 = importlib.import_module("resources.migrations.0025_search_place")
REFRESH_WITH_SPANS = _0025.refresh_sql(spans=True)
REFRESH_WITHOUT_SPANS = _0025.refresh_sql(spans=False)

FUNCTIONS = r"""
-- These places' spans copied onto their search rows where they differ (NULL: none). The rows
-- are locked in key order first, as resources_searchplace_refresh takes them.
CREATE FUNCTION resources_searchplace_spans_copy(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
  SELECT 1 FROM resources_searchplace WHERE service_at_location_id = ANY(ids)
  ORDER BY service_at_location_id FOR NO KEY UPDATE;
  UPDATE resources_searchplace p SET spans = o.spans
  FROM (SELECT k.id, s.spans FROM unnest(ids) AS k(id)
        LEFT JOIN resources_openingspans s ON s.service_at_location_id = k.id) o
  WHERE p.service_at_location_id = o.id AND p.spans IS DISTINCT FROM o.spans
$$;

-- A place's spans written or deleted: copied now, or noted (resources_searchplace_touch)
-- inside a bulk write that deferred the search's upkeep, whose refresh copies them.
CREATE FUNCTION resources_searchplace_spans_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
BEGIN
  IF TG_OP = 'DELETE' THEN
    ids := ARRAY(SELECT service_at_location_id FROM old_rows);
  ELSE
    ids := ARRAY(SELECT service_at_location_id FROM new_rows);
  END IF;
  IF current_setting('resources.search_refresh', true) IN ('deferred', 'places') THEN
    PERFORM resources_searchplace_touch(ids);
  ELSE
    PERFORM resources_searchplace_spans_copy(ids);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER resources_searchplace_spans_ins AFTER INSERT ON resources_openingspans
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_spans_written();
CREATE TRIGGER resources_searchplace_spans_upd AFTER UPDATE ON resources_openingspans
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_spans_written();
CREATE TRIGGER resources_searchplace_spans_del AFTER DELETE ON resources_openingspans
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_spans_written();
"""

REVERSE = """
DROP TRIGGER IF EXISTS resources_searchplace_spans_del ON resources_openingspans;
DROP TRIGGER IF EXISTS resources_searchplace_spans_upd ON resources_openingspans;
DROP TRIGGER IF EXISTS resources_searchplace_spans_ins ON resources_openingspans;
DROP FUNCTION IF EXISTS resources_searchplace_spans_written();
DROP FUNCTION IF EXISTS resources_searchplace_spans_copy(bigint[]);
"""

FILL = """
UPDATE resources_searchplace p SET spans = o.spans
FROM resources_openingspans o
WHERE o.service_at_location_id = p.service_at_location_id AND p.spans IS DISTINCT FROM o.spans
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0025_search_place")]

    atomic = False

    operations = [
        migrations.AddField(
            model_name="searchplace",
            name="spans",
            field=resources.models.opening_hours.DateTimeMultirangeField(null=True),
        ),
        # The functions, the refresh and the triggers in one statement (one transaction):
        # from here on every write keeps the spans, so the fill below misses nothing.
        migrations.RunSQL(
            REFRESH_WITH_SPANS + FUNCTIONS, REVERSE + REFRESH_WITHOUT_SPANS, elidable=False
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_searchplace_spans"
                    " ON resources_searchplace USING gist (spans)",
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_searchplace_spans",
                ),
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_openingspans_gist",
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_openingspans_gist"
                    " ON resources_openingspans USING gist (spans)",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GistIndex(
                        fields=["spans"], name="resources_searchplace_spans"
                    ),
                ),
                migrations.RemoveIndex(
                    model_name="openingspans", name="resources_openingspans_gist"
                ),
            ],
        ),
        migrations.RunSQL("ANALYZE resources_searchplace", migrations.RunSQL.noop),
    ]
