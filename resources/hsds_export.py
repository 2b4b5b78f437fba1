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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Prefetch, QuerySet
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


def service_objects(bar: BarFactory = no_bar) -> Iterator[dict]:
    """The full HSDS service objects, a chunk of services (and their relations) in memory at
    a time, through one serializer (built once: building it per service was most of the
    time)."""
    qs = full_services()
    serializer = out.ServiceFullOut(context={"prefetched": True})
    with bar(qs.count(), "services") as done:
        for service in qs.iterator(chunk_size=CHUNK):
            yield serializer.to_representation(service)
            done.update()


def write_json(stream: IO[str], *, bar: BarFactory = no_bar) -> int:
    """Write a JSON array of full HSDS service objects, one per line. Returns the count."""
    count = 0
    stream.write("[")
    encode = DjangoJSONEncoder(ensure_ascii=False).encode
    for item in service_objects(bar):
        stream.write(",\n" if count else "\n")
        stream.write(encode(item))
        count += 1
    stream.write("\n]\n")
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
                qs = table.queryset()
                serializer = _flat(table.serializer, fields)
                with bar(qs.count(), resource["path"]) as done:
                    for obj in qs.iterator(chunk_size=CHUNK * 4):
                        writer.writerow(_row(obj, serializer, fields))
                        n += 1
                        done.update()
        counts[resource["name"]] = n
        progress(f"  {resource['path']}: {n} rows")
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return counts
