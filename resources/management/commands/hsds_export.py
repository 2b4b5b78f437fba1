"""Export the directory as HSDS 3.0 (resources/hsds_export.py).

    manage.py hsds_export --json services.json      # JSON array of full service objects
    manage.py hsds_export --json -                  # the same to stdout
    manage.py hsds_export --csv export/             # tabular datapackage: CSVs + datapackage.json

Progress goes to stderr (a bar when it is a terminal), so stdout carries only the JSON when
writing there. Memory stays bounded: services are read and written a chunk at a time.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from acs.progress import terminal_bars
from resources.hsds_export import write_datapackage, write_json


class _Unended:
    """self.stdout adds a line ending to every write; JSON is written in pieces."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = "Write the directory as HSDS 3.0 JSON and/or the HSDS tabular CSV datapackage."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", metavar="PATH", help="file for the JSON array, or - for stdout"
        )
        parser.add_argument("--csv", metavar="FOLDER", help="folder for the CSV datapackage")
        parser.add_argument(
            "--overwrite", action="store_true", help="replace existing files in the way"
        )

    def handle(self, *args, json, csv, overwrite, **options):
        if not json and not csv:
            raise CommandError("Say what to write: --json PATH (or -) and/or --csv FOLDER.")
        json_path = None if json in (None, "-") else Path(json)
        folder = Path(csv) if csv else None
        if json_path is not None:
            if json_path.is_dir():
                raise CommandError(f"{json_path} is a folder; give a file name for --json.")
            if not json_path.parent.is_dir():
                raise CommandError(f"The folder {json_path.parent} does not exist.")
            if json_path.exists() and not overwrite:
                raise CommandError(f"{json_path} exists; pass --overwrite to replace it.")
        if folder is not None:
            if folder.exists() and not folder.is_dir():
                raise CommandError(f"{folder} is a file; --csv needs a folder.")
            if folder.is_dir() and any(folder.iterdir()) and not overwrite:
                raise CommandError(f"{folder} is not empty; pass --overwrite to write into it.")
        progress = self.stderr.write
        bar = terminal_bars(self.stderr)
        if json is not None:
            start = time.perf_counter()
            progress(f"Writing HSDS JSON to {json_path or 'stdout'} ...")
            if json_path is None:
                count = write_json(_Unended(self.stdout), bar=bar)
            else:
                # Written beside and renamed at the end: a failed run leaves no half file.
                partial = json_path.with_name(json_path.name + ".partial")
                try:
                    with partial.open("w", encoding="utf-8") as stream:
                        count = write_json(stream, bar=bar)
                    partial.replace(json_path)
                finally:
                    partial.unlink(missing_ok=True)
            progress(f"... {count} services in {time.perf_counter() - start:.1f} s")
        if folder is not None:
            start = time.perf_counter()
            progress(f"Writing the HSDS CSV datapackage to {folder}/ ...")
            counts = write_datapackage(folder, progress=progress, bar=bar)
            progress(
                f"... {sum(counts.values())} rows in {len(counts)} tables "
                f"in {time.perf_counter() - start:.1f} s"
            )
