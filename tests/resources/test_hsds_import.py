"""`manage.py hsds_import`: HSDS's examples import, a second run changes nothing, a bad object
writes nothing, exports of the directory come back as they left, bad input is refused clearly."""

import csv
import io
import json
import os
import uuid
from datetime import date, time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.demo import seed_directory
from resources.hsds_import import directory_import
from resources.models import (
    Address,
    Attribute,
    Capacity,
    CapacityHistory,
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
from tests.factories import LanguageFactory, PhoneFactory, ScheduleFactory, ServiceFactory
from tests.resources.conftest import place

pytestmark = pytest.mark.django_db

# HSDS's own examples, vendored unmodified (hsds_examples/README.md); HSDS_EXAMPLES overrides.
EXAMPLES = Path(os.environ.get("HSDS_EXAMPLES", Path(__file__).resolve().parent / "hsds_examples"))
EXAMPLE_ORG = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"  # HSDS's "Example Organization Inc."
DIRECTORY = (
    Taxonomy,
    TaxonomyTerm,
    Organization,
    Service,
    Location,
    Address,
    ServiceAtLocation,
    Contact,
    Phone,
    Language,
    Schedule,
    Attribute,
    CostOption,
    RequiredDocument,
)


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def run(path, *args, **options) -> str:
    """The command's stdout; raises CommandError as the command does."""
    stdout = io.StringIO()
    call_command("hsds_import", str(path), *args, stdout=stdout, stderr=io.StringIO(), **options)
    return stdout.getvalue()


def run_failing(path, *args, **options) -> tuple[CommandError, str]:
    stdout = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "hsds_import", str(path), *args, stdout=stdout, stderr=io.StringIO(), **options
        )
    return failure.value, stdout.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every directory row with every column, updated_at included."""
    return {
        model.__name__: list(model.objects.order_by("public_id").values()) for model in DIRECTORY
    }


def empty_directory(*, taxonomies: bool = False) -> None:
    Service.objects.all().delete()
    Location.objects.all().delete()
    Organization.objects.all().delete()
    if taxonomies:
        TaxonomyTerm.objects.exclude(parent=None).delete()
        TaxonomyTerm.objects.all().delete()
        Taxonomy.objects.all().delete()
    assert not Phone.objects.exists() and not Schedule.objects.exists()


def write_json(tmp_path, data, name="import.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def a_service(**fields) -> dict:
    """A small valid HSDS service with its organization."""
    return {
        "id": str(uuid.uuid4()),
        "name": "Test service",
        "status": "active",
        "organization": {
            "id": "5a0d8f7e-1c2b-4e59-8d7a-3f0e2b1c4d5e",
            "name": "Test organization",
            "description": "Runs test services.",
        },
        **fields,
    }


def export_json(path: Path) -> list[dict]:
    call_command("hsds_export", json=str(path), overwrite=True, stderr=io.StringIO())
    return json.loads(path.read_text(encoding="utf-8"))


def normalized(value):
    """Export output without last_modified, arrays in a fixed order (rows get new keys)."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k != "last_modified"}
    if isinstance(value, list):
        return sorted((normalized(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def read_package(folder: Path) -> dict[str, list[dict]]:
    tables = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            rows = [{k: v for k, v in r.items() if k != "last_modified"} for r in csv.DictReader(f)]
        tables[path.name] = normalized(rows)
    return tables


@pytest.fixture
def demo():
    """The demo directory with what it lacks: a closure, a contact, location phones."""
    seed_directory()
    service = Service.objects.get(name="Overnight emergency shelter")
    sal = service.at_locations.get()
    Schedule.objects.create(
        location=sal.location,
        closed=True,
        valid_from=date(2026, 12, 25),
        valid_to=date(2026, 12, 26),
        description="Closed for the holiday",
    )
    contact = Contact.objects.create(service=service, name="Intake desk", email="in@example.org")
    PhoneFactory(contact=contact, number="505-555-0199")
    LanguageFactory(phone=PhoneFactory(location=sal.location, type="text"), code="es")
    return service


# --- HSDS's examples -------------------------------------------------------------------------

EXAMPLE_FILES = [
    "base.json",
    "location.json",
    "organization_full.json",
    "organization_list.json",
    "service_at_location_full.json",
    "service_at_location_list.json",
    "service_full.json",
    "service_list.json",
    "tabular.json",
    "taxonomy.json",
    "taxonomy_list.json",
    "taxonomy_term.json",
    "taxonomy_term_list.json",
    "csv",
    "guidance/attributes_services.json",
    "guidance/metadata_services.json",
    "guidance/schedules_services.json",
]


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_every_example_imports_and_a_second_run_changes_nothing(examples, name):
    options = {}
    if name.startswith("guidance/"):
        # The guidance services name no organization; ours need one.
        directory_import(examples / "organization_list.json")
        options["organization"] = uuid.UUID(EXAMPLE_ORG)

    first = directory_import(examples / name, **options)

    assert first.problems == []
    assert first.written
    assert first.total("created") > 0 or name == "base.json"
    before = snapshot()

    second = directory_import(examples / name, **options)

    assert second.problems == []
    assert (second.total("created"), second.total("updated")) == (0, 0)
    # A taxonomy made up from a term (csv, tabular.json) is in the directory, not the file.
    assert second.total("unchanged") >= first.total("created") - 1
    assert snapshot() == before  # updated_at included


def test_a_full_service_example_keeps_what_we_model_and_reports_the_rest(examples):
    output = run(examples / "service_full.json")

    service = Service.objects.get(public_id="ac148810-d857-441c-9679-408f346de14b")
    assert service.organization.name == "Example Organization Inc."
    assert (service.minimum_age, service.maximum_age) == (12, 100)
    # One phone, shared by the service, its location, its organization, a contact and the
    # service at location: one row with every owner.
    phone = Phone.objects.get()
    assert phone.service == service and phone.contact and phone.organization
    assert phone.location and phone.service_at_location
    schedule = Schedule.objects.get()
    assert (schedule.byday, schedule.opens_at, schedule.closed) == ("TH,FR", time(10), False)
    assert service.attributes.get().taxonomy_term.taxonomy.name == "name"
    assert RequiredDocument.objects.get().document.endswith("…")
    location = Location.objects.get()
    assert location.latitude is None  # 100 is not a latitude
    assert "schedule: timezone (4), count (4), byweekno (4), byyearday (4)" in output
    assert "parent_id names a taxonomy_term that is neither in the file" in output
    assert "latitude/longitude not a point on Earth" in output
    assert "service_area" in output and "organization_identifier" in output
    assert "Imported:" in output


def test_the_example_datapackage_imports_with_its_broken_references_left_out(examples):
    report = directory_import(examples / "csv")

    assert report.problems == []
    contact = Contact.objects.get()
    assert contact.service.name == "Community Counselling" and contact.location
    assert contact.organization is None  # its organization_id is in no table
    phone = Phone.objects.get()
    assert phone.organization.public_id == uuid.UUID(EXAMPLE_ORG) and phone.contact == contact
    # The term names a taxonomy that taxonomies.csv lacks: made from its id and name.
    term = TaxonomyTerm.objects.get(public_id="3f7b145d-84af-42d7-8fae-eaca714b02b2")
    assert str(term.taxonomy.public_id) == "07ff6aee-a219-438c-b694-d2fcb6c5373b"
    assert term.taxonomy.name == "taxonomy"
    assert not Attribute.objects.exists()  # its link_entity is a placeholder
    assert report.counts["program"]["ignored"] == 1
    assert report.counts["attribute"]["ignored"] == 1


def test_guidance_services_without_an_organization_are_rejected_with_a_hint(examples):
    error, output = run_failing(examples / "guidance" / "attributes_services.json")

    assert "organization_id: missing" in output and "--organization" in output
    assert "72422080-aa96-418c-9ef3-f77d3e60aed7" in output
    assert "nothing written" in str(error)
    assert not Service.objects.exists()


# --- shapes ----------------------------------------------------------------------------------


def test_an_array_of_services_imports(tmp_path):
    items = [a_service(name="Day shelter"), a_service(name="Night shelter")]

    report = directory_import(write_json(tmp_path, items))

    assert report.counts["service"]["created"] == 2
    assert report.counts["organization"]["created"] == 1  # the same one twice
    assert set(Service.objects.values_list("name", flat=True)) == {"Day shelter", "Night shelter"}


def test_an_api_page_imports_its_contents_and_says_it_is_one_page(tmp_path):
    page = {"total_items": 7, "total_pages": 4, "page_number": 1, "size": 2}
    page["contents"] = [a_service(), a_service()]

    output = run(write_json(tmp_path, page))

    assert Service.objects.count() == 2
    assert "only its 2 of 7 objects are imported" in output


def test_an_object_whose_keys_do_not_tell_its_kind_needs_type(tmp_path):
    path = write_json(
        tmp_path,
        {"id": str(uuid.uuid4()), "name": "Needs", "description": "Categories of need"},
    )

    with pytest.raises(CommandError, match="--type"):
        run(path)
    run(path, "--type", "taxonomy")

    assert Taxonomy.objects.filter(name="Needs").exists()


def test_in_a_list_an_object_that_does_not_tell_its_kind_takes_its_siblings(tmp_path):
    minimal = {"id": str(uuid.uuid4()), "name": "Plain", "description": ""}
    telling = {
        "id": str(uuid.uuid4()),
        "name": "Full",
        "description": "",
        "website": "https://a.example",
    }

    directory_import(write_json(tmp_path, {"contents": [minimal, telling], "total_items": 2}))

    assert set(Organization.objects.values_list("name", flat=True)) == {"Plain", "Full"}


def test_a_datapackage_json_path_reads_its_folder(tmp_path, directory):
    call_command("hsds_export", csv=str(tmp_path / "out"), stderr=io.StringIO())

    report = directory_import(tmp_path / "out" / "datapackage.json")

    assert report.problems == [] and report.total("created") == 0


# --- rejections ------------------------------------------------------------------------------


def test_a_file_with_one_invalid_object_writes_nothing_and_names_it(tmp_path):
    bad_schedule = str(uuid.uuid4())
    bad = a_service(
        name="Bad hours",
        schedules=[{"id": bad_schedule, "freq": "DAILY", "opens_at": "09:00"}],
    )
    path = write_json(tmp_path, [a_service(name="Good"), bad])

    error, output = run_failing(path)

    assert "1 object(s) rejected; nothing written" in str(error)
    assert f"schedule {bad_schedule} [item 2]: freq: 'DAILY' is not one of" in output
    assert "Nothing written" in output
    assert not Service.objects.exists() and not Organization.objects.exists()


def test_what_our_tables_cannot_hold_is_rejected_with_object_field_and_reason(tmp_path):
    phone, schedule = str(uuid.uuid4()), str(uuid.uuid4())
    service = a_service(
        minimum_age=30,
        maximum_age=18,
        url="not a url",
        phones=[{"id": phone, "number": "505-555-0100", "type": "landline"}],
        schedules=[{"id": schedule, "byday": "XX", "opens_at": "25:00"}],
    )
    path = write_json(tmp_path, service)

    _error, output = run_failing(path)

    sid = service["id"]
    assert f"service {sid} [the object]: minimum_age: 30 is above maximum_age 18" in output
    assert f"service {sid} [the object]: url: Enter a valid URL." in output
    assert f"phone {phone} [the object/phones/0]: type: 'landline' is not one of" in output
    assert f"schedule {schedule} [the object/schedules/0]: opens_at: '25:00'" in output
    assert "byday entry 'XX' is not a weekday" in output
    assert not Service.objects.exists()


def test_one_object_given_twice_with_different_values_is_rejected(tmp_path):
    phone = str(uuid.uuid4())
    first = a_service(phones=[{"id": phone, "number": "505-555-0100"}])
    second = a_service(phones=[{"id": phone, "number": "505-555-0111"}])

    _error, output = run_failing(write_json(tmp_path, [first, second]))

    assert f"phone {phone}" in output
    assert "'505-555-0100' in item 1/phones/0, '505-555-0111' in item 2/phones/0" in output


def test_a_name_taken_by_another_row_of_the_directory_is_rejected(tmp_path):
    taxonomy = {"id": str(uuid.uuid4()), "name": "ACS needs", "description": "A twin"}

    _error, output = run_failing(write_json(tmp_path, taxonomy), "--type", "taxonomy")

    seeded = Taxonomy.objects.get(name="ACS needs").public_id
    assert f"the directory has taxonomy {seeded} with the same" in output


def test_partial_imports_the_valid_objects_and_exits_2(tmp_path):
    good, bad = a_service(name="Good"), a_service(name="Bad", status="open")

    error, output = run_failing(write_json(tmp_path, [good, bad]), "--partial")

    assert error.returncode == 2
    assert "rejected and skipped (--partial)" in output
    assert list(Service.objects.values_list("name", flat=True)) == ["Good"]


def test_a_dry_run_reports_and_writes_nothing(tmp_path):
    output = run(write_json(tmp_path, [a_service()]), "--dry-run")

    assert "Dry run, nothing written: 2 new" in output
    assert not Service.objects.exists()


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[\n  {"id": "x",}\n]', r"not valid JSON: .* at line 2, column 14"),
        ('{"name": "Caf\u00e9"}'.encode("latin-1"), r"is not UTF-8 \(byte 0xe9 at offset 13\)"),
        (b'{"foo": 1}', r"Unknown shape: .* found the keys foo"),
        (b'"services"', r"The top level is a str"),
    ],
    ids=["invalid-json", "latin-1", "unknown-shape", "not-an-object"],
)
def test_unreadable_input_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        run(path)


def test_a_missing_path_a_lone_csv_or_an_unknown_organization_is_refused(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        run(tmp_path / "nowhere.json")
    (tmp_path / "services.csv").write_text("id,name\n")
    with pytest.raises(CommandError, match="one CSV file"):
        run(tmp_path / "services.csv")
    with pytest.raises(CommandError, match="is not in the file nor the directory"):
        run(write_json(tmp_path, [a_service()]), "--organization", str(uuid.uuid4()))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match=r"neither a datapackage\.json nor CSV files"):
        run(tmp_path / "empty")


# --- round trips -----------------------------------------------------------------------------


def test_json_export_imported_into_an_emptied_directory_comes_back_the_same(tmp_path, demo):
    before = export_json(tmp_path / "before.json")
    assert any(s.get("closed") for i in before for s in _all_schedules(i))
    empty_directory()  # the taxonomy stays: it is seeded by a migration

    report = directory_import(tmp_path / "before.json")

    assert report.problems == [] and report.total("updated") == 0
    after = export_json(tmp_path / "after.json")
    assert normalized(after) == normalized(before)
    again = directory_import(tmp_path / "after.json")
    assert (again.total("created"), again.total("updated")) == (0, 0)


def test_csv_export_imported_into_an_emptied_directory_comes_back_the_same(tmp_path, demo):
    call_command("hsds_export", csv=str(tmp_path / "before"), stderr=io.StringIO())
    before = read_package(tmp_path / "before")
    closures = [r for r in before["schedules.csv"] if r["closed"] == "true"]
    assert closures
    empty_directory(taxonomies=True)

    report = directory_import(tmp_path / "before")

    assert report.problems == []
    call_command("hsds_export", csv=str(tmp_path / "after"), stderr=io.StringIO())
    assert read_package(tmp_path / "after") == before
    again = directory_import(tmp_path / "after")
    assert (again.total("created"), again.total("updated")) == (0, 0)


def test_reimporting_an_export_of_the_directory_changes_nothing_and_keeps_capacity(tmp_path, demo):
    export_json(tmp_path / "services.json")
    call_command("hsds_export", csv=str(tmp_path / "csv"), stderr=io.StringIO())
    before = snapshot()
    capacity = list(Capacity.objects.values())
    history = CapacityHistory.objects.count()

    for path in (tmp_path / "services.json", tmp_path / "csv"):
        report = directory_import(path)
        assert report.problems == []
        assert (report.total("created"), report.total("updated")) == (0, 0)

    assert snapshot() == before
    assert list(Capacity.objects.values()) == capacity
    assert CapacityHistory.objects.count() == history


def test_a_changed_field_counts_as_updated_and_moves_only_that_rows_updated_at(tmp_path, directory):
    items = export_json(tmp_path / "services.json")
    shelter = next(i for i in items if i["name"] == "Overnight emergency shelter")
    shelter["description"] = "Beds for adults; walk-ins after 6 pm."
    shelter["schedules"][0]["opens_at"] = "18:00"
    write_json(tmp_path, items, "services.json")
    before = snapshot()

    report = directory_import(tmp_path / "services.json")

    assert report.counts["service"]["updated"] == 1
    assert report.counts["schedule"]["updated"] == 1
    assert report.total("updated") == 2 and report.total("created") == 0
    service = Service.objects.get(public_id=shelter["id"])
    assert service.description == "Beds for adults; walk-ins after 6 pm."
    assert service.schedules.get().opens_at == time(18)
    after = snapshot()
    moved = {
        (model, row["public_id"])
        for model, rows in after.items()
        for row, old in zip(rows, before[model], strict=True)
        if row["updated_at"] != old["updated_at"]
    }
    schedule = service.schedules.get().public_id
    assert moved == {("Service", service.public_id), ("Schedule", schedule)}


def test_a_partners_feed_leaves_our_referral_settings_alone(tmp_path, directory):
    shelter = directory["shelter"].service
    feed = a_service(id=str(shelter.public_id), name=shelter.name)
    feed["organization"] = {
        "id": str(shelter.organization.public_id),
        "name": shelter.organization.name,
        "description": "",
    }

    directory_import(write_json(tmp_path, feed))

    shelter.refresh_from_db()
    assert shelter.accepts_referrals is True  # not in the feed: kept


def test_import_queries_do_not_grow_with_the_number_of_services(tmp_path, directory):
    def queries() -> int:
        export_json(tmp_path / "services.json")
        empty_directory()
        with CaptureQueriesContext(connection) as ctx:
            directory_import(tmp_path / "services.json")
        return len(ctx.captured_queries)

    before = queries()
    for n in range(6):
        service = ServiceFactory(name=f"Extra {n}")
        place(service, f"Extra {n}", 35.08, -106.65)
        ScheduleFactory(service=service)
        LanguageFactory(service=service)

    assert queries() == before


def _all_schedules(service: dict) -> list[dict]:
    found = list(service.get("schedules", []))
    for sal in service.get("service_at_locations", []):
        found += sal.get("schedules", []) + sal["location"].get("schedules", [])
    return found
