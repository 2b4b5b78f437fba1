"""The search documents' GIN index keeps a short pending list (128 kB, not the server's 4 MB).

GIN's fast update appends new entries to an unsorted pending list that every search reads
whole, and the planner prices the index by it. The generator and an HSDS import leave up to
4 MB there until a vacuum: at 20,000 services the page of "shelter" then took a parallel
sequential scan of every document (48 ms) where the index, its pending list flushed, answers
in 2 ms (docs/benchmarks.md, "Text rank at 200,000"). 128 kB keeps writes batched (a refresh
of 5,000 documents: 5.9 s against 4.9 s with 4 MB and 9.4 s with no pending list at all) and
bounds what a search reads. The list already there is flushed into the index here.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

INDEX = "resources_search_doc_gin"


class Migration(migrations.Migration):
    dependencies = [("resources", "0021_search_refresh_deferrable")]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The same index with a storage parameter: set in place, not rebuilt.
            database_operations=[
                migrations.RunSQL(
                    f"ALTER INDEX {INDEX} SET (gin_pending_list_limit = 128);"
                    f"SELECT gin_clean_pending_list('{INDEX}'::regclass);",
                    f"ALTER INDEX {INDEX} RESET (gin_pending_list_limit);",
                )
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="servicesearchdocument", name=INDEX),
                migrations.AddIndex(
                    model_name="servicesearchdocument",
                    index=GinIndex(fields=["document"], name=INDEX, gin_pending_list_limit=128),
                ),
            ],
        )
    ]
