"""Triggers that keep each service's search document current (resources/models/search.py).

Statement-level triggers with transition tables: a bulk_create of 2,000 services or an
`.update()` over thousands refreshes their documents in one set-based statement, not row by
row. A trigger, not a generated column (a document reads the organization's and the terms'
names, in other tables) nor code in the services (the admin, the HSDS import, the generator's
bulk_create and queryset updates all write these tables; a trigger cannot be bypassed).
"""

from django.db import migrations

FUNCTIONS = r"""
-- English and Spanish readings of one text; lexemes both give are kept once, so a word
-- stemmed alike in both languages is not counted twice by the rank.
CREATE FUNCTION resources_bilingual_tsvector(body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT en || ts_delete(es, tsvector_to_array(en))
  FROM (SELECT to_tsvector('english'::regconfig, coalesce(body, '')) AS en,
               to_tsvector('spanish'::regconfig, coalesce(body, '')) AS es) AS readings
$$;

-- Rewrite the documents of these services and add the words they bring to the word list
-- (one statement: the CTE that writes the documents runs whether or not it is read).
CREATE FUNCTION resources_search_refresh(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  WITH src AS (
    SELECT s.id, s.name, o.name AS organization,
           coalesce((SELECT string_agg(t.name, ' ' ORDER BY t.name)
                     FROM resources_attribute a
                     JOIN resources_taxonomyterm t ON t.id = a.taxonomy_term_id
                     WHERE a.service_id = s.id), '') AS terms,
           s.description
    FROM resources_service s
    JOIN resources_organization o ON o.id = s.organization_id
    WHERE s.id = ANY(ids)
  ), documents AS (
    INSERT INTO resources_servicesearchdocument (service_id, document, updated_at)
    SELECT id,
           setweight(resources_bilingual_tsvector(name), 'A')
           || setweight(resources_bilingual_tsvector(organization), 'B')
           || setweight(resources_bilingual_tsvector(terms), 'C')
           || setweight(resources_bilingual_tsvector(description), 'D'),
           now()
    FROM src
    ON CONFLICT (service_id) DO UPDATE
      SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at
  )
  INSERT INTO resources_directoryword (word, ndoc)
  SELECT w.word, count(DISTINCT src.id)
  FROM src,
       unnest(tsvector_to_array(to_tsvector('simple'::regconfig,
         concat_ws(' ', src.name, src.organization, src.terms, src.description)))) AS w(word)
  WHERE w.word ~ '^[[:alpha:]]{3,100}$'
    AND NOT EXISTS (SELECT 1 FROM resources_directoryword d WHERE d.word = w.word)
  GROUP BY w.word;
END
$$;

CREATE FUNCTION resources_search_service_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(SELECT id FROM new_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_search_service_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.name, n.description, n.organization_id)
          IS DISTINCT FROM (o.name, o.description, o.organization_id)));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_search_organization_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(
    SELECT s.id FROM resources_service s
    WHERE s.organization_id IN (
      SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE n.name IS DISTINCT FROM o.name)));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_search_term_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(
    SELECT DISTINCT a.service_id FROM resources_attribute a
    WHERE a.taxonomy_term_id IN (
      SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE n.name IS DISTINCT FROM o.name)));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_search_attribute_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(SELECT DISTINCT service_id FROM new_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_search_attribute_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(SELECT DISTINCT service_id FROM old_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_search_attribute_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_search_refresh(ARRAY(
    SELECT n.service_id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.service_id, n.taxonomy_term_id) IS DISTINCT FROM (o.service_id, o.taxonomy_term_id)
    UNION
    SELECT o.service_id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.service_id, n.taxonomy_term_id) IS DISTINCT FROM (o.service_id, o.taxonomy_term_id)));
  RETURN NULL;
END $$;

-- The document goes with its service (Django leaves it to the database: DO_NOTHING).
ALTER TABLE resources_servicesearchdocument
  ADD CONSTRAINT resources_searchdoc_service_fk FOREIGN KEY (service_id)
  REFERENCES resources_service (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

CREATE TRIGGER resources_search_service_ins AFTER INSERT ON resources_service
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_service_inserted();
CREATE TRIGGER resources_search_service_upd AFTER UPDATE ON resources_service
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_service_updated();
CREATE TRIGGER resources_search_org_upd AFTER UPDATE ON resources_organization
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_organization_updated();
CREATE TRIGGER resources_search_term_upd AFTER UPDATE ON resources_taxonomyterm
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_term_updated();
CREATE TRIGGER resources_search_attr_ins AFTER INSERT ON resources_attribute
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_attribute_inserted();
CREATE TRIGGER resources_search_attr_del AFTER DELETE ON resources_attribute
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_attribute_deleted();
CREATE TRIGGER resources_search_attr_upd AFTER UPDATE ON resources_attribute
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_search_attribute_updated();
"""

REVERSE = """
DROP TRIGGER IF EXISTS resources_search_attr_upd ON resources_attribute;
DROP TRIGGER IF EXISTS resources_search_attr_del ON resources_attribute;
DROP TRIGGER IF EXISTS resources_search_attr_ins ON resources_attribute;
DROP TRIGGER IF EXISTS resources_search_term_upd ON resources_taxonomyterm;
DROP TRIGGER IF EXISTS resources_search_org_upd ON resources_organization;
DROP TRIGGER IF EXISTS resources_search_service_upd ON resources_service;
DROP TRIGGER IF EXISTS resources_search_service_ins ON resources_service;
ALTER TABLE resources_servicesearchdocument DROP CONSTRAINT IF EXISTS resources_searchdoc_service_fk;
DROP FUNCTION IF EXISTS resources_search_attribute_updated();
DROP FUNCTION IF EXISTS resources_search_attribute_deleted();
DROP FUNCTION IF EXISTS resources_search_attribute_inserted();
DROP FUNCTION IF EXISTS resources_search_term_updated();
DROP FUNCTION IF EXISTS resources_search_organization_updated();
DROP FUNCTION IF EXISTS resources_search_service_updated();
DROP FUNCTION IF EXISTS resources_search_service_inserted();
DROP FUNCTION IF EXISTS resources_search_refresh(bigint[]);
DROP FUNCTION IF EXISTS resources_bilingual_tsvector(text);
"""


class Migration(migrations.Migration):
    dependencies = [("resources", "0014_search_document_directory_word")]

    operations = [
        # levenshtein_less_equal for typo correction (also created by cases 0027).
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch", migrations.RunSQL.noop),
        migrations.RunSQL(FUNCTIONS, REVERSE),
    ]
