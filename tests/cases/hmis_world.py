"""The HMIS export tests' hand-built case (tests/cases/test_hmis.py): two people (one of them also
met as a second record, since merged), a few encounters, referrals and follow-up contacts; the
spec's headers, and the export built and read back."""

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
from cases.models import ContactAttempt, Encounter, EncounterResident, FollowUp
from cases.services import resident_merge
from resources.models import ReferralStatus
from tests.factories import ResidentFactory, ServiceFactory
from tests.resources.referral_helpers import referral_in

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
