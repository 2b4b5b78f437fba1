"""The unchanged re-import: a nightly feed is mostly the file imported the night before.

An import that wrote without rejections keeps (HsdsImportRun) the digest of its input (the
bytes of the JSON file, or of datapackage.json and every CSV beside it, and the options) and
the directory's mark once it had written. When the same input meets a directory with the same
mark, every one of its records would be found unchanged: the earlier report is given again,
with its records counted as unchanged, and nothing is parsed, validated or compared.

The mark is, for every table the import writes, the count of rows and an order-free sum of a
hash of each row's public id, updated_at and xmin (PostgreSQL's id of the transaction that
wrote that version of the row). Any UPDATE gives a row a new xmin, even one that leaves
updated_at alone (QuerySet.update); a new row adds one to the count and a deleted one takes
one off: any change since, by anyone, is a different mark, whatever the order in which
concurrent transactions commit. The digest carries IMPORT_RULES: change it
when the importer reads a file differently.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

from django.db import connection

from resources.models import HsdsImportRun

from .kinds import KINDS
from .read import _is_datapackage
from .report import Report

IMPORT_RULES = "2026-12-05"
_BLOCK = 1 << 20
# HSDS's datapackage.json is about 100 kB; a JSON file larger than this is taken for a feed
# without parsing it here. Should it be a descriptor after all, read() opens other files than
# these and the run is not remembered.
_DESCRIPTOR_AT_MOST = 4 << 20


def input_files(path: Path) -> list[Path] | None:
    """The files read() would open for PATH (resolved), or None when that cannot be told
    without reading it (read() says, in Source.files, which it opened: a run is remembered
    only when the two agree)."""
    if path.is_dir():
        descriptor = path / "datapackage.json"
    elif path.is_file() and path.suffix.lower() != ".csv":
        if path.stat().st_size > _DESCRIPTOR_AT_MOST:
            return [path.resolve()]  # a feed, not a descriptor (see remember)
        descriptor = path
    else:
        return None
    folder = descriptor.parent
    if not descriptor.is_file():
        return sorted(p.resolve() for p in folder.glob("*.csv"))
    try:
        package = json.loads(descriptor.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not _is_datapackage(package):
        return [descriptor.resolve()]
    named = [
        (folder / r["path"]).resolve()
        for r in package["resources"]
        if isinstance(r, dict) and isinstance(r.get("path"), str)
    ]
    return [descriptor.resolve(), *(p for p in named if p.is_file())]


def input_digest(
    path: Path, files: list[Path], kind: str | None, organization: uuid.UUID | None
) -> str:
    """sha256 of the files' bytes, the options, the import's rules, and the names of the CSVs
    in the folder (an unlisted one is warned about)."""
    folder = path if path.is_dir() else path.parent
    h = hashlib.sha256(f"{IMPORT_RULES}\0{kind}\0{organization}\0".encode())
    for name in sorted(p.name for p in folder.glob("*.csv")):
        h.update(f"{name}\0".encode())
    for file in files:
        h.update(f"\0{file}\0".encode())
        with file.open("rb") as f:
            while block := f.read(_BLOCK):
                h.update(block)
    return h.hexdigest()


def directory_mark() -> str:
    tables = [connection.ops.quote_name(k.model._meta.db_table) for k in KINDS.values()]
    row_hash = "hashtextextended(public_id::text || updated_at::text || xmin::text, 0)::numeric"
    sql = " UNION ALL ".join(
        # Our models' own table names, quoted; no input reaches this text.
        f"SELECT {n}, count(*), coalesce(sum({row_hash}), 0) FROM {table}"  # noqa: S608
        for n, table in enumerate(tables)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = sorted(cursor.fetchall())
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def earlier_report(digest: str, mark: str, report: Report) -> bool:
    """Fill REPORT from the import that left the directory as it is, if one read this input."""
    run = HsdsImportRun.objects.filter(digest=digest, mark=mark).order_by("-id").first()
    if run is None:
        return False
    saved = run.report
    report.notes = [
        *saved["notes"],
        f"Unchanged since the import of {run.created_at:%Y-%m-%d %H:%M} UTC: the same input "
        "and no change to the directory since, so every record is as it left them (nothing "
        "read again).",
    ]
    for kind, n in saved["records"].items():
        report.counts[kind]["unchanged"] = n
    for kind, fields in saved["not_kept"].items():
        report.not_kept[kind].update(fields)
    for kind, message, idents in saved["warnings"]:
        report.warnings[(kind, message)] = idents
    return True


def remember(source: str, digest: str, report: Report) -> None:
    """Keep what this import read and the directory's mark now that it has written."""
    records = {
        kind: counts["created"] + counts["updated"] + counts["unchanged"]
        for kind, counts in report.counts.items()
    }
    HsdsImportRun.objects.create(
        source=source[:1024],
        digest=digest,
        mark=directory_mark(),
        report={
            "notes": report.notes,
            "records": {kind: n for kind, n in records.items() if n},
            "not_kept": {kind: dict(fields) for kind, fields in report.not_kept.items()},
            "warnings": [[k, m, idents] for (k, m), idents in report.warnings.items()],
        },
    )
