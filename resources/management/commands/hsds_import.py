"""Import HSDS 3.0 into the directory (resources/hsds_import/).

    manage.py hsds_import services.json             # an object, an array, an API page
    manage.py hsds_import export/                   # a CSV datapackage folder (or its
    manage.py hsds_import export/datapackage.json   #   datapackage.json)
    manage.py hsds_import feed.json --dry-run       # check and report, write nothing
    manage.py hsds_import feed.json --partial       # write the valid objects, skip the others

The report goes to stdout, progress to stderr (a bar when it is a terminal). Importing again
an input that was imported before, into a directory nothing has changed since, is answered
from that import's report in about a second (resources/hsds_import/unchanged.py).

Exit status: 0 when imported (or a clean dry run), 1 when nothing was written because of
rejected objects or unreadable input, 2 when --partial skipped some.
"""

import time
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from acs.progress import terminal_bars
from resources.hsds_import import TOP_KINDS, HsdsInputError, directory_import


class Command(BaseCommand):
    help = "Import HSDS 3.0 JSON or the HSDS tabular CSV datapackage into the directory."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a JSON file, a datapackage folder or datapackage.json")
        parser.add_argument(
            "--type",
            choices=TOP_KINDS,
            help="what the JSON's top-level objects are, when their keys do not tell",
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="import the valid objects even when others are rejected (exit status 2)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report only")
        parser.add_argument(
            "--recheck",
            action="store_true",
            help="read and check an input even when it was imported before, unchanged",
        )
        parser.add_argument(
            "--organization",
            metavar="ID",
            help="organization for services that name none (HSDS's service examples)",
        )

    def handle(self, *args, path, type, partial, dry_run, recheck, organization, **options):
        try:
            organization = uuid.UUID(organization) if organization else None
        except ValueError as exc:
            raise CommandError(f"--organization {organization!r} is not a UUID.") from exc
        start = time.perf_counter()
        self.stderr.write(f"Importing {path} ...")
        try:
            report = directory_import(
                Path(path),
                kind=type,
                partial=partial,
                dry_run=dry_run,
                organization=organization,
                progress=self.stderr.write,
                bar=terminal_bars(self.stderr),
                recheck=recheck,
            )
        except HsdsInputError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
        except DatabaseError as exc:
            # Every check runs before the writes; this is a concurrent change or a check we lack.
            raise CommandError(f"The database refused the import, nothing written: {exc}") from exc
        self.stdout.write("\n".join(report.lines()))
        self.stderr.write(f"... in {time.perf_counter() - start:.1f} s")
        if report.rejected and not report.written:
            raise CommandError(f"{report.rejected} object(s) rejected; nothing written.")
        if report.rejected:
            raise CommandError(
                f"{report.rejected} object(s) rejected and skipped; the others were imported.",
                returncode=2,
            )
