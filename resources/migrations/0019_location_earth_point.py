"""Distance on an index: a GiST index on each location as a 3-D point (the `cube` extension),
serving "within r km" (a box, `<@`) and "nearest first" (`<->`) in the directory search.

`resources_earth_point` is the earthdistance extension's `ll_to_earth` on the sphere of
EARTH_RADIUS_KM (resources/models/directory.py; the haversine of the search used that radius, so
distances stay the same). It is written here with a SQL-standard body (PostgreSQL 14+), whose
references are bound when it is created, instead of using earthdistance itself: `ll_to_earth`'s
body names `cube` and `earth` through the search path, which autovacuum, pg_restore and
PostgreSQL 17's maintenance commands restrict, so an index on it fails there ("type earth does
not exist"); earthdistance also needs a superuser to install, cube does not (trusted).
Its body is strict functions only (nested `cube(...)`, no ARRAY), so the planner inlines it:
the index and the queries compute the point with no SQL function call per row.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.comparison
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations, models

import resources.models.directory


class CreateCubeExtension(CreateExtension):
    """Reversing keeps the extension: it may have been there before (or serve others)."""

    def __init__(self):
        super().__init__("cube")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


EARTH_POINT = """
CREATE FUNCTION resources_earth_point(latitude double precision, longitude double precision)
RETURNS cube
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN cube(cube(cube(
    6371.0088 * cos(radians(latitude)) * cos(radians(longitude))),
    6371.0088 * cos(radians(latitude)) * sin(radians(longitude))),
    6371.0088 * sin(radians(latitude)));
"""


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0018_hsds_import_run"),
    ]

    # The index is built and the old one dropped CONCURRENTLY, outside a transaction, so the
    # locations table stays writable during a rolling deploy (docs/operations.md), and the new
    # index is there before the old one goes. Written as SQL: Django's AddIndexConcurrently
    # refuses to run even for `sqlmigrate` inside a transaction (the migration linter's test);
    # the state is the model's (resources/models/directory.py).
    atomic = False

    operations = [
        CreateCubeExtension(),
        migrations.RunSQL(EARTH_POINT, "DROP FUNCTION resources_earth_point(float8, float8)"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_location_earth_idx"
                    " ON resources_location USING gist"
                    " (resources_earth_point(latitude::float8, longitude::float8))",
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_location_earth_idx",
                ),
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS resources_location_latlon_idx",
                    "CREATE INDEX CONCURRENTLY IF NOT EXISTS resources_location_latlon_idx"
                    " ON resources_location (latitude, longitude)",
                ),
            ],
            state_operations=[
                migrations.AddIndex(
                    model_name="location",
                    index=django.contrib.postgres.indexes.GistIndex(
                        models.Func(
                            django.db.models.functions.comparison.Cast(
                                "latitude", models.FloatField()
                            ),
                            django.db.models.functions.comparison.Cast(
                                "longitude", models.FloatField()
                            ),
                            function="resources_earth_point",
                            output_field=resources.models.directory.Cube(),
                        ),
                        name="resources_location_earth_idx",
                    ),
                ),
                migrations.RemoveIndex(
                    model_name="location",
                    name="resources_location_latlon_idx",
                ),
            ],
        ),
    ]
