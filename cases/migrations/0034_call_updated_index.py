"""The operations board asks "has anything changed?" with max(updated_at) over the calls
(cases/board/selectors.py): an index on updated_at answers it from one end of the index
instead of a scan of every call ever received.

Built CONCURRENTLY, outside a transaction, so the table stays writable during a rolling
deploy (docs/operations.md), with the model's state beside it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0033_transparency_new_metrics"),
    ]

    atomic = False

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_call_updated_idx"
                    ' ON cases_call ("updated_at")',
                    "DROP INDEX CONCURRENTLY IF EXISTS cases_call_updated_idx",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="call",
                    index=models.Index(fields=["updated_at"], name="cases_call_updated_idx"),
                ),
            ],
        ),
    ]
