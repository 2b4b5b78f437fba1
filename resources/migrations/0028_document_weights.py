"""The heavy words of each service's search document (resources/models/search.py,
DocumentWeight): each lexeme whose positions weigh at least 1 by the rank's weights, with
five times their sum, so the best matches of a one-word query are read heaviest first from
an index instead of ranking every match (docs/directory.md, "Ranking a word from its
heaviest documents").

Kept by statement-level triggers on resources_servicesearchdocument, as migration 0025's:
an inserted document's words written, an updated one's rewritten where the document
changed (the refresh rewrites every document it is asked for, changed or not), in the same
statement. The words go with their document (ON DELETE CASCADE). Filled here; the index is
built CONCURRENTLY after the fill.
"""

import django.db.models.deletion
from django.db import migrations, models

# Five times ts_rank_cd's weights, in text.TEXT_WEIGHTS's order {D, C, B, A}: whole numbers,
# so a document's rank for a one-word query is its words' sum / 5, exactly comparable.
# tests/resources/test_document_weights.py checks these against TEXT_WEIGHTS.
LEVELS = {"D": 2, "C": 5, "B": 4, "A": 5}
HEAVY = 5  # a name's or a term's word; less (an organization's, a description's) is left out

FUNCTIONS = rf"""
-- A document's heavy words: 5 x the weights of each lexeme's positions, those at least {HEAVY}.
CREATE FUNCTION resources_document_weights(doc tsvector)
RETURNS TABLE (lexeme text, weight smallint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT u.lexeme, w.weight
  FROM unnest(doc) AS u,
       LATERAL (SELECT sum(CASE p WHEN 'A' THEN {LEVELS["A"]} WHEN 'B' THEN {LEVELS["B"]}
                                  WHEN 'C' THEN {LEVELS["C"]} ELSE {LEVELS["D"]} END)::smallint
                  AS weight
                FROM unnest(u.weights) AS p) AS w
  WHERE w.weight >= {HEAVY}
$$;

-- Whether any document holds this lexeme, from the documents' GIN index: planned without a
-- sequential scan, which PostgreSQL would take for the first match of a lexeme it has no
-- statistics for (expecting hundreds) and, for a misspelling's own lexeme, read every
-- document for none (80 ms at 200,000 services).
CREATE FUNCTION resources_document_holds(lexeme text) RETURNS boolean
LANGUAGE sql STABLE SET enable_seqscan = off AS $$
  SELECT EXISTS (SELECT 1 FROM resources_servicesearchdocument d
                 WHERE d.document @@ quote_literal(lexeme)::tsquery)
$$;

-- Documents written: the inserted ones' words, and the updated ones' where they changed.
CREATE FUNCTION resources_documentweight_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed bigint[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    changed := ARRAY(SELECT n.service_id FROM new_rows n JOIN old_rows o USING (service_id)
                     WHERE n.document IS DISTINCT FROM o.document ORDER BY 1);
    IF cardinality(changed) = 0 THEN
      RETURN NULL;
    END IF;
    DELETE FROM resources_documentweight WHERE service_id = ANY(changed);
  ELSE
    changed := ARRAY(SELECT service_id FROM new_rows);
  END IF;
  INSERT INTO resources_documentweight (service_id, lexeme, weight)
  SELECT n.service_id, w.lexeme, w.weight
  FROM new_rows n, resources_document_weights(n.document) AS w
  WHERE n.service_id = ANY(changed);
  RETURN NULL;
END $$;

ALTER TABLE resources_documentweight
  ADD CONSTRAINT resources_documentweight_doc_fk FOREIGN KEY (service_id)
  REFERENCES resources_servicesearchdocument (service_id) ON DELETE CASCADE;

CREATE TRIGGER resources_documentweight_ins AFTER INSERT ON resources_servicesearchdocument
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_documentweight_written();
CREATE TRIGGER resources_documentweight_upd AFTER UPDATE ON resources_servicesearchdocument
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_documentweight_written();
"""  # noqa: S608 - this module's constants, never input

REVERSE = """
DROP TRIGGER IF EXISTS resources_documentweight_upd ON resources_servicesearchdocument;
DROP TRIGGER IF EXISTS resources_documentweight_ins ON resources_servicesearchdocument;
ALTER TABLE resources_documentweight DROP CONSTRAINT IF EXISTS resources_documentweight_doc_fk;
DROP FUNCTION IF EXISTS resources_documentweight_written();
DROP FUNCTION IF EXISTS resources_document_holds(text);
DROP FUNCTION IF EXISTS resources_document_weights(tsvector);
"""

FILL = """
INSERT INTO resources_documentweight (service_id, lexeme, weight)
SELECT d.service_id, w.lexeme, w.weight
FROM resources_servicesearchdocument d, resources_document_weights(d.document) AS w
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0027_search_place_point_document")]

    atomic = False

    operations = [
        migrations.CreateModel(
            name="DocumentWeight",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "service_id",
                        "lexeme",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("lexeme", models.TextField()),
                ("weight", models.SmallIntegerField()),
                (
                    "service",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="resources.servicesearchdocument",
                    ),
                ),
            ],
        ),
        # The functions, the foreign key and the triggers in one statement (one transaction):
        # from here on every document written writes its words, so the fill misses nothing.
        migrations.RunSQL(FUNCTIONS, REVERSE),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_docweight_heaviest"
                    " ON resources_documentweight (lexeme, weight DESC) INCLUDE (service_id)",
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_docweight_heaviest",
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="documentweight",
                    index=models.Index(
                        fields=["lexeme", "-weight"],
                        include=("service",),
                        name="resources_docweight_heaviest",
                    ),
                )
            ],
        ),
        migrations.RunSQL("ANALYZE resources_documentweight", migrations.RunSQL.noop),
    ]
