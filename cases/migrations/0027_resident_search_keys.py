"""Resident search word by word (issue 17): `search_keys` holds each word of `search_names`
and its Double Metaphone codes (fuzzystrmatch, prefixed "~"), from the SQL function
`cases_name_keys`, which searches apply to the typed words too; a GIN index finds nicknames
and names alike in sound. The function splits words as `cases.selectors.normalize_name` does
(apostrophes dropped, any other mark a break), so names stored before that rule split alike.

Existing rows are filled in batches, each its own transaction (acs.batches), so the table is
never locked whole; the column's database default lets raw inserts (benchmarks) omit it."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
from django.db import migrations, models

from acs.batches import in_batches

NAME_KEYS = r"""
CREATE OR REPLACE FUNCTION cases_name_keys(names text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN ARRAY(
    SELECT DISTINCT key
    FROM regexp_split_to_table(translate(names, '''’‘ʼ`', ''), '[^[:alnum:]]+') AS word,
         unnest(ARRAY[word, '~' || dmetaphone(word), '~' || dmetaphone_alt(word)]) AS key
    WHERE word <> '' AND key <> '~'
)
"""
BATCH = 5000


def fill_search_keys(apps, schema_editor):
    Resident = apps.get_model("cases", "Resident")
    keys = models.Func(
        "search_names",
        function="cases_name_keys",
        output_field=django.contrib.postgres.fields.ArrayField(models.TextField()),
    )
    in_batches(
        Resident.objects.filter(search_keys=[]).exclude(search_names=""),
        order_by=("pk",),
        batch=BATCH,
        apply=lambda rows: rows.update(search_keys=keys),
    )


class Migration(migrations.Migration):
    atomic = False  # one transaction per batch

    dependencies = [
        ("cases", "0026_callevent_undo"),
    ]

    operations = [
        # Like pg_trgm (0002): never dropped on the way back, something else may use it.
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch", migrations.RunSQL.noop),
        migrations.RunSQL(NAME_KEYS, "DROP FUNCTION cases_name_keys(text)"),
        migrations.AddField(
            model_name="resident",
            name="search_keys",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(), blank=True, default=list, editable=False, size=None
            ),
        ),
        migrations.RunSQL(
            "ALTER TABLE cases_resident ALTER COLUMN search_keys SET DEFAULT '{}'",
            migrations.RunSQL.noop,
        ),
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="resident",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_keys"], name="cases_resident_search_keys"
            ),
        ),
    ]
