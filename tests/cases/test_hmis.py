"""The HUD HMIS CSV export (FY2024) against a small hand-built case: two people (one of them
also met as a second record, since merged), a few encounters, referrals and follow-up
contacts. Every file's header is the spec's, and every row is the one expected."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.exports.models import ExportJob
from cases.exports.services import export_request, export_run
from cases.exports.writing import department_tz
from cases.models import ContactAttempt, Encounter, EncounterResident, FollowUp
from cases.services import resident_merge
from resources.models import ReferralStatus
from tests.factories import ResidentFactory, ServiceFactory
from tests.resources.referral_helpers import referral_in

pytestmark = pytest.mark.django_db

ABQ = ZoneInfo("America/Denver")
START, END = date(2026, 1, 1), date(2026, 6, 30)

# The header rows of shared/hmis/FY2024-columns.md, copied verbatim (HUD FY2024 v1.3).
SPEC_HEADERS = {
    "Export": (
        "ExportID,SourceType,SourceID,SourceName,SourceContactFirst,SourceContactLast,"
        "SourceContactPhone,SourceContactExtension,SourceContactEmail,ExportDate,"
        "ExportStartDate,ExportEndDate,SoftwareName,SoftwareVersion,CSVVersion,"
        "ExportPeriodType,ExportDirective,HashStatus,ImplementationID"
    ),
    "Organization": (
        "OrganizationID,OrganizationName,VictimServiceProvider,OrganizationCommonName,"
        "DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "Project": (
        "ProjectID,OrganizationID,ProjectName,ProjectCommonName,OperatingStartDate,"
        "OperatingEndDate,ContinuumProject,ProjectType,HousingType,RRHSubType,"
        "ResidentialAffiliation,TargetPopulation,HOPWAMedAssistedLivingFac,PITCount,"
        "DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "ProjectCoC": (
        "ProjectCoCID,ProjectID,CoCCode,Geocode,Address1,Address2,City,State,Zip,"
        "GeographyType,DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "Client": (
        "PersonalID,FirstName,MiddleName,LastName,NameSuffix,NameDataQuality,SSN,"
        "SSNDataQuality,DOB,DOBDataQuality,AmIndAKNative,Asian,BlackAfAmerican,"
        "HispanicLatinaeo,MidEastNAfrican,NativeHIPacific,White,RaceNone,"
        "AdditionalRaceEthnicity,Woman,Man,NonBinary,CulturallySpecific,Transgender,"
        "Questioning,DifferentIdentity,GenderNone,DifferentIdentityText,VeteranStatus,"
        "YearEnteredService,YearSeparated,WorldWarII,KoreanWar,VietnamWar,DesertStorm,"
        "AfghanistanOEF,IraqOIF,IraqOND,OtherTheater,MilitaryBranch,DischargeStatus,"
        "DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "Enrollment": (
        "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,"
        "EnrollmentCoC,LivingSituation,RentalSubsidyType,LengthOfStay,LOSUnderThreshold,"
        "PreviousStreetESSH,DateToStreetESSH,TimesHomelessPastThreeYears,"
        "MonthsHomelessPastThreeYears,DisablingCondition,DateOfEngagement,MoveInDate,"
        "DateOfPATHStatus,ClientEnrolledInPATH,ReasonNotEnrolled,PercentAMI,"
        "ReferralSource,CountOutreachReferralApproaches,DateOfBCPStatus,EligibleForRHY,"
        "ReasonNoServices,RunawayYouth,SexualOrientation,SexualOrientationOther,"
        "FormerWardChildWelfare,ChildWelfareYears,ChildWelfareMonths,"
        "FormerWardJuvenileJustice,JuvenileJusticeYears,JuvenileJusticeMonths,"
        "UnemploymentFam,MentalHealthDisorderFam,PhysicalDisabilityFam,"
        "AlcoholDrugUseDisorderFam,InsufficientIncome,IncarceratedParent,VAMCStation,"
        "TargetScreenReqd,TimeToHousingLoss,AnnualPercentAMI,LiteralHomelessHistory,"
        "ClientLeaseholder,HOHLeaseholder,SubsidyAtRisk,EvictionHistory,CriminalRecord,"
        "IncarceratedAdult,PrisonDischarge,SexOffender,DisabledHoH,CurrentPregnant,"
        "SingleParent,DependentUnder6,HH5Plus,CoCPrioritized,HPScreeningScore,"
        "ThresholdScore,TranslationNeeded,PreferredLanguage,PreferredLanguageDifferent,"
        "DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "Exit": (
        "ExitID,EnrollmentID,PersonalID,ExitDate,Destination,DestinationSubsidyType,"
        "OtherDestination,HousingAssessment,SubsidyInformation,ProjectCompletionStatus,"
        "EarlyExitReason,ExchangeForSex,ExchangeForSexPastThreeMonths,"
        "CountOfExchangeForSex,AskedOrForcedToExchangeForSex,"
        "AskedOrForcedToExchangeForSexPastThreeMonths,WorkPlaceViolenceThreats,"
        "WorkplacePromiseDifference,CoercedToContinueWork,LaborExploitPastThreeMonths,"
        "CounselingReceived,IndividualCounseling,FamilyCounseling,GroupCounseling,"
        "SessionCountAtExit,PostExitCounselingPlan,SessionsInPlan,DestinationSafeClient,"
        "DestinationSafeWorker,PosAdultConnections,PosPeerConnections,"
        "PosCommunityConnections,AftercareDate,AftercareProvided,EmailSocialMedia,"
        "Telephone,InPersonIndividual,InPersonGroup,CMExitReason,DateCreated,DateUpdated,"
        "UserID,DateDeleted,ExportID"
    ),
    "CurrentLivingSituation": (
        "CurrentLivingSitID,EnrollmentID,PersonalID,InformationDate,"
        "CurrentLivingSituation,CLSSubsidyType,VerifiedBy,LeaveSituation14Days,"
        "SubsequentResidence,ResourcesToObtain,LeaseOwn60Day,MovedTwoOrMore,"
        "LocationDetails,DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "Services": (
        "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,"
        "OtherTypeProvided,MovingOnOtherType,SubTypeProvided,FAAmount,FAStartDate,"
        "FAEndDate,ReferralOutcome,DateCreated,DateUpdated,UserID,DateDeleted,ExportID"
    ),
    "User": (
        "UserID,UserFirstName,UserLastName,UserPhone,UserExtension,UserEmail,DateCreated,"
        "DateUpdated,DateDeleted,ExportID"
    ),
}


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=ABQ)


def stamp(value: datetime) -> str:
    return value.astimezone(ABQ).strftime("%Y-%m-%d %H:%M:%S")


def met(unit, author, people, when: datetime, *, status="submitted", **fields) -> Encounter:
    """An encounter row as the field app leaves it once submitted."""
    submitted = status == Encounter.Status.SUBMITTED
    encounter = Encounter.objects.create(
        client_id=uuid.uuid4(),
        unit=unit,
        created_by=author,
        status=status,
        occurred_at=when,
        submitted_at=when + timedelta(hours=1) if submitted else None,
        disposition=fields.pop("disposition", "settled_by_contact" if submitted else ""),
        narrative=fields.pop("narrative", "Talked by the river; said he drinks every day."),
        **fields,
    )
    for person in people:
        EncounterResident.objects.create(encounter=encounter, resident=person)
    return encounter


def contact(resident, author, when: datetime, outcome: str) -> ContactAttempt:
    follow_up = FollowUp.objects.create(
        resident=resident, kind="phone", due_at=when, window_ends_at=when + timedelta(days=7)
    )
    return ContactAttempt.objects.create(
        follow_up=follow_up, at=when, channel="phone", outcome=outcome, by=author
    )


def sent(referral, when: datetime):
    type(referral).objects.filter(pk=referral.pk).update(sent_at=when)
    referral.refresh_from_db()
    return referral


@pytest.fixture
def case(unit, responder, case_manager, agency_a):
    """Ana (full legal name, date of birth, unsheltered) and Tiny (a street name only, in a
    shelter), who was also met as "T" before the two records were merged."""
    ana = ResidentFactory(
        preferred_name="Ana",
        legal_name="Ana Maria Lopez",
        date_of_birth=date(1980, 5, 2),
        dob_quality="full",
        gender="Woman",
        race_ethnicity=["Hispanic", "White"],
        veteran_status="no",
        housing_status="unsheltered",
        phone="+15055550111",
    )
    tiny = ResidentFactory(preferred_name="Tiny", housing_status="sheltered")
    twin = ResidentFactory(preferred_name="T", housing_status="sheltered")
    e = {
        "before": met(unit, responder, [ana], at("2025-12-20")),
        "e1": met(
            unit,
            responder,
            [ana],
            at("2026-01-10"),
            services_on_scene=["water", "resource_info", "naloxone"],
            needs=["shelter", "substance_use"],
            risk_level="low",
        ),
        "e2": met(
            unit, responder, [twin], at("2026-02-15", 9), services_on_scene=["de_escalation"]
        ),
        "e3": met(unit, responder, [ana, tiny], at("2026-03-01", 14)),
        "draft": met(unit, responder, [ana], at("2026-05-01"), status="draft"),
        "e4": met(
            unit,
            responder,
            [tiny],
            at("2026-06-20", 16),
            services_on_scene=["safety_plan", "phone_call"],
            risk_level="moderate",
        ),
    }
    resident_merge(actor=case_manager, survivor=tiny, duplicate=twin)
    reached = contact(tiny, case_manager, at("2026-05-05"), "reached")
    contact(ana, case_manager, at("2026-04-20"), "no_answer")
    shelter = ServiceFactory(organization=agency_a)
    refs = {
        "shelter": sent(
            referral_in(
                ReferralStatus.COMPLETED,
                service=shelter,
                resident=ana,
                created_by=responder,
                needs=["shelter"],
            ),
            at("2026-01-11"),
        ),
        "detox": sent(
            referral_in(
                ReferralStatus.SENT,
                service=shelter,
                resident=ana,
                created_by=responder,
                needs=["substance_use", "medical"],
            ),
            at("2026-01-12"),
        ),
        "after_exit": sent(
            referral_in(ReferralStatus.SENT, service=shelter, resident=ana, created_by=responder),
            at("2026-04-01"),
        ),
        "benefits": sent(
            referral_in(
                ReferralStatus.SENT,
                service=shelter,
                resident=tiny,
                created_by=responder,
                needs=["benefits"],
            ),
            at("2026-03-02"),
        ),
    }
    return {"ana": ana, "tiny": tiny, "twin": twin, "reached": reached, **e, **refs}


@pytest.fixture
def exports_dir(settings, tmp_path):
    settings.EXPORTS_ROOT = tmp_path / "exports"
    return settings.EXPORTS_ROOT


def build_hmis(actor) -> tuple[ExportJob, dict[str, list[dict]], dict[str, list[str]]]:
    job = export_request(
        actor=actor, kind="hmis_csv", start_date=START, end_date=END, redaction="full"
    )
    job = export_run(job_id=job.pk)
    assert job.status == "done", job.error
    from cases.exports.models import export_storage

    with export_storage().open(job.file.name, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    rows, headers = {}, {}
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8")
        reader = csv.DictReader(io.StringIO(text))
        headers[name.removesuffix(".csv")] = reader.fieldnames
        rows[name.removesuffix(".csv")] = list(reader)
    return job, rows, headers


def row(file: str, **values) -> dict:
    """A full expected row: every column of the spec, blank unless given."""
    expected = dict.fromkeys(SPEC_HEADERS[file].split(","), "")
    unknown = set(values) - set(expected)
    assert not unknown, unknown
    expected.update({k: str(v) for k, v in values.items()})
    return expected


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
