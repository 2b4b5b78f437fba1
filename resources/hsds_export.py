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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet

from acs.csv_cells import csv_cell
from resources import selectors
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


def _qs(model: type[Model], *prefetch: str) -> Callable[[], QuerySet]:
    def build() -> QuerySet:
        return (
            model.objects.select_related(*_owners(model)).prefetch_related(*prefetch).order_by("id")
        )

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
    Table("phone", _qs(Phone, "languages"), out.PhoneOut),
    Table("contact", _qs(Contact, "phones__languages"), out.ContactOut),
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


def full_services() -> QuerySet[Service]:
    """Every service (every status) with what a full HSDS service object carries."""
    return selectors.services_list(full=True)


def service_objects(progress: Progress = lambda s: None) -> Iterable[dict]:
    qs = full_services()
    total = qs.count()
    for n, service in enumerate(qs.iterator(chunk_size=CHUNK), start=1):
        yield out.ServiceFullOut(service).data
        if n % 1000 == 0 or n == total:
            progress(f"  services: {n}/{total}")


def write_json(stream: IO[str], *, progress: Progress = lambda s: None) -> int:
    """Write a JSON array of full HSDS service objects, one per line. Returns the count."""
    count = 0
    stream.write("[")
    for item in service_objects(progress):
        stream.write(",\n" if count else "\n")
        stream.write(json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False))
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


def _row(obj: Model, serializer: type, fields: list[dict]) -> list[str]:
    data = serializer(obj).data
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


def write_datapackage(folder: Path, *, progress: Progress = lambda s: None) -> dict[str, int]:
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
                for obj in table.queryset().iterator(chunk_size=CHUNK * 4):
                    writer.writerow(_row(obj, table.serializer, fields))
                    n += 1
        counts[resource["name"]] = n
        progress(f"  {resource['path']}: {n} rows")
    (folder / "datapackage.json").write_text(
        json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return counts
