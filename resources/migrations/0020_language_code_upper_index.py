"""The directory search's language filter compares codes case-blind (`upper(code)`): an index
on the expression serves it and gives the planner statistics for it (without them it guessed
170 Spanish rows of 12,944 at 20,000 services and chose a nested loop: seconds a query).

Built CONCURRENTLY, outside a transaction, so the table stays writable during a rolling
deploy (docs/operations.md); written as SQL for the reason migration 0019 gives, with the
model's state beside it.
"""

from django.db import migrations, models
from django.db.models.functions import Upper


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0019_location_earth_point"),
    ]

    atomic = False

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_language_code_up_idx"
                    ' ON resources_language (upper("code"))',
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_language_code_up_idx",
                ),
                migrations.RunSQL("ANALYZE resources_language", migrations.RunSQL.noop),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="language",
                    index=models.Index(Upper("code"), name="resources_language_code_up_idx"),
                ),
            ],
        ),
    ]
