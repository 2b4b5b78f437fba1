"""The test database: migrated once into a template, cloned for each run and each xdist worker.

pytest-django's own `django_db_setup` creates the test database and runs every migration at the
start of each run, in each xdist worker. This one (tests/conftest.py uses it instead) keeps a
migrated template database on the server, named after a digest of every migration file and of
uv.lock (the third-party apps' migrations come with their pinned versions):

    test_acs_tpl_1a2b3c4d5e6f    the template, migrated once (its name says which migrations)
    test_acs_gw0, test_acs_gw1   each worker's own copy (CREATE DATABASE ... TEMPLATE), dropped
                                 at the end of the run; test_acs without xdist

A run whose migrations (or uv.lock) differ from the template's builds a new template and drops
the old ones; `--create-db` rebuilds it whatever its name says (CI does so). A copy is a fresh
database: a run never sees what an earlier one left. Workers that start together take turns
through a PostgreSQL advisory lock, so the template is built once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from django.conf import settings

APPS = ("acs", "cases", "resources", "responders")


def migrations_key() -> str:
    """A digest of every migration file of the project's apps and of uv.lock."""
    root = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    files = sorted(p for app in APPS for p in (root / app / "migrations").rglob("*.py"))
    for path in [*files, root / "uv.lock"]:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _base_name(test_name: str, worker: str) -> str:
    """The test database's name without pytest-django's xdist suffix (`_gw0`)."""
    suffix = f"_{worker}"
    return test_name[: -len(suffix)] if worker and test_name.endswith(suffix) else test_name


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases
    from psycopg import sql

    verbosity = request.config.option.verbose
    if not django_db_use_migrations:
        # --nomigrations: pytest-django's way (no template to key on).
        from pytest_django.fixtures import _disable_migrations

        _disable_migrations()
        with django_db_blocker.unblock():
            config = setup_databases(verbosity=verbosity, interactive=False)
        yield
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=verbosity)
        return

    connection = connections["default"]
    settings_dict = connection.settings_dict
    original_name = settings_dict["NAME"]
    test_name = settings_dict["TEST"]["NAME"]
    worker = getattr(request.config, "workerinput", {}).get("workerid", "")
    base = _base_name(test_name, worker)
    template = f"{base}_tpl_{migrations_key()}"
    if len(template) > 63:  # PostgreSQL's limit on a name
        template = f"test_{hashlib.sha256(base.encode()).hexdigest()[:20]}_tpl_{migrations_key()}"

    def ident(name: str):
        return sql.Identifier(name)

    with django_db_blocker.unblock():
        with connection._nodb_cursor() as admin:
            admin.execute("SELECT pg_advisory_lock(hashtext(%s))", [base])
            try:
                admin.execute(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = %s",
                    [template],
                )
                row = admin.fetchone()
                # --create-db: a new template, once for the run (not once for each worker).
                if row is None or (django_db_createdb and row[0] != _built_by()):
                    _build_template(connection, admin, base, template, ident)
                # Without FORCE: a run still using it (the same checkout's) is not cut off.
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {}")
                    .format(ident(test_name))
                    .as_string(admin.connection)
                )
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}")
                    .format(ident(test_name), ident(template))
                    .as_string(admin.connection)
                )
            finally:
                admin.execute("SELECT pg_advisory_unlock(hashtext(%s))", [base])
        connection.close()
        settings.DATABASES["default"]["NAME"] = test_name
        settings_dict["NAME"] = test_name
        connection.ensure_connection()
        from pytest_django.fixtures import _get_databases_for_setup

        _, serialized = _get_databases_for_setup(request.session.items)
        if "default" in serialized:  # for tests with serialized_rollback=True
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()

    yield

    with django_db_blocker.unblock():
        connections.close_all()
        # Drops the copy (kept with --reuse-db) and points the settings back at the database.
        connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=django_db_keepdb)


def _built_by() -> str:
    """The comment a template gets: which run built it (tests/environment.py's run id)."""
    return f"built by test run {os.environ.get('ACS_TEST_RUN', '')}"


def _build_template(connection, admin, base: str, template: str, ident) -> None:
    """Migrate a new database and rename it to `template` (a run cut short leaves no template
    that looks finished); drop the templates of other migrations."""
    from psycopg import sql

    building = f"{base}_tpl_building"
    settings_dict = connection.settings_dict
    name, test_settings = settings_dict["NAME"], dict(settings_dict["TEST"])
    settings_dict["TEST"]["NAME"] = building
    try:
        # Creates `building` (dropping a leftover one), migrates it, points the connection at it.
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
    finally:
        connection.close()
        settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name
        settings_dict["TEST"] = test_settings
    admin.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s",
        [base.replace("_", r"\_") + r"\_tpl\_%"],
    )
    for (old,) in admin.fetchall():
        if old != building:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                .format(ident(old))
                .as_string(admin.connection)
            )
    admin.execute(
        sql.SQL("COMMENT ON DATABASE {} IS {}")
        .format(ident(building), sql.Literal(_built_by()))
        .as_string(admin.connection)
    )
    admin.execute(
        sql.SQL("ALTER DATABASE {} RENAME TO {}")
        .format(ident(building), ident(template))
        .as_string(admin.connection)
    )
