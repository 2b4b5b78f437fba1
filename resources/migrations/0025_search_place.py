"""One search row per service at location (resources/models/search.py, SearchPlace): the
service's name, status, referral flag, search document and terms, the location's Earth point,
the languages of both and the place's capacity, kept by triggers, so the search filters and
orders on one table.

Statement-level triggers with transition tables, as migration 0015's: a bulk_create of 2,000
places or an `.update()` over thousands rewrites their rows in one set-based statement. Each
trigger names the places whose copy may have changed; resources_searchplace_refresh rewrites
those whose copy differs (an unchanged row is not written, so a service saved with no change
to what a place copies costs a read). Filled here from the directory as it stands; the indexes
are built CONCURRENTLY after the fill, outside a transaction, as migrations 0019, 0023 and
0024 build theirs.
"""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

import resources.models.directory

# resources_searchplace_refresh: rewrite the search rows of these services at locations from
# what they copy: insert those missing, update those that differ, leave the others (and ids
# with no service at location). A template, as migration 0026 adds the opening spans to it.
REFRESH_TEMPLATE = r"""
CREATE OR REPLACE FUNCTION resources_searchplace_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO resources_searchplace AS p (service_at_location_id, name, status,
    accepts_referrals, point, document, languages, terms, available, capacity_updated_at{cols})
  SELECT sal.id, s.name, s.status, s.accepts_referrals,
         CASE WHEN l.latitude IS NOT NULL AND l.longitude IS NOT NULL
           THEN resources_earth_point(l.latitude::float8, l.longitude::float8) END,
         d.document,
         ARRAY(SELECT upper(g.code) FROM resources_language g WHERE g.service_id = s.id
               UNION
               SELECT upper(g.code) FROM resources_language g WHERE g.location_id = l.id
               ORDER BY 1),
         ARRAY(SELECT DISTINCT a.taxonomy_term_id FROM resources_attribute a
               WHERE a.service_id = s.id ORDER BY 1),
         c.available, c.updated_at{vals}
  FROM resources_serviceatlocation sal
  JOIN resources_service s ON s.id = sal.service_id
  JOIN resources_location l ON l.id = sal.location_id
  LEFT JOIN resources_servicesearchdocument d ON d.service_id = s.id
  LEFT JOIN resources_capacity c ON c.service_at_location_id = sal.id{join}
  WHERE sal.id = ANY(ids)
  -- Rows locked in key order, whoever writes: a service's edit and a location's language
  -- rewrite overlapping rows, and in one order they wait for each other, never deadlock.
  ORDER BY sal.id
  ON CONFLICT (service_at_location_id) DO UPDATE SET
    name = EXCLUDED.name, status = EXCLUDED.status,
    accepts_referrals = EXCLUDED.accepts_referrals, point = EXCLUDED.point,
    document = EXCLUDED.document, languages = EXCLUDED.languages, terms = EXCLUDED.terms,
    available = EXCLUDED.available, capacity_updated_at = EXCLUDED.capacity_updated_at{sets}
  WHERE (p.name, p.status, p.accepts_referrals, p.point, p.document, p.languages, p.terms,
         p.available, p.capacity_updated_at{cols_p})
        IS DISTINCT FROM
        (EXCLUDED.name, EXCLUDED.status, EXCLUDED.accepts_referrals, EXCLUDED.point,
         EXCLUDED.document, EXCLUDED.languages, EXCLUDED.terms, EXCLUDED.available,
         EXCLUDED.capacity_updated_at{cols_x})
$$;
"""


def refresh_sql(*, spans: bool) -> str:
    """resources_searchplace_refresh's definition, with the opening spans or without."""
    if not spans:
        return REFRESH_TEMPLATE.format(cols="", vals="", join="", sets="", cols_p="", cols_x="")
    return REFRESH_TEMPLATE.format(
        cols=", spans",
        vals=", o.spans",
        join="\n  LEFT JOIN resources_openingspans o ON o.service_at_location_id = sal.id",
        sets=", spans = EXCLUDED.spans",
        cols_p=", p.spans",
        cols_x=", EXCLUDED.spans",
    )


TRIGGERS = r"""
-- What every trigger calls: the rows refreshed now, or, inside a bulk write that deferred
-- the search's upkeep (resources.services.search.search_refresh_deferred: the setting
-- `resources.search_refresh` at 'deferred', or 'places' while the documents are being
-- written on the way out), noted in a temporary table and refreshed once at its end: an
-- HSDS import writes a place, then its languages, its capacity and its service's document.
CREATE FUNCTION resources_searchplace_touch(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF ids IS NULL OR cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  IF current_setting('resources.search_refresh', true) IN ('deferred', 'places') THEN
    CREATE TEMPORARY TABLE IF NOT EXISTS resources_searchplace_pending
      (service_at_location_id bigint) ON COMMIT DROP;
    INSERT INTO resources_searchplace_pending (service_at_location_id) SELECT unnest(ids);
    RETURN;
  END IF;
  PERFORM resources_searchplace_refresh(ids);
END
$$;

CREATE FUNCTION resources_searchplace_of_services(services bigint[]) RETURNS void
LANGUAGE sql AS $$
  SELECT resources_searchplace_touch(ARRAY(
    SELECT id FROM resources_serviceatlocation WHERE service_id = ANY(services)))
$$;

CREATE FUNCTION resources_searchplace_of_locations(locations bigint[]) RETURNS void
LANGUAGE sql AS $$
  SELECT resources_searchplace_touch(ARRAY(
    SELECT id FROM resources_serviceatlocation WHERE location_id = ANY(locations)))
$$;

CREATE FUNCTION resources_searchplace_sal_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_searchplace_touch(ARRAY(SELECT id FROM new_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_searchplace_service_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_searchplace_of_services(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.name, n.status, n.accepts_referrals)
          IS DISTINCT FROM (o.name, o.status, o.accepts_referrals)));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_searchplace_document_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_searchplace_of_services(ARRAY(SELECT service_id FROM new_rows));
  RETURN NULL;
END $$;

CREATE FUNCTION resources_searchplace_location_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM resources_searchplace_of_locations(ARRAY(
    SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.latitude, n.longitude) IS DISTINCT FROM (o.latitude, o.longitude)));
  RETURN NULL;
END $$;

-- A language of a service or at a location: its places. TG_OP tells which tables exist.
CREATE FUNCTION resources_searchplace_language_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM resources_searchplace_of_services(ARRAY(
      SELECT service_id FROM new_rows WHERE service_id IS NOT NULL));
    PERFORM resources_searchplace_of_locations(ARRAY(
      SELECT location_id FROM new_rows WHERE location_id IS NOT NULL));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM resources_searchplace_of_services(ARRAY(
      SELECT service_id FROM old_rows WHERE service_id IS NOT NULL));
    PERFORM resources_searchplace_of_locations(ARRAY(
      SELECT location_id FROM old_rows WHERE location_id IS NOT NULL));
  END IF;
  RETURN NULL;
END $$;

-- An attribute's service: its places (old and new service on an update).
CREATE FUNCTION resources_searchplace_attribute_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM resources_searchplace_of_services(ARRAY(SELECT service_id FROM new_rows));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM resources_searchplace_of_services(ARRAY(SELECT service_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;

-- A capacity's place (a responder's count of beds: one row a statement).
CREATE FUNCTION resources_searchplace_capacity_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM resources_searchplace_touch(ARRAY(SELECT service_at_location_id FROM new_rows));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM resources_searchplace_touch(ARRAY(SELECT service_at_location_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;

-- The row goes with its service at location (Django leaves it to the database: DO_NOTHING).
ALTER TABLE resources_searchplace
  ADD CONSTRAINT resources_searchplace_sal_fk FOREIGN KEY (service_at_location_id)
  REFERENCES resources_serviceatlocation (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

CREATE TRIGGER resources_searchplace_sal_ins AFTER INSERT ON resources_serviceatlocation
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_sal_written();
CREATE TRIGGER resources_searchplace_sal_upd AFTER UPDATE ON resources_serviceatlocation
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_sal_written();
CREATE TRIGGER resources_searchplace_service_upd AFTER UPDATE ON resources_service
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_service_updated();
CREATE TRIGGER resources_searchplace_doc_ins AFTER INSERT ON resources_servicesearchdocument
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_document_written();
CREATE TRIGGER resources_searchplace_doc_upd AFTER UPDATE ON resources_servicesearchdocument
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_document_written();
CREATE TRIGGER resources_searchplace_location_upd AFTER UPDATE ON resources_location
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_location_updated();
CREATE TRIGGER resources_searchplace_lang_ins AFTER INSERT ON resources_language
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_language_written();
CREATE TRIGGER resources_searchplace_lang_upd AFTER UPDATE ON resources_language
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_language_written();
CREATE TRIGGER resources_searchplace_lang_del AFTER DELETE ON resources_language
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_language_written();
CREATE TRIGGER resources_searchplace_attr_ins AFTER INSERT ON resources_attribute
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_attribute_written();
CREATE TRIGGER resources_searchplace_attr_upd AFTER UPDATE ON resources_attribute
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_attribute_written();
CREATE TRIGGER resources_searchplace_attr_del AFTER DELETE ON resources_attribute
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_attribute_written();
CREATE TRIGGER resources_searchplace_capacity_ins AFTER INSERT ON resources_capacity
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_capacity_written();
CREATE TRIGGER resources_searchplace_capacity_upd AFTER UPDATE ON resources_capacity
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_capacity_written();
CREATE TRIGGER resources_searchplace_capacity_del AFTER DELETE ON resources_capacity
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION resources_searchplace_capacity_written();
"""
FUNCTIONS = refresh_sql(spans=False) + TRIGGERS

REVERSE = """
DROP TRIGGER IF EXISTS resources_searchplace_capacity_del ON resources_capacity;
DROP TRIGGER IF EXISTS resources_searchplace_capacity_upd ON resources_capacity;
DROP TRIGGER IF EXISTS resources_searchplace_capacity_ins ON resources_capacity;
DROP TRIGGER IF EXISTS resources_searchplace_attr_del ON resources_attribute;
DROP TRIGGER IF EXISTS resources_searchplace_attr_upd ON resources_attribute;
DROP TRIGGER IF EXISTS resources_searchplace_attr_ins ON resources_attribute;
DROP TRIGGER IF EXISTS resources_searchplace_lang_del ON resources_language;
DROP TRIGGER IF EXISTS resources_searchplace_lang_upd ON resources_language;
DROP TRIGGER IF EXISTS resources_searchplace_lang_ins ON resources_language;
DROP TRIGGER IF EXISTS resources_searchplace_location_upd ON resources_location;
DROP TRIGGER IF EXISTS resources_searchplace_doc_upd ON resources_servicesearchdocument;
DROP TRIGGER IF EXISTS resources_searchplace_doc_ins ON resources_servicesearchdocument;
DROP TRIGGER IF EXISTS resources_searchplace_service_upd ON resources_service;
DROP TRIGGER IF EXISTS resources_searchplace_sal_upd ON resources_serviceatlocation;
DROP TRIGGER IF EXISTS resources_searchplace_sal_ins ON resources_serviceatlocation;
ALTER TABLE resources_searchplace DROP CONSTRAINT IF EXISTS resources_searchplace_sal_fk;
DROP FUNCTION IF EXISTS resources_searchplace_capacity_written();
DROP FUNCTION IF EXISTS resources_searchplace_attribute_written();
DROP FUNCTION IF EXISTS resources_searchplace_language_written();
DROP FUNCTION IF EXISTS resources_searchplace_location_updated();
DROP FUNCTION IF EXISTS resources_searchplace_document_written();
DROP FUNCTION IF EXISTS resources_searchplace_service_updated();
DROP FUNCTION IF EXISTS resources_searchplace_sal_written();
DROP FUNCTION IF EXISTS resources_searchplace_of_locations(bigint[]);
DROP FUNCTION IF EXISTS resources_searchplace_of_services(bigint[]);
DROP FUNCTION IF EXISTS resources_searchplace_touch(bigint[]);
DROP FUNCTION IF EXISTS resources_searchplace_refresh(bigint[]);
"""

FILL = "SELECT resources_searchplace_refresh(ARRAY(SELECT id FROM resources_serviceatlocation))"

# (name, method, columns, options) of each index, as the model's Meta declares them.
INDEXES = [
    ("resources_searchplace_point", "gist", "(point)", ""),
    ("resources_searchplace_doc", "gin", "(document)", " WITH (gin_pending_list_limit = 128)"),
    ("resources_searchplace_lang", "gin", "(languages)", ""),
    ("resources_searchplace_terms", "gin", "(terms)", ""),
    (
        "resources_searchplace_free",
        "btree",
        "(capacity_updated_at)",
        " WHERE available > 0",
    ),
    (
        "resources_searchplace_active",
        "btree",
        "(service_at_location_id)",
        " WHERE status = 'active'",
    ),
    ("resources_searchplace_name", "btree", "(name, service_at_location_id)", ""),
]


class Migration(migrations.Migration):
    dependencies = [("resources", "0024_opening_spans")]

    atomic = False

    operations = [
        migrations.CreateModel(
            name="SearchPlace",
            fields=[
                (
                    "service_at_location",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="search_place",
                        serialize=False,
                        to="resources.serviceatlocation",
                    ),
                ),
                ("name", models.CharField(max_length=255)),
                ("status", models.CharField(max_length=20)),
                ("accepts_referrals", models.BooleanField()),
                ("point", resources.models.directory.Cube(null=True)),
                ("document", django.contrib.postgres.search.SearchVectorField(null=True)),
                (
                    "languages",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=16), default=list, size=None
                    ),
                ),
                (
                    "terms",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), default=list, size=None
                    ),
                ),
                ("available", models.PositiveIntegerField(null=True)),
                ("capacity_updated_at", models.DateTimeField(null=True)),
            ],
        ),
        # The functions, the foreign key and the triggers in one statement (one transaction):
        # from here on every write keeps the rows, so the fill below misses nothing.
        migrations.RunSQL(FUNCTIONS, REVERSE),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON resources_searchplace"
                    f" USING {method} {columns}{options}",
                    f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
                )
                for name, method, columns, options in INDEXES
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GistIndex(
                        fields=["point"], name="resources_searchplace_point"
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["document"],
                        gin_pending_list_limit=128,
                        name="resources_searchplace_doc",
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["languages"], name="resources_searchplace_lang"
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=django.contrib.postgres.indexes.GinIndex(
                        fields=["terms"], name="resources_searchplace_terms"
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=models.Index(
                        condition=models.Q(("available__gt", 0)),
                        fields=["capacity_updated_at"],
                        name="resources_searchplace_free",
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=models.Index(
                        condition=models.Q(("status", "active")),
                        fields=["service_at_location"],
                        name="resources_searchplace_active",
                    ),
                ),
                migrations.AddIndex(
                    model_name="searchplace",
                    index=models.Index(
                        fields=["name", "service_at_location"], name="resources_searchplace_name"
                    ),
                ),
            ],
        ),
        # Statistics at once, as migration 0024: the planner's choice between the indexes
        # rests on them.
        migrations.RunSQL("ANALYZE resources_searchplace", migrations.RunSQL.noop),
    ]
