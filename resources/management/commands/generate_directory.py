"""Generate a large synthetic directory for benchmarks (see docs/benchmarks.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_dir_bench \\
        .venv/bin/python manage.py generate_directory --services 200000

Adds organizations, services, locations with Albuquerque-area addresses, services at
locations, schedules (overnight, 24-hour, split, monthly, seasonal), languages, "ACS needs"
attributes, phones and capacities (resources/synthetic/), in chunks with a progress bar on a
terminal; then vacuums the database, as autovacuum would in time; prints the time taken and the
database's size. Refuses to run on a database whose name lacks "bench".
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from resources.synthetic import generate_directory


def database_size() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


class Command(BaseCommand):
    help = "Add a large synthetic directory to a *bench* database (see docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--services", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=4)
        parser.add_argument("--force", action="store_true", help="run on any database")

    def handle(self, *args, services, seed, force, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to add rows to {name!r}: use a *bench* database.")
        if services < 1:
            raise CommandError("--services must be at least 1.")
        self.stdout.write(f"Generating {services} services in {name!r} ...")
        start = time.perf_counter()
        # A bar on a terminal only: logs and the test suite get the summary lines alone.
        bar = tqdm(total=services, unit="services", disable=not sys.stderr.isatty())

        def advance(done: int) -> None:
            bar.update(done - bar.n)

        try:
            counts = generate_directory(services=services, seed=seed, progress=advance)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        self.stdout.write(f"... {summary} in {time.perf_counter() - start:.1f} s")
        self.vacuum()
        self.stdout.write(f"Database {name!r}: {database_size()}")

    def vacuum(self) -> None:
        """VACUUM ANALYZE the database, as autovacuum leaves a directory in time: the search
        rows rewritten as each chunk's documents were refreshed are cleared, and the
        visibility map is set, so index-only scans read no table. A benchmark of a directory
        left unvacuumed (a server with autovacuum off, or read before it came by) read every
        search row twice over and each key's row beside its index entry. Not inside a
        transaction (the test suite's), where VACUUM cannot run: there the generator's
        ANALYZE stands alone."""
        if connection.in_atomic_block:
            self.stdout.write("... not vacuumed: inside a transaction (analyzed only)")
            return
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"... vacuumed in {time.perf_counter() - start:.1f} s")
