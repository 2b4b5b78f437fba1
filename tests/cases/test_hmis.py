"""The HUD HMIS CSV export (FY2024) against a small hand-built case: two people (one of them
also met as a second record, since merged), a few encounters, referrals and follow-up
contacts. Every file's header is the spec's, and every row is the one expected."""

from __future__ import annotations

import pytest

from cases.exports.writing import department_tz
from cases.models import Encounter, EncounterResident
from tests.cases.hmis_world import ABQ, SPEC_HEADERS, at, build_hmis, met, row, stamp

pytestmark = pytest.mark.django_db


def test_the_hmis_zip_holds_every_file_with_the_spec_headers(case, case_manager, exports_dir):
    job, rows, headers = build_hmis(case_manager)

    assert job.file.name.endswith(".zip")
    assert set(headers) == set(SPEC_HEADERS)
    for name, header in SPEC_HEADERS.items():
        assert headers[name] == header.split(","), name
    export_id = job.public_id.hex
    for name, file_rows in rows.items():
        assert all(r["ExportID"] == export_id for r in file_rows), name


def test_export_organization_and_project_describe_acs_street_outreach(
    case, case_manager, exports_dir
):
    job, rows, _ = build_hmis(case_manager)
    now = stamp(job.started_at)
    eid = job.public_id.hex

    assert rows["Export"] == [
        row(
            "Export",
            ExportID=eid,
            SourceType=2,
            SourceID="ACS",
            SourceName="Albuquerque Community Safety",
            ExportDate=now,
            ExportStartDate="2026-01-01",
            ExportEndDate="2026-06-30",
            SoftwareName="ACS case management",
            SoftwareVersion=1,
            CSVVersion="2024 v1.3",
            ExportPeriodType=3,
            ExportDirective=2,
            HashStatus=1,
            ImplementationID="ACS",
        )
    ]
    stamps = {"DateCreated": now, "DateUpdated": now, "UserID": "ACS-EXPORT", "ExportID": eid}
    assert rows["Organization"] == [
        row(
            "Organization",
            OrganizationID="ACS",
            OrganizationName="Albuquerque Community Safety",
            VictimServiceProvider=0,
            OrganizationCommonName="ACS",
            **stamps,
        )
    ]
    assert rows["Project"] == [
        row(
            "Project",
            ProjectID="ACS-SO",
            OrganizationID="ACS",
            ProjectName="ACS Street Outreach",
            ProjectCommonName="ACS-SO",
            OperatingStartDate="2021-09-01",
            ContinuumProject=1,
            ProjectType=4,
            TargetPopulation=4,
            **stamps,
        )
    ]
    assert [(r["ProjectID"], r["CoCCode"]) for r in rows["ProjectCoC"]] == [("ACS-SO", "NM-501")]


def test_clients_are_people_not_records_with_hud_data_quality_codes(
    case, case_manager, exports_dir
):
    job, rows, _ = build_hmis(case_manager)
    ana, tiny = case["ana"], case["tiny"]
    tiny.refresh_from_db()
    common = {"UserID": "ACS-EXPORT", "ExportID": job.public_id.hex}
    race_zero = dict.fromkeys(
        ["AmIndAKNative", "Asian", "BlackAfAmerican", "MidEastNAfrican", "NativeHIPacific"], 0
    )
    gender_zero = dict.fromkeys(
        [
            "NonBinary",
            "CulturallySpecific",
            "Transgender",
            "Questioning",
            "DifferentIdentity",
        ],
        0,
    )

    assert rows["Client"] == [
        row(
            "Client",
            PersonalID=ana.public_id.hex,
            FirstName="Ana",
            MiddleName="Maria",
            LastName="Lopez",
            NameDataQuality=1,
            SSNDataQuality=99,
            DOB="1980-05-02",
            DOBDataQuality=1,
            **race_zero,
            HispanicLatinaeo=1,
            White=1,
            Woman=1,
            Man=0,
            **gender_zero,
            VeteranStatus=0,
            DateCreated=stamp(ana.created_at),
            DateUpdated=stamp(ana.updated_at),
            **common,
        ),
        row(
            "Client",
            PersonalID=tiny.public_id.hex,
            FirstName="Tiny",
            NameDataQuality=2,
            SSNDataQuality=99,
            DOBDataQuality=8,
            **race_zero,
            HispanicLatinaeo=0,
            White=0,
            RaceNone=99,
            Woman=0,
            Man=0,
            **gender_zero,
            GenderNone=99,
            VeteranStatus=99,
            DateCreated=stamp(tiny.created_at),
            DateUpdated=stamp(tiny.updated_at),
            **common,
        ),
    ]
    # The merged-away record is not a client of its own.
    assert case["twin"].public_id.hex not in {r["PersonalID"] for r in rows["Client"]}


def test_enrollments_start_at_the_first_encounter_and_exit_after_90_quiet_days(
    case, case_manager, exports_dir
):
    job, rows, _ = build_hmis(case_manager)
    ana, tiny = case["ana"], case["tiny"]
    ana_enrollment = f"{ana.public_id.hex[:24]}20260110"
    tiny_enrollment = f"{tiny.public_id.hex[:24]}20260215"
    common = {"UserID": "ACS-EXPORT", "ExportID": job.public_id.hex}
    not_collected = {
        "LengthOfStay": 99,
        "TimesHomelessPastThreeYears": 99,
        "MonthsHomelessPastThreeYears": 99,
        "DisablingCondition": 99,
    }
    e = {k: Encounter.objects.get(pk=case[k].pk) for k in ("e1", "e2", "e3", "e4")}

    assert rows["Enrollment"] == [
        row(
            "Enrollment",
            EnrollmentID=ana_enrollment,
            PersonalID=ana.public_id.hex,
            ProjectID="ACS-SO",
            EntryDate="2026-01-10",
            HouseholdID=ana_enrollment,
            RelationshipToHoH=1,
            EnrollmentCoC="NM-501",
            LivingSituation=116,
            **not_collected,
            DateCreated=stamp(e["e1"].created_at),
            DateUpdated=stamp(max(e["e1"].updated_at, e["e3"].updated_at)),
            **common,
        ),
        row(
            "Enrollment",
            EnrollmentID=tiny_enrollment,
            PersonalID=tiny.public_id.hex,
            ProjectID="ACS-SO",
            EntryDate="2026-02-15",
            HouseholdID=tiny_enrollment,
            RelationshipToHoH=1,
            EnrollmentCoC="NM-501",
            LivingSituation=101,
            **not_collected,
            DateCreated=stamp(e["e2"].created_at),
            DateUpdated=stamp(max(e[k].updated_at for k in ("e2", "e3", "e4"))),
            **common,
        ),
    ]
    # Ana was last met on 1 March, 121 days before the end of the range: exited that day.
    # Tiny was met on 20 June: still enrolled.
    assert rows["Exit"] == [
        row(
            "Exit",
            ExitID=ana_enrollment,
            EnrollmentID=ana_enrollment,
            PersonalID=ana.public_id.hex,
            ExitDate="2026-03-01",
            Destination=30,
            DateCreated=stamp(job.started_at),
            DateUpdated=stamp(job.started_at),
            **common,
        )
    ]


def test_a_living_situation_learned_on_a_contact_is_that_contacts(case, case_manager, exports_dir):
    """Ana is unsheltered now, but on 1 March the responder learned she was in a shelter: that
    contact says so, the others keep her current status (nothing learned on them)."""
    ana = case["ana"]
    EncounterResident.objects.filter(encounter=case["e3"], resident=ana).update(
        living_situation="sheltered"
    )

    _, rows, _ = build_hmis(case_manager)

    mine = {
        r["InformationDate"]: r["CurrentLivingSituation"]
        for r in rows["CurrentLivingSituation"]
        if r["PersonalID"] == ana.public_id.hex
    }
    assert mine == {"2026-01-10": "116", "2026-03-01": "101"}
    tiny_rows = [r for r in rows["CurrentLivingSituation"] if r["PersonalID"] != ana.public_id.hex]
    assert {r["CurrentLivingSituation"] for r in tiny_rows} == {"101"}


def test_every_encounter_is_a_current_living_situation(case, case_manager, exports_dir):
    _, rows, _ = build_hmis(case_manager)
    ana, tiny = case["ana"], case["tiny"]

    def link(key, person):
        return EncounterResident.objects.get(encounter=case[key], resident=person).public_id.hex

    got = [
        (
            r["CurrentLivingSitID"],
            r["PersonalID"],
            r["InformationDate"],
            r["CurrentLivingSituation"],
        )
        for r in rows["CurrentLivingSituation"]
    ]
    a, t = ana.public_id.hex, tiny.public_id.hex
    # Ordered by client, then date; the twin's encounter of 15 February is now Tiny's; the
    # encounter before the range and the draft are not there.
    assert got == [
        (link("e1", ana), a, "2026-01-10", "116"),
        (link("e3", ana), a, "2026-03-01", "116"),
        (link("e2", tiny), t, "2026-02-15", "101"),
        (link("e3", tiny), t, "2026-03-01", "101"),
        (link("e4", tiny), t, "2026-06-20", "101"),
    ]


def test_services_and_referrals_use_path_codes_and_leave_part_2_out(
    case, case_manager, exports_dir
):
    _, rows, _ = build_hmis(case_manager)
    ana, tiny = case["ana"], case["tiny"]
    a, t = ana.public_id.hex, tiny.public_id.hex
    a_enr, t_enr = f"{a[:24]}20260110", f"{t[:24]}20260215"

    def link(key, person):
        return EncounterResident.objects.get(encounter=case[key], resident=person).public_id.hex

    got = {
        (
            r["ServicesID"],
            r["EnrollmentID"],
            r["PersonalID"],
            r["DateProvided"],
            r["RecordType"],
            r["TypeProvided"],
            r["ReferralOutcome"],
        )
        for r in rows["Services"]
    }
    assert len(rows["Services"]) == len(got)
    assert got == {
        # e1: resource information (case management) and a risk screen; naloxone left out.
        (f"{link('e1', ana)[:24]}14102", a_enr, a, "2026-01-10", "141", "2", ""),
        (f"{link('e1', ana)[:24]}14106", a_enr, a, "2026-01-10", "141", "6", ""),
        # The shelter referral, completed: attained. The detox referral (Part 2) and the
        # one sent after Ana's exit are not there.
        (f"{case['shelter'].public_id.hex[:24]}16111", a_enr, a, "2026-01-11", "161", "11", "1"),
        # e2 (met as the twin): de-escalation, community mental health.
        (f"{link('e2', tiny)[:24]}14104", t_enr, t, "2026-02-15", "141", "4", ""),
        # e4: a screen, a safety plan and a phone call to a service.
        (f"{link('e4', tiny)[:24]}14102", t_enr, t, "2026-06-20", "141", "2", ""),
        (f"{link('e4', tiny)[:24]}14104", t_enr, t, "2026-06-20", "141", "4", ""),
        (f"{link('e4', tiny)[:24]}14106", t_enr, t, "2026-06-20", "141", "6", ""),
        # A follow-up call that reached Tiny; the unanswered one to Ana is not a service.
        (f"{case['reached'].public_id.hex[:24]}14106", t_enr, t, "2026-05-05", "141", "6", ""),
        # The benefits referral, still open: outcome unknown.
        (f"{case['benefits'].public_id.hex[:24]}16108", t_enr, t, "2026-03-02", "161", "8", "3"),
    }


def test_the_hmis_export_never_holds_substance_use_or_narratives(case, case_manager, exports_dir):
    _, rows, _ = build_hmis(case_manager)
    text = "\n".join(str(r) for file_rows in rows.values() for r in file_rows)

    assert "drinks" not in text
    assert "+15055550111" not in text
    assert {r["TypeProvided"] for r in rows["Services"] if r["RecordType"] == "141"} <= {
        "2",
        "4",
        "6",
    }


def test_a_department_day_is_the_hmis_date(case, case_manager, exports_dir, unit, responder):
    """An encounter late in the evening of 30 June (already 1 July in UTC) is in the range."""
    late = met(unit, responder, [case["ana"]], at("2026-06-30", 23))
    _, rows, _ = build_hmis(case_manager)

    link = EncounterResident.objects.get(encounter=late).public_id.hex
    dates = {r["CurrentLivingSitID"]: r["InformationDate"] for r in rows["CurrentLivingSituation"]}
    assert dates[link] == "2026-06-30"
    assert department_tz() == ABQ
