"""Services by name: every list in the directory's own order walks this index until its page
is full, instead of sorting every match (service_search without text or a point: a taxonomy
term, places free, a language; the HSDS lists; the admin's lists). At 200,000 services the
first page of one taxonomy term took 172 ms sorting its matches and 14 ms by the index
(docs/benchmarks.md, "Text rank at 200,000").

Built CONCURRENTLY, outside a transaction, so the table stays writable during a rolling
deploy; written as SQL for the reason migration 0019 gives, with the model's state beside it.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("resources", "0022_search_gin_pending_list")]

    atomic = False

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_service_name_idx"
                    " ON resources_service (name, id)",
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_service_name_idx",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="service",
                    index=models.Index(fields=["name", "id"], name="resources_service_name_idx"),
                ),
            ],
        ),
    ]
