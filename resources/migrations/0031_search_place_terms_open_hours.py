"""The search rows' taxonomy terms indexed with their hours of the week open.

A taxonomy term open now counted its matches from the terms' GIN index and checked each row's
spans on the table: "Food" (and its children) at 200,000 services is 45,641 places, and at a
Monday noon none of them was open, so the count read all 45,641 rows to find none (107 ms).
With the hours open (SearchPlace.open_hours, migration 0030) in the terms' index, the scan
keeps only the places of those terms open in that hour, and the spans are checked on those
alone (5 ms), as words open now are (docs/benchmarks.md, "A term open now from one index").
The index is built CONCURRENTLY under a new name and takes the old one's, as migration
0030's, outside a transaction.
"""

import django.contrib.postgres.indexes
from django.db import migrations

NAME = "resources_searchplace_terms"


class Migration(migrations.Migration):
    dependencies = [("resources", "0030_search_place_open_hours")]

    atomic = False

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME}_hours ON"
                        " resources_searchplace USING gin (terms, open_hours)"
                        " WITH (gin_pending_list_limit = 128)",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
                        f"ALTER INDEX {NAME}_hours RENAME TO {NAME}",
                    ],
                    [
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME}_alone ON"
                        " resources_searchplace USING gin (terms)",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
                        f"ALTER INDEX {NAME}_alone RENAME TO {NAME}",
                    ],
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="searchplace", name=NAME),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["terms", "open_hours"], gin_pending_list_limit=128, name=NAME
                    ),
                ),
            ],
        ),
    ]
