"""The GiST index of each search row's point and document (migration 0027) only for rows with
a point, so only a search near a point can use it.

A search of words alone (no point) asks `document @@ query`, which the document's GIN index
answers in about 2 ms (the 1,650 places of "rental assistance" at 200,000 services). The
GiST index of the point and the document can answer it too, by reading all of its 134 MB of
lossy signatures (26-58 ms), and PostgreSQL, pricing the two by their estimates, took the
GiST whenever it expected fewer than about 500 matches: the count and the page of "birth
certficate" and "rental assistance" read it (docs/benchmarks.md, "Several words ranked by
the sum of their weights"). A search near a point always says `point IS NOT NULL`
(service_search), which the partial index's predicate asks, so its walk nearest first is
unchanged; a search without a point cannot prove the predicate and reads the GIN index.
Built CONCURRENTLY, outside a transaction, as 0027 built the one it replaces.
"""

import django.contrib.postgres.indexes
from django.db import migrations, models

NAME = "resources_searchplace_point_doc"


class Migration(migrations.Migration):
    dependencies = [("resources", "0028_document_weights")]

    atomic = False

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME}_partial"
                        " ON resources_searchplace USING gist (point, document)"
                        " WHERE point IS NOT NULL",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
                        f"ALTER INDEX {NAME}_partial RENAME TO {NAME}",
                    ],
                    [
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME}_whole"
                        " ON resources_searchplace USING gist (point, document)",
                        f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}",
                        f"ALTER INDEX {NAME}_whole RENAME TO {NAME}",
                    ],
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="searchplace", name=NAME),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GistIndex(
                        fields=["point", "document"],
                        name=NAME,
                        condition=models.Q(point__isnull=False),
                    ),
                ),
            ],
        ),
    ]
