"""`manage.py hsds_export`: the JSON export validates against HSDS's service schema, the CSV
datapackage follows HSDS's datapackage.json, bad arguments are refused with clear errors."""

import csv
import io
import json
from datetime import date, time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.hsds_export import write_json
from resources.hsds_schemas import errors
from resources.models import Contact, CostOption, RequiredDocument, Schedule, Service
from tests.factories import LanguageFactory, PhoneFactory, ScheduleFactory, ServiceFactory
from tests.resources.conftest import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def detailed(directory):
    sal = directory["shelter"]
    service, location = sal.service, sal.location
    phone = PhoneFactory(service=service, description="Front desk, 24 hours")
    LanguageFactory(phone=phone)
    contact = Contact.objects.create(service=service, name="Intake", email="in@example.org")
    PhoneFactory(contact=contact)
    PhoneFactory(location=location, type="text")
    PhoneFactory(service_at_location=sal)
    CostOption.objects.create(service=service, option="Free", amount=0, currency="USD")
    RequiredDocument.objects.create(service=service, document="None required")
    ScheduleFactory(location=location, closed=True, valid_from=date(2026, 12, 25))
    ScheduleFactory(
        service_at_location=sal, freq="MONTHLY", byday="1SA", opens_at=time(9), closes_at=time(12)
    )
    return directory


def export_json(**kwargs) -> list[dict]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("hsds_export", json="-", stdout=stdout, stderr=stderr, **kwargs)
    return json.loads(stdout.getvalue())


def read_csv(path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- JSON ------------------------------------------------------------------------------------


def test_json_export_is_an_array_of_full_services_that_validate(detailed):
    items = export_json()

    assert len(items) == Service.objects.count() == 4
    for item in items:
        assert errors(item, "service.json") == []
    shelter = next(i for i in items if i["id"] == str(detailed["shelter"].service.public_id))
    assert shelter["organization"]["name"] == "Casa de Paz"
    assert shelter["service_at_locations"][0]["location"]["addresses"][0]["city"]
    assert {lang["code"] for lang in shelter["languages"]} == {"en", "es"}
    assert shelter["attributes"][0]["taxonomy_term"]["code"] == "shelter-emergency"
    assert shelter["phones"] and shelter["contacts"][0]["phones"]
    assert shelter["cost_options"][0]["option"] == "Free"
    closures = [
        s for s in shelter["service_at_locations"][0]["location"]["schedules"] if s.get("closed")
    ]
    assert closures[0]["valid_from"] == "2026-12-25"


def test_json_export_matches_the_api_service_object(client, detailed):
    service = detailed["shelter"].service
    api = client.get(f"/api/hsds/services/{service.public_id}").json()

    exported = {i["id"]: i for i in export_json()}

    assert exported[str(service.public_id)] == api


def test_json_export_to_a_file_and_inactive_services_are_included(tmp_path, directory):
    ServiceFactory(name="Closed program", status=Service.Status.INACTIVE)
    path = tmp_path / "services.json"

    call_command("hsds_export", json=str(path), stdout=io.StringIO(), stderr=io.StringIO())

    items = json.loads(path.read_text(encoding="utf-8"))
    assert len(items) == 5
    assert {i["status"] for i in items} == {"active", "inactive"}
    for item in items:
        assert errors(item, "service.json") == []


def test_json_export_query_count_does_not_grow_with_services(directory):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            write_json(io.StringIO())
        return len(ctx.captured_queries)

    before = queries()
    for n in range(6):
        service = ServiceFactory(name=f"Extra {n}")
        place(service, f"Extra {n}", 35.08, -106.65)
        ScheduleFactory(service=service)
        LanguageFactory(service=service)

    assert queries() == before


def test_empty_directory_exports_an_empty_array(db):
    assert export_json() == []


# --- CSV datapackage -------------------------------------------------------------------------


def test_csv_datapackage_has_every_hsds_table_with_its_columns(tmp_path, detailed):
    folder = tmp_path / "hsds"

    call_command("hsds_export", csv=str(folder), stdout=io.StringIO(), stderr=io.StringIO())

    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "tabular-data-package"
    assert len(package["resources"]) == 21
    for resource in package["resources"]:
        with (folder / resource["path"]).open(encoding="utf-8", newline="") as f:
            header = next(csv.reader(f))
        assert header == [field["name"] for field in resource["schema"]["fields"]]


def test_csv_rows_carry_public_ids_owner_ids_and_table_schema_values(tmp_path, detailed):
    folder = tmp_path / "hsds"
    call_command("hsds_export", csv=str(folder), stdout=io.StringIO(), stderr=io.StringIO())
    shelter = detailed["shelter"]

    services = read_csv(folder / "services.csv")
    assert len(services) == 4
    row = next(r for r in services if r["id"] == str(shelter.service.public_id))
    assert row["organization_id"] == str(shelter.service.organization.public_id)
    assert row["status"] == "active"
    assert row["accepts_referrals"] == "true"

    sals = read_csv(folder / "service_at_location.csv")
    assert {(r["service_id"], r["location_id"]) for r in sals} >= {
        (str(shelter.service.public_id), str(shelter.location.public_id))
    }

    schedules = {r["id"]: r for r in read_csv(folder / "schedules.csv")}
    overnight = Schedule.objects.get(service=shelter.service)
    assert schedules[str(overnight.public_id)]["opens_at"] == "19:00:00"
    assert schedules[str(overnight.public_id)]["closes_at"] == "07:00:00"
    assert schedules[str(overnight.public_id)]["service_id"] == str(shelter.service.public_id)
    assert schedules[str(overnight.public_id)]["closed"] == "false"
    closure = Schedule.objects.get(closed=True)
    assert schedules[str(closure.public_id)]["closed"] == "true"
    assert schedules[str(closure.public_id)]["location_id"] == str(shelter.location.public_id)

    languages = read_csv(folder / "languages.csv")
    assert any(r["phone_id"] for r in languages)
    attributes = read_csv(folder / "attributes.csv")
    assert {r["link_entity"] for r in attributes} == {"service"}
    addresses = read_csv(folder / "addresses.csv")
    assert all(r["location_id"] for r in addresses)
    assert read_csv(folder / "programs.csv") == []
    every_id = [r["id"] for r in services + sals + languages + attributes + addresses]
    assert all(len(i) == 36 for i in every_id)  # UUIDs, never integer keys


# --- bad input -------------------------------------------------------------------------------


def test_export_without_a_target_is_refused(db):
    with pytest.raises(CommandError, match="--json"):
        call_command("hsds_export", stdout=io.StringIO(), stderr=io.StringIO())


def test_export_does_not_overwrite_without_being_told(tmp_path, directory):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    (tmp_path / "services.json").write_text("[]")

    with pytest.raises(CommandError, match="not empty"):
        call_command("hsds_export", csv=str(tmp_path / "out"), stderr=io.StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("hsds_export", json=str(tmp_path / "services.json"), stderr=io.StringIO())
    with pytest.raises(CommandError, match="does not exist"):
        call_command("hsds_export", json=str(tmp_path / "no" / "x.json"), stderr=io.StringIO())

    call_command(
        "hsds_export",
        json=str(tmp_path / "services.json"),
        overwrite=True,
        stderr=io.StringIO(),
    )
    assert len(json.loads((tmp_path / "services.json").read_text())) == 4


# --- a large directory, in parts ---------------------------------------------------------------


@pytest.fixture
def needs_taxonomy(transactional_db):
    """A transactional test before this one may have flushed the seeded taxonomy."""
    from importlib import import_module

    from django.apps import apps

    import_module("resources.migrations.0005_acs_needs_taxonomy").forwards(apps, None)


def _exports(tmp_path, name):
    json_path = tmp_path / f"{name}.json"
    call_command("hsds_export", json=str(json_path), csv=str(tmp_path / name), stderr=io.StringIO())
    files = sorted(p.name for p in (tmp_path / name).iterdir())
    return json_path.read_bytes(), {f: (tmp_path / name / f).read_bytes() for f in files}


@pytest.mark.django_db(transaction=True)  # the parts' processes read what is committed
def test_a_large_directory_is_written_in_parts_byte_for_byte_the_same(
    needs_taxonomy, tmp_path, detailed, monkeypatch
):
    """A directory of at least PARALLEL_FROM rows is written by one process per core, each a
    part of the rows, joined in order: the files are those one process writes."""
    from resources import hsds_export

    for i in range(7):  # names that sort before, between and after the fixture's
        ServiceFactory(name=f"{'AMZ'[i % 3]}-service {i}")
    one_json, one_csv = _exports(tmp_path, "one")
    monkeypatch.setattr(hsds_export, "PARALLEL_FROM", 1)
    monkeypatch.setattr(hsds_export, "EXPORT_PROCESSES", 3)
    monkeypatch.setattr(hsds_export.os, "cpu_count", lambda: 3)
    assert hsds_export.export_processes(10) == 3

    parts_json, parts_csv = _exports(tmp_path, "parts")

    assert parts_json == one_json and json.loads(one_json)
    assert parts_csv == one_csv
    assert one_csv["services.csv"].count(b"\r\n") == Service.objects.count() + 1


@pytest.mark.django_db(transaction=True)
def test_the_parts_read_one_snapshot_whatever_changes_while_they_run(
    needs_taxonomy, tmp_path, detailed, monkeypatch
):
    """A service renamed after the export began (here: right after its snapshot was taken,
    before any part reads) is written as it was, where it was: every part reads the
    directory as of one instant."""
    from resources import hsds_export

    for i in range(6):
        ServiceFactory(name=f"{'AMZ'[i % 3]}-service {i}")
    before, _csv = _exports(tmp_path, "before")
    monkeypatch.setattr(hsds_export, "PARALLEL_FROM", 1)
    monkeypatch.setattr(hsds_export.os, "cpu_count", lambda: 3)
    taken = hsds_export._exported_snapshot

    def then_renamed():
        held = taken()
        Service.objects.filter(name="A-service 0").update(name="Z-service renamed")
        return held

    monkeypatch.setattr(hsds_export, "_exported_snapshot", then_renamed)
    during = tmp_path / "during.json"
    call_command("hsds_export", json=str(during), stderr=io.StringIO())

    assert during.read_bytes() == before
    assert Service.objects.filter(name="Z-service renamed").exists()


@pytest.mark.django_db(transaction=True)
def test_a_part_that_fails_fails_the_export_and_leaves_no_file(
    needs_taxonomy, tmp_path, detailed, monkeypatch
):
    from resources import hsds_export
    from resources.api import hsds_serializers

    monkeypatch.setattr(hsds_export, "PARALLEL_FROM", 1)
    monkeypatch.setattr(hsds_export.os, "cpu_count", lambda: 2)
    represent = hsds_serializers.ServiceFullOut.to_representation

    def broken(self, service):
        if service.name == "Walk-in clinic":  # in one part's process only
            raise RuntimeError("a database error, say")
        return represent(self, service)

    monkeypatch.setattr(hsds_serializers.ServiceFullOut, "to_representation", broken)
    target = tmp_path / "services.json"

    with pytest.raises(RuntimeError, match="An export process failed"):
        call_command("hsds_export", json=str(target), stderr=io.StringIO())
    assert list(tmp_path.iterdir()) == []


def test_a_pools_process_writes_in_one_process(monkeypatch):
    """A Celery pool's processes are daemonic and may not start processes of their own."""
    from resources import hsds_export

    class Daemonic:
        daemon = True

    monkeypatch.setattr(hsds_export.os, "cpu_count", lambda: 2)
    assert hsds_export.export_processes(10**6) == 2
    monkeypatch.setattr(hsds_export.multiprocessing, "current_process", Daemonic)
    assert hsds_export.export_processes(10**6) == 1
    assert hsds_export.export_processes(hsds_export.PARALLEL_FROM - 1) == 1
