"""The directory as HSDS 3.0: a JSON array of full services, and the tabular CSV datapackage.

Both are shaped by the API's serializers (resources/api/hsds_serializers.py), so the export and
`/api/hsds/` cannot drift apart: the JSON items are `ServiceFullOut` (what
`/api/hsds/services/{id}` returns), and a CSV row is the flat part of the table's serializer
(nested objects dropped) plus the owner ids (`service_id`, `location_id`, ...) that nesting
implied. Columns follow HSDS's datapackage.json (vendored in resources/hsds_schema/), with our
extension columns declared in the written descriptor: `closed` on schedules matters, since a
closure read without it would look like a day open around the clock.

Live capacity is not exported (it is stale within hours and HSDS has no place for it).
"""

from __future__ import annotations

import copy
import csv
import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.db.models import Model, Prefetch, Q, QuerySet
from rest_framework import serializers

from acs.csv_cells import csv_cell
from acs.progress import BarFactory, no_bar
from resources.api import hsds_serializers as out
from resources.hsds_schemas import SCHEMA_DIR
from resources.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    Language,
    Location,
    Organization,
    Phone,
    RequiredDocument,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

CHUNK = 500
Progress = Callable[[str], None]

# Beyond HSDS, declared in the written datapackage.json (name, type, description).
EXTENSION_FIELDS = {
    "service": [
        ("accepts_referrals", "boolean", "Takes electronic referrals (ACS extension)."),
        ("referral_response_hours", "integer", "Hours a referral may wait (ACS extension)."),
        ("last_verified_at", "datetime", "When the listing was last verified (ACS extension)."),
    ],
    "schedule": [
        (
            "closed",
            "boolean",
            "A closure: no session starts on the dates from valid_from to valid_to "
            "(ACS extension).",
        ),
    ],
}


@dataclass(frozen=True)
class Table:
    resource: str  # datapackage resource name
    queryset: Callable[[], QuerySet]
    serializer: type


def _owners(model: type[Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.is_relation]


def _qs(model: type[Model]) -> Callable[[], QuerySet]:
    def build() -> QuerySet:
        return model.objects.select_related(*_owners(model)).order_by("id")

    return build


TABLES = [
    Table("organization", _qs(Organization), out.OrganizationOut),
    Table("service", _qs(Service), out.ServiceOut),
    Table("location", _qs(Location), out.LocationOut),
    Table("address", _qs(Address), out.AddressOut),
    Table(
        "service_at_location",
        lambda: ServiceAtLocation.objects.select_related(
            "service__organization", "location__organization", "capacity"
        ).order_by("id"),
        out.ServiceAtLocationOut,
    ),
    Table("phone", _qs(Phone), out.PhoneOut),
    Table("contact", _qs(Contact), out.ContactOut),
    Table("schedule", _qs(Schedule), out.ScheduleOut),
    Table("language", _qs(Language), out.LanguageOut),
    Table("taxonomy", _qs(Taxonomy), out.TaxonomyOut),
    Table("taxonomy_term", _qs(TaxonomyTerm), out.TaxonomyTermOut),
    Table(
        "attribute",
        lambda: Attribute.objects.select_related(
            "service", "taxonomy_term__taxonomy", "taxonomy_term__parent"
        ).order_by("id"),
        out.AttributeOut,
    ),
    Table("cost_option", _qs(CostOption), out.CostOptionOut),
    Table("required_document", _qs(RequiredDocument), out.RequiredDocumentOut),
]


def descriptor() -> dict:
    """HSDS's datapackage.json with our extension columns added."""
    package = json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    package = copy.deepcopy(package)
    for resource in package["resources"]:
        for name, type_, description in EXTENSION_FIELDS.get(resource["name"], []):
            resource["schema"]["fields"].append(
                {"name": name, "type": type_, "description": description}
            )
    return package


# --- JSON ------------------------------------------------------------------------------------


def _many(relation: str, queryset: QuerySet) -> Prefetch:
    """A prefetch into a plain list (see hsds_serializers.prefetched_as): Django's own
    prefetch_related builds a queryset per object and relation to hold the rows, which was
    most of the export's time once the serializer was built only once."""
    to_attr = out.prefetched_as(relation.split("__")[-1])
    return Prefetch(relation, queryset=queryset, to_attr=to_attr)


def _rows(model: type[Model]) -> QuerySet:
    # The nested objects show no time stamps: not reading them saves a third of the rows' cost.
    return model.objects.defer("created_at", "updated_at")


def _phones() -> QuerySet:
    return _rows(Phone).prefetch_related(_many("languages", _rows(Language)))


def _contacts() -> QuerySet:
    return _rows(Contact).prefetch_related(_many("phones", _phones()))


def full_services() -> QuerySet[Service]:
    """Every service (every status) with what a full HSDS service object carries: the
    relations of selectors.services_list(full=True), in the same order, into plain lists."""
    at_locations = (
        _rows(ServiceAtLocation)
        .select_related("location__organization")
        .defer(
            "location__created_at",
            "location__updated_at",
            "location__organization__created_at",
            "location__organization__updated_at",
        )
    )
    at_locations = at_locations.prefetch_related(
        _many("location__addresses", _rows(Address)),
        _many("location__phones", _phones()),
        _many("location__schedules", _rows(Schedule)),
        _many("location__languages", _rows(Language)),
        _many("phones", _phones()),
        _many("schedules", _rows(Schedule)),
        _many("contacts", _contacts()),
    )
    return (
        Service.objects.select_related("organization")
        .defer("organization__created_at", "organization__updated_at")
        .prefetch_related(
            _many("phones", _phones()),
            _many("schedules", _rows(Schedule)),
            _many("cost_options", _rows(CostOption)),
            _many("required_documents", _rows(RequiredDocument)),
            _many("contacts", _contacts()),
            _many("languages", _rows(Language).order_by("code", "id")),
            _many(
                "attributes",
                _rows(Attribute).select_related("taxonomy_term__taxonomy", "taxonomy_term__parent"),
            ),
            _many("at_locations", at_locations),
        )
        .order_by("name", "id")
    )


# --- in parallel ---------------------------------------------------------------------------

# An export of at least PARALLEL_FROM rows (services for the JSON, a table's rows for the CSV) is
# written by one process per core, at most EXPORT_PROCESSES, each a contiguous part of the rows
# into a file of its own, joined in order at the end: the export is CPU-bound in Python (model
# instances and serializers: 0.74 ms of CPU a full service), so one process used one core.
# Fewer rows, one process: starting more costs more than it saves. A daemonic process (a
# Celery pool's) may not start processes of its own: one.
PARALLEL_FROM = 5_000
EXPORT_PROCESSES = 4
_COUNT_EVERY = 100


def export_processes(rows: int) -> int:
    if rows < PARALLEL_FROM or multiprocessing.current_process().daemon:
        return 1
    return max(1, min(EXPORT_PROCESSES, os.cpu_count() or 1))


class _Counter:
    """Rows a part has written, added to the count its parent's progress bar reads (every
    _COUNT_EVERY rows, and at the end)."""

    def __init__(self, shared: Any) -> None:
        self.shared, self.pending = shared, 0

    def add(self) -> None:
        self.pending += 1
        if self.pending >= _COUNT_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.shared.get_lock():
                self.shared.value += self.pending
            self.pending = 0


PartWriter = Callable[[IO[str], int, _Counter], int]


def _exported_snapshot() -> tuple[Any, str]:
    """A connection of its own holding a read-only REPEATABLE READ transaction, and the id of
    its snapshot (pg_export_snapshot): every part reads the directory as of that one instant,
    as pg_dump's parallel jobs do, so a service renamed or added while they run is neither
    written twice nor left out. Held open until the parts are done."""
    connection = connections["default"]
    holder = connection.get_new_connection(connection.get_connection_params())
    holder.autocommit = True
    holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    row = holder.execute("SELECT pg_export_snapshot()").fetchone()
    return holder, row[0]


def _part(
    write: PartWriter, path: Path, snapshot: str, shared: Any, results: Any, index: int
) -> None:
    """In a child process: write part `index` to `path`, its own database connection reading
    the parent's snapshot."""
    counter = _Counter(shared)
    try:
        with transaction.atomic(), path.open("w", encoding="utf-8", newline="") as stream:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            results[index] = write(stream, index, counter)
        counter.flush()
    finally:
        connections.close_all()


def _in_parts(
    write: PartWriter, parts: int, total: int, folder: Path, bar: BarFactory, label: str
) -> list[tuple[Path, int]]:
    """write(stream, part, counter) for each part 0..parts-1, each in a process of its own
    (forked: the parent's database connections are closed first, so each opens its own) and
    all reading one snapshot; returns each part's file and row count, in order. One part
    failing fails the export."""
    context = multiprocessing.get_context("fork")
    shared = context.Value("q", 0)
    results = context.Array("q", [-1] * parts)
    paths = [folder / f"part-{index}" for index in range(parts)]
    holder, snapshot = _exported_snapshot()
    # Last before the fork: a connection open now would be shared with the children, and the
    # first to close it would close it for all.
    connections.close_all()
    processes = [
        context.Process(target=_part, args=(write, paths[index], snapshot, shared, results, index))
        for index in range(parts)
    ]
    try:
        for process in processes:
            process.start()
        with bar(total, label) as done:
            seen = 0
            for process in processes:
                while process.is_alive():
                    process.join(timeout=0.2)
                    now = shared.value
                    done.update(now - seen)
                    seen = now
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
        holder.close()
    codes = [process.exitcode for process in processes]
    if any(codes) or min(results) < 0:
        raise RuntimeError(f"An export process failed (exit codes {codes}); nothing was written.")
    return list(zip(paths, list(results), strict=True))


def _join(stream: IO[str], pieces: list[tuple[Path, int]], between: str = "") -> None:
    first = True
    for path, rows in pieces:
        if rows:
            stream.write("" if first else between)
            with path.open(encoding="utf-8", newline="") as part:
                shutil.copyfileobj(part, stream)
            first = False


# --- JSON, continued ---------------------------------------------------------------------------


def _service_bounds(parts: int, total: int) -> list[tuple[str, int] | None]:
    """Where each part of the services (in the export's order: name, id) starts and ends."""
    ordered = Service.objects.order_by("name", "id").values_list("name", "id")
    return [None, *(ordered[total * k // parts] for k in range(1, parts)), None]


def _services_between(start: tuple[str, int] | None, end: tuple[str, int] | None) -> QuerySet:
    qs = full_services()
    if start is not None:
        qs = qs.filter(Q(name__gt=start[0]) | Q(name=start[0], id__gte=start[1]))
    if end is not None:
        qs = qs.filter(Q(name__lt=end[0]) | Q(name=end[0], id__lt=end[1]))
    return qs


def service_objects(services: QuerySet | None = None) -> Iterator[dict]:
    """The full HSDS service objects of `services` (default: every one, full_services), a
    chunk of services (and their relations) in memory at a time, through one serializer
    (built once: building it per service was most of the time)."""
    serializer = out.ServiceFullOut(context={"prefetched": True})
    qs = full_services() if services is None else services
    for service in qs.iterator(chunk_size=CHUNK):
        yield serializer.to_representation(service)


def _write_services(stream: IO[str], services: QuerySet, tick: Callable[[], Any]) -> int:
    """The services' full objects, one per line, joined by commas; returns the count."""
    encode = DjangoJSONEncoder(ensure_ascii=False).encode
    count = 0
    for item in service_objects(services):
        stream.write(",\n" if count else "")
        stream.write(encode(item))
        count += 1
        tick()
    return count


def write_json(stream: IO[str], *, bar: BarFactory = no_bar) -> int:
    """Write a JSON array of full HSDS service objects, one per line. Returns the count. A
    large directory is written in parts, one process each (export_processes)."""
    total = Service.objects.count()
    parts = export_processes(total)
    stream.write("[\n")
    if parts == 1:
        with bar(total, "services") as done:
            count = _write_services(stream, full_services(), done.update)
    else:
        bounds = _service_bounds(parts, total)

        def write(part: IO[str], index: int, counter: _Counter) -> int:
            return _write_services(
                part, _services_between(bounds[index], bounds[index + 1]), counter.add
            )

        with tempfile.TemporaryDirectory(prefix="hsds-export-") as folder:
            pieces = _in_parts(write, parts, total, Path(folder), bar, "services")
            _join(stream, pieces, between=",\n")
        count = sum(rows for _path, rows in pieces)
    stream.write("\n]\n" if count else "]\n")
    return count


# --- CSV datapackage -------------------------------------------------------------------------


def _cell(value, field_type: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if field_type == "time" and isinstance(value, str) and len(value) == 5:
        return f"{value}:00"  # the API's local HH:MM; Table Schema times are HH:MM:SS
    if field_type == "string":
        # HSDS's tabular form is made to be kept in spreadsheets, and its text comes from
        # partners' feeds: no text cell may run as a formula. By the column's type, so a
        # negative longitude stays a number; hsds_import takes the apostrophe off again.
        return csv_cell(str(value))
    return str(value)


def _flat(serializer: type[out.Hsds], fields: list[dict]) -> out.Hsds:
    """One instance of a table's serializer with only the fields that are columns of the table
    and not nested objects (those are rows of their own table): the rest would be computed for
    every row and thrown away."""
    instance = serializer()
    columns = {field["name"] for field in fields}
    for name, field in list(instance.fields.items()):
        if name not in columns or isinstance(field, serializers.BaseSerializer):
            del instance.fields[name]
    return instance


def _row(obj: Model, serializer: out.Hsds, fields: list[dict]) -> list[str]:
    data = serializer.to_representation(obj)
    row = []
    for field in fields:
        name = field["name"]
        value = data.get(name)
        if isinstance(value, dict | list):
            value = None  # nested objects are rows of their own table
        if value is None and isinstance(getattr(obj, name, None), bool):
            value = getattr(obj, name)  # e.g. `closed`, which the JSON leaves out when false
        if value is None and name.endswith("_id") and name != "id":
            # The owner's id that nesting implied in JSON.
            owner = getattr(obj, name[: -len("_id")], None)
            value = getattr(owner, "public_id", None)
        row.append(_cell(value, field["type"]))
    return row


def _write_table(
    stream: IO[str], table: Table, fields: list[dict], bar: BarFactory, label: str
) -> int:
    """The table's rows (after its header), in id order; a large table in parts, one
    process each (export_processes). Returns the count."""
    qs = table.queryset()
    serializer = _flat(table.serializer, fields)
    total = qs.count()

    def write(part: IO[str], rows: QuerySet, tick: Callable[[], Any]) -> int:
        writer = csv.writer(part)
        n = 0
        for obj in rows.iterator(chunk_size=CHUNK * 4):
            writer.writerow(_row(obj, serializer, fields))
            n += 1
            tick()
        return n

    parts = export_processes(total)
    if parts == 1:
        with bar(total, label) as done:
            return write(stream, qs, done.update)
    ids = qs.values_list("id", flat=True)
    bounds = [None, *(ids[total * k // parts] for k in range(1, parts)), None]

    def write_part(part: IO[str], index: int, counter: _Counter) -> int:
        rows = qs
        if bounds[index] is not None:
            rows = rows.filter(id__gte=bounds[index])
        if bounds[index + 1] is not None:
            rows = rows.filter(id__lt=bounds[index + 1])
        return write(part, rows, counter.add)

    with tempfile.TemporaryDirectory(prefix="hsds-export-") as folder:
        pieces = _in_parts(write_part, parts, total, Path(folder), bar, label)
        _join(stream, pieces)
    return sum(rows for _path, rows in pieces)


def write_datapackage(
    folder: Path, *, progress: Progress = lambda s: None, bar: BarFactory = no_bar
) -> dict[str, int]:
    """One CSV per HSDS table (header only for the tables we do not keep) and datapackage.json.
    Returns rows written per resource."""
    folder.mkdir(parents=True, exist_ok=True)
    package = descriptor()
    tables = {t.resource: t for t in TABLES}
    counts = {}
    for resource in package["resources"]:
        fields = resource["schema"]["fields"]
        table = tables.get(resource["name"])
        with (folder / resource["path"]).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([field["name"] for field in fields])
            n = 0
            if table is not None:
                n = _write_table(f, table, fields, bar, resource["path"])
        counts[resource["name"]] = n
        progress(f"  {resource['path']}: {n} rows")
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return counts
