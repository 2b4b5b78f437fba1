"""Each search row's hours of the week open (SearchPlace.open_hours), indexed with the words.

A search of words open now (the field app's most common: "showers", open now, Spanish) counted
its matches from three bitmaps ANDed: the words' from the document's GIN index (9,161 places
for "showers" at 200,000 services, 3 ms), Spanish from the languages' GIN index (122,710
places, 19 ms) and open now from the spans' GiST index (54,688 places, 11 ms), to keep 902:
60 ms, nearly all of it building bitmaps of the common filters. In one multicolumn GIN index
the scan steps through the common keys' lists by the rare word's, and reads 931 entries in
3 ms (docs/benchmarks.md, "Words open now from one index").

GIN cannot index a multirange, so each row gets the hours of the week (UTC, 0 = Monday
00:00-01:00) in which its spans are open at any moment: a superset of "open now", which the
search checks exactly on the rows it reads (`spans` `holds`). Written by PostgreSQL whenever
`spans` is (a BEFORE trigger: only when the spans are written, not on every change of the
row, such as a capacity's), and filled here in batches of 10,000 rows, each its own
statement. The column is added without a default (no table rewrite); the index is built
CONCURRENTLY under a new name and takes the old one's, as migration 0029's. Outside a
transaction, like 0029.
"""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
from django.db import migrations, models

NAME = "resources_searchplace_doc"
BATCH = 10_000

FUNCTIONS = """
-- The hours of the week (UTC, 0-167; 0 is Monday 00:00-01:00) in which the spans are open at
-- any moment, in order: each range's hours since the epoch (a Thursday, 72 hours into its
-- week) taken modulo a week, at most one week of them a range.
CREATE FUNCTION resources_open_hours(spans tstzmultirange) RETURNS smallint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(DISTINCT ((h + 72) % 168)::smallint ORDER BY ((h + 72) % 168)::smallint)
  FROM unnest(spans) AS r,
       generate_series(floor(extract(epoch FROM lower(r)) / 3600)::bigint,
                       least(ceil(extract(epoch FROM upper(r)) / 3600)::bigint - 1,
                             floor(extract(epoch FROM lower(r)) / 3600)::bigint + 167)) AS h
$$;

CREATE FUNCTION resources_searchplace_open_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.open_hours := resources_open_hours(NEW.spans);
  RETURN NEW;
END $$;

CREATE TRIGGER resources_searchplace_open_hours
  BEFORE INSERT OR UPDATE OF spans ON resources_searchplace
  FOR EACH ROW EXECUTE FUNCTION resources_searchplace_open_hours();
"""

DROP_FUNCTIONS = """
DROP TRIGGER IF EXISTS resources_searchplace_open_hours ON resources_searchplace;
DROP FUNCTION IF EXISTS resources_searchplace_open_hours();
DROP FUNCTION IF EXISTS resources_open_hours(tstzmultirange);
"""


def fill(apps, schema_editor):
    """Every row with spans gets its hours, 10,000 rows a statement (each committed: the
    migration runs outside a transaction), so no statement holds many rows' locks for long."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT max(service_at_location_id) FROM resources_searchplace")
        (last,) = cursor.fetchone()
        for first in range(0, (last or 0) + 1, BATCH):
            cursor.execute(
                "UPDATE resources_searchplace SET open_hours = resources_open_hours(spans)"
                " WHERE service_at_location_id >= %s AND service_at_location_id < %s"
                " AND spans IS NOT NULL AND open_hours IS NULL",
                [first, first + BATCH],
            )


class Migration(migrations.Migration):
    dependencies = [("resources", "0029_search_place_point_document_partial")]

    atomic = False

    operations = [
        migrations.AddField(
            model_name="searchplace",
            name="open_hours",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.SmallIntegerField(), editable=False, null=True, size=None
            ),
        ),
        migrations.RunSQL(FUNCTIONS, DROP_FUNCTIONS),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME}_words ON"
                        " resources_searchplace USING gin (document, languages, open_hours)"
                        " WITH (gin_pending_list_limit = 128)",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
                        f"ALTER INDEX {NAME}_words RENAME TO {NAME}",
                    ],
                    [
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME}_document ON"
                        " resources_searchplace USING gin (document)"
                        " WITH (gin_pending_list_limit = 128)",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
                        f"ALTER INDEX {NAME}_document RENAME TO {NAME}",
                    ],
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="searchplace", name=NAME),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["document", "languages", "open_hours"],
                        gin_pending_list_limit=128,
                        name=NAME,
                    ),
                ),
            ],
        ),
    ]
