"""A GiST index of each search row's point and document together (SearchPlace), so a search
with words, nearest first, walks the places in distance order and checks the words in the
index, reading only the rows that have them (resources.selectors.directory.search,
_nearest_cut). Built CONCURRENTLY, outside a transaction, as migrations 0019 and 0023-0026
build theirs.
"""

import django.contrib.postgres.indexes
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("resources", "0026_search_place_spans")]

    atomic = False

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_searchplace_point_doc"
                    " ON resources_searchplace USING gist (point, document)",
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_searchplace_point_doc",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GistIndex(
                        fields=["point", "document"], name="resources_searchplace_point_doc"
                    ),
                ),
            ],
        ),
    ]
