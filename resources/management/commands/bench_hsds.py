"""Benchmark HSDS export and import over a generated directory, beside a plain COPY floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_h4_bench \\
        .venv/bin/python manage.py generate_directory --services 20000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_h4_bench \\
        .venv/bin/python manage.py bench_hsds

Steps, each timed in this process (figures for docs/benchmarks.md):

- floor: `COPY (SELECT * FROM <table> ORDER BY id) TO STDOUT (FORMAT csv)` of every table the
  export reads, the same rows with every column, read to the end and thrown away;
- export JSON and export CSV: what `manage.py hsds_export --json` and `--csv` write, into a
  temporary folder;
- import, every check: the JSON just written imported back with `recheck` (read, validated,
  compared with the directory; nothing differs, so nothing is written but the remembered run);
- import, unchanged: the same file again, answered from that run.

Each step prints its wall time and the CPU time of this process and of the processes it
started and waited for (a large export is written in parts, one process each:
resources/hsds_export.py, export_processes; the CPU time does not count waiting for a core,
nor PostgreSQL's own work). Peak memory is the largest of those processes' (ru_maxrss), so
the figure after each step is the peak so far;
run the commands one by one under /usr/bin/time -v for each one's own. Refuses to run on a
database whose name lacks "bench".
"""

import os
import resource
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from resources.hsds_export import write_datapackage, write_json
from resources.hsds_import import directory_import
from resources.hsds_import.kinds import KINDS
from resources.models import Service


def _peak_mb() -> float:
    own, parts = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return max(own.ru_maxrss, parts.ru_maxrss) / 1024


def _cpu() -> float:
    """CPU seconds of this process and of the processes it has waited for."""
    own, parts = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + parts.ru_utime + parts.ru_stime


def copy_floor() -> int:
    """Bytes of every exported table copied out as CSV by PostgreSQL itself."""
    size = 0
    with connection.cursor() as cursor:
        for kind in KINDS.values():
            table = connection.ops.quote_name(kind.model._meta.db_table)
            # Our models' own table names, quoted; no input reaches this text.
            sql = f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT (FORMAT csv)"  # noqa: S608
            with cursor.cursor.copy(sql) as copy:
                for block in copy:
                    size += len(block)
    return size


class Command(BaseCommand):
    help = "Time hsds_export and hsds_import over a generated directory (docs/benchmarks.md)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run on any database")
        parser.add_argument(
            "--no-import",
            action="store_true",
            help="the floor and the exports only (the import holds the whole file in memory)",
        )

    def handle(self, *args, force, no_import, **options):
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not force:
            raise CommandError(f"Refusing to benchmark {name!r}: use a *bench* database.")
        total = Service.objects.count()
        if total == 0:
            raise CommandError("No services: run manage.py generate_directory first.")
        load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
        self.stdout.write(
            f"{total} services in {name!r}; {os.cpu_count()} CPUs, load {load}; "
            f"{timezone.now():%Y-%m-%d %H:%M} UTC"
        )
        with tempfile.TemporaryDirectory(prefix="bench_hsds_") as tmp:
            folder = Path(tmp)
            path = folder / "services.json"

            def json_export() -> str:
                with path.open("w", encoding="utf-8") as stream:
                    count = write_json(stream)
                return f"{count} services, {path.stat().st_size / 1e6:.1f} MB"

            def csv_export() -> str:
                counts = write_datapackage(folder / "csv")
                size = sum(f.stat().st_size for f in (folder / "csv").iterdir())
                return f"{sum(counts.values())} rows, {size / 1e6:.1f} MB"

            def import_checked() -> str:
                report = directory_import(path, recheck=True)
                return report.outcome()

            def import_unchanged() -> str:
                report = directory_import(path)
                return report.outcome()

            steps = [
                ("floor: COPY of the same rows", lambda: f"{copy_floor() / 1e6:.1f} MB"),
                ("export JSON", json_export),
                ("export CSV", csv_export),
                ("import, every check", import_checked),
                ("import, unchanged", import_unchanged),
            ]
            if no_import:
                steps = steps[:3]
            for label, step in steps:
                start, cpu = time.perf_counter(), _cpu()
                what = step()
                seconds, cpu = time.perf_counter() - start, _cpu() - cpu
                self.stdout.write(
                    f"{label:<30} {seconds:8.2f} s  cpu {cpu:7.2f} s  peak {_peak_mb():6.0f} MB  "
                    f"{what}"
                )
