"""The HUD HMIS CSV export, FY2024 layout (shared/hmis/FY2024-columns.md; CSVVersion 2024 v1.3).

ACS is one Street Outreach project (ProjectType 4). For the job's date range:
- every active resident with a submitted encounter in the range is a Client (records merged
  into another are not clients of their own: their encounters moved to the survivor);
- each client has one Enrollment, from the first encounter in the range;
- an Exit on the last contact date when the last contact is more than EXIT_AFTER_DAYS before
  the end of the range (destination 30, no exit interview completed); otherwise still open;
- a CurrentLivingSituation row for every encounter with the client in the enrollment;
- Services: services given on scene and reached contact attempts as PATH services (RecordType
  141), referrals sent as PATH referrals (RecordType 161), where HUD has a matching code.
Substance-use (42 CFR Part 2) information is never part of it. docs/exports.md has the rules.
"""

from __future__ import annotations

import csv
import zipfile
from collections import defaultdict
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path

from django.conf import settings

from acs.csv_cells import FORMULA_START
from cases.exports.tables import residents_queryset
from cases.exports.writing import ExportContext, department_tz, keyset_batches
from cases.models import AttemptOutcome, ContactAttempt, Encounter, EncounterResident, Resident
from cases.models.encounters import PART2_NEEDS

CSV_VERSION = "2024 v1.3"
ORGANIZATION_ID = "ACS"
ORGANIZATION_NAME = "Albuquerque Community Safety"
PROJECT_ID = "ACS-SO"
PROJECT_NAME = "ACS Street Outreach"
USER_ID = "ACS-EXPORT"
SOFTWARE_NAME = "ACS case management"
SOFTWARE_VERSION = "1"
EXIT_AFTER_DAYS = 90

HEADERS = {
    "Export": "ExportID,SourceType,SourceID,SourceName,SourceContactFirst,SourceContactLast,SourceContactPhone,SourceContactExtension,SourceContactEmail,ExportDate,ExportStartDate,ExportEndDate,SoftwareName,SoftwareVersion,CSVVersion,ExportPeriodType,ExportDirective,HashStatus,ImplementationID",  # noqa: E501
    "Organization": "OrganizationID,OrganizationName,VictimServiceProvider,OrganizationCommonName,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "Project": "ProjectID,OrganizationID,ProjectName,ProjectCommonName,OperatingStartDate,OperatingEndDate,ContinuumProject,ProjectType,HousingType,RRHSubType,ResidentialAffiliation,TargetPopulation,HOPWAMedAssistedLivingFac,PITCount,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "ProjectCoC": "ProjectCoCID,ProjectID,CoCCode,Geocode,Address1,Address2,City,State,Zip,GeographyType,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "Client": "PersonalID,FirstName,MiddleName,LastName,NameSuffix,NameDataQuality,SSN,SSNDataQuality,DOB,DOBDataQuality,AmIndAKNative,Asian,BlackAfAmerican,HispanicLatinaeo,MidEastNAfrican,NativeHIPacific,White,RaceNone,AdditionalRaceEthnicity,Woman,Man,NonBinary,CulturallySpecific,Transgender,Questioning,DifferentIdentity,GenderNone,DifferentIdentityText,VeteranStatus,YearEnteredService,YearSeparated,WorldWarII,KoreanWar,VietnamWar,DesertStorm,AfghanistanOEF,IraqOIF,IraqOND,OtherTheater,MilitaryBranch,DischargeStatus,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "Enrollment": "EnrollmentID,PersonalID,ProjectID,EntryDate,HouseholdID,RelationshipToHoH,EnrollmentCoC,LivingSituation,RentalSubsidyType,LengthOfStay,LOSUnderThreshold,PreviousStreetESSH,DateToStreetESSH,TimesHomelessPastThreeYears,MonthsHomelessPastThreeYears,DisablingCondition,DateOfEngagement,MoveInDate,DateOfPATHStatus,ClientEnrolledInPATH,ReasonNotEnrolled,PercentAMI,ReferralSource,CountOutreachReferralApproaches,DateOfBCPStatus,EligibleForRHY,ReasonNoServices,RunawayYouth,SexualOrientation,SexualOrientationOther,FormerWardChildWelfare,ChildWelfareYears,ChildWelfareMonths,FormerWardJuvenileJustice,JuvenileJusticeYears,JuvenileJusticeMonths,UnemploymentFam,MentalHealthDisorderFam,PhysicalDisabilityFam,AlcoholDrugUseDisorderFam,InsufficientIncome,IncarceratedParent,VAMCStation,TargetScreenReqd,TimeToHousingLoss,AnnualPercentAMI,LiteralHomelessHistory,ClientLeaseholder,HOHLeaseholder,SubsidyAtRisk,EvictionHistory,CriminalRecord,IncarceratedAdult,PrisonDischarge,SexOffender,DisabledHoH,CurrentPregnant,SingleParent,DependentUnder6,HH5Plus,CoCPrioritized,HPScreeningScore,ThresholdScore,TranslationNeeded,PreferredLanguage,PreferredLanguageDifferent,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "Exit": "ExitID,EnrollmentID,PersonalID,ExitDate,Destination,DestinationSubsidyType,OtherDestination,HousingAssessment,SubsidyInformation,ProjectCompletionStatus,EarlyExitReason,ExchangeForSex,ExchangeForSexPastThreeMonths,CountOfExchangeForSex,AskedOrForcedToExchangeForSex,AskedOrForcedToExchangeForSexPastThreeMonths,WorkPlaceViolenceThreats,WorkplacePromiseDifference,CoercedToContinueWork,LaborExploitPastThreeMonths,CounselingReceived,IndividualCounseling,FamilyCounseling,GroupCounseling,SessionCountAtExit,PostExitCounselingPlan,SessionsInPlan,DestinationSafeClient,DestinationSafeWorker,PosAdultConnections,PosPeerConnections,PosCommunityConnections,AftercareDate,AftercareProvided,EmailSocialMedia,Telephone,InPersonIndividual,InPersonGroup,CMExitReason,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "CurrentLivingSituation": "CurrentLivingSitID,EnrollmentID,PersonalID,InformationDate,CurrentLivingSituation,CLSSubsidyType,VerifiedBy,LeaveSituation14Days,SubsequentResidence,ResourcesToObtain,LeaseOwn60Day,MovedTwoOrMore,LocationDetails,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "Services": "ServicesID,EnrollmentID,PersonalID,DateProvided,RecordType,TypeProvided,OtherTypeProvided,MovingOnOtherType,SubTypeProvided,FAAmount,FAStartDate,FAEndDate,ReferralOutcome,DateCreated,DateUpdated,UserID,DateDeleted,ExportID",  # noqa: E501
    "User": "UserID,UserFirstName,UserLastName,UserPhone,UserExtension,UserEmail,DateCreated,DateUpdated,DateDeleted,ExportID",  # noqa: E501
}
FILES = tuple(HEADERS)

# --- HUD codes (FY2024 HMIS Data Dictionary) ---------------------------------------------------

NOT_COLLECTED = 99
DOB_QUALITY = {"full": 1, "approximate": 2, "unknown": 8, "refused": 9}
# Prior and current living situation from our housing status. "housed" and "at risk" do not
# say rented, owned or with family, so they are "data not collected" (docs/exports.md).
LIVING_SITUATION = {"unsheltered": 116, "sheltered": 101}
RACE_COLUMNS = (
    ("AmIndAKNative", ("american indian", "alaska native", "native american", "indigenous")),
    ("Asian", ("asian",)),
    ("BlackAfAmerican", ("black", "african american")),
    ("HispanicLatinaeo", ("hispanic", "latin")),
    ("MidEastNAfrican", ("middle eastern", "north african")),
    ("NativeHIPacific", ("native hawaiian", "pacific islander")),
    ("White", ("white",)),
)
GENDER_WORDS = {
    "woman": "Woman",
    "female": "Woman",
    "f": "Woman",
    "man": "Man",
    "male": "Man",
    "m": "Man",
    "non-binary": "NonBinary",
    "nonbinary": "NonBinary",
    "transgender": "Transgender",
    "questioning": "Questioning",
}
GENDER_COLUMNS = (
    "Woman",
    "Man",
    "NonBinary",
    "CulturallySpecific",
    "Transgender",
    "Questioning",
    "DifferentIdentity",
)
DOESNT_KNOW = {"unknown", "doesn't know", "does not know", "client doesn't know"}
REFUSED = {"refused", "prefers not to answer", "declined"}
VETERAN = {"yes": 1, "true": 1, "veteran": 1, "no": 0, "false": 0}

PATH_SERVICE = 141
PATH_REFERRAL = 161
# Services on scene -> PATH services (4.14): 4 community mental health, 6 case management.
# Water, food, clothing, transport and first aid have no PATH code and are left out; naloxone
# is substance-use information (Part 2) and never exported.
SERVICE_CODES = {"de_escalation": 4, "safety_plan": 4, "resource_info": 6, "phone_call": 6}
SCREENING = 2  # a risk screen done on scene
CASE_MANAGEMENT = 6  # a follow-up contact that reached the person
# Referral needs -> PATH referral types (4.15): the first need with a code wins. A referral
# carrying a substance-use need is Part 2 information and is left out entirely.
REFERRAL_CODES = {
    "behavioral_health": 1,
    "medical": 3,
    "housing": 6,
    "shelter": 11,
    "benefits": 8,
}
# ReferralOutcome: 1 attained, 2 eligible but not attained, 3 unknown.
REFERRAL_OUTCOME = {"completed": 1, "not_completed": 2, "declined": 2, "expired": 2}
REACHED = (AttemptOutcome.REACHED, AttemptOutcome.FOUND_IN_PERSON)


def _stamp(value: datetime) -> str:
    return value.astimezone(department_tz()).strftime("%Y-%m-%d %H:%M:%S")


def _day(value: datetime) -> date:
    return value.astimezone(department_tz()).date()


def personal_id(resident: Resident) -> str:
    return resident.public_id.hex


def enrollment_id(resident: Resident, entry: date) -> str:
    return f"{resident.public_id.hex[:24]}{entry:%Y%m%d}"


def _text(value: str) -> str:
    """Staff-typed text as an HMIS cell: without the leading characters that make a
    spreadsheet run a cell as a formula (= + - @ tab CR). No name or gender begins with one,
    so only what cannot be a name is dropped, and the file stays as HUD's spec reads it."""
    return value.strip().lstrip("".join(FORMULA_START)).strip()


def _words(value: str) -> list[str]:
    return [w for w in (_text(word) for word in value.split()) if w]


def _names(r: Resident) -> tuple[str, str, str, int]:
    """(first, middle, last, NameDataQuality): a legal name of two words or more is a full
    name (1); a single word or only a street name is partial (2); none is not collected.
    Each word is its own cell's start, so each is cleaned of formula characters."""
    words = _words(r.legal_name)
    if len(words) >= 2:
        return words[0], " ".join(words[1:-1]), words[-1], 1
    if words:
        return words[0], "", "", 2
    preferred = _text(r.preferred_name)
    if preferred:
        return preferred, "", "", 2
    return "", "", "", NOT_COLLECTED


def _dob(r: Resident) -> tuple[str, int]:
    if r.date_of_birth and r.dob_quality in ("full", "approximate"):
        return r.date_of_birth.isoformat(), DOB_QUALITY[r.dob_quality]
    if r.dob_quality in ("unknown", "refused"):
        return "", DOB_QUALITY[r.dob_quality]
    return "", NOT_COLLECTED


def _none_code(values: list[str]) -> int:
    lowered = {v.strip().lower() for v in values}
    if lowered & REFUSED:
        return 9
    if lowered & DOESNT_KNOW:
        return 8
    return NOT_COLLECTED


def _race(r: Resident) -> dict[str, object]:
    values = [v.lower() for v in r.race_ethnicity]
    out: dict[str, object] = {
        column: int(any(word in v for v in values for word in words))
        for column, words in RACE_COLUMNS
    }
    out["RaceNone"] = "" if any(out.values()) else _none_code(r.race_ethnicity)
    return out


def _gender(r: Resident) -> dict[str, object]:
    text = _text(r.gender)
    out: dict[str, object] = dict.fromkeys(GENDER_COLUMNS, 0)
    out["DifferentIdentityText"] = ""
    column = GENDER_WORDS.get(text.lower())
    if column:
        out[column] = 1
    elif text and text.lower() not in DOESNT_KNOW | REFUSED:
        out["DifferentIdentity"] = 1
        out["DifferentIdentityText"] = text
    out["GenderNone"] = "" if any(out[c] for c in GENDER_COLUMNS) else _none_code([text])
    return out


def _veteran(r: Resident) -> int:
    value = r.veteran_status.strip().lower()
    if value in VETERAN:
        return VETERAN[value]
    if value:
        return _none_code([value])
    return NOT_COLLECTED


class _Files:
    """The CSV files, written side by side as the batches go."""

    def __init__(self, folder: Path, stack: ExitStack, export_id: str):
        self.folder = folder
        self.export_id = export_id
        self.writers = {}
        for name in FILES:
            handle = stack.enter_context(
                (folder / f"{name}.csv").open("w", newline="", encoding="utf-8")
            )
            # No apostrophe before text that begins like a formula (acs/csv_cells.py): HUD's
            # spec has no such escape, so the CoC's HMIS would keep it as part of the name
            # and miss the person in its de-duplication. Staff-typed text goes through
            # _text instead (docs/exports.md).
            writer = csv.DictWriter(handle, fieldnames=HEADERS[name].split(","), restval="")
            writer.writeheader()
            self.writers[name] = writer

    def row(self, name: str, **values) -> None:
        if "ExportID" in self.writers[name].fieldnames:
            values["ExportID"] = self.export_id
        if "UserID" in self.writers[name].fieldnames:
            values.setdefault("UserID", USER_ID)
        self.writers[name].writerow(values)


def _fixed_rows(files: _Files, ctx: ExportContext) -> None:
    now = _stamp(ctx.now)
    stamps = {"DateCreated": now, "DateUpdated": now}
    files.row(
        "Export",
        SourceType=2,  # standalone/agency-specific application
        SourceID=ORGANIZATION_ID,
        SourceName=ORGANIZATION_NAME,
        ExportDate=now,
        ExportStartDate=ctx.job.start_date.isoformat(),
        ExportEndDate=ctx.job.end_date.isoformat(),
        SoftwareName=SOFTWARE_NAME,
        SoftwareVersion=SOFTWARE_VERSION,
        CSVVersion=CSV_VERSION,
        ExportPeriodType=3,  # reporting period
        ExportDirective=2,  # full refresh
        HashStatus=1,  # unhashed
        ImplementationID=ORGANIZATION_ID,
    )
    files.row(
        "Organization",
        OrganizationID=ORGANIZATION_ID,
        OrganizationName=ORGANIZATION_NAME,
        VictimServiceProvider=0,
        OrganizationCommonName=ORGANIZATION_ID,
        **stamps,
    )
    files.row(
        "Project",
        ProjectID=PROJECT_ID,
        OrganizationID=ORGANIZATION_ID,
        ProjectName=PROJECT_NAME,
        ProjectCommonName=PROJECT_ID,
        OperatingStartDate=settings.HMIS_OPERATING_START,
        ContinuumProject=1,
        ProjectType=4,  # Street Outreach
        TargetPopulation=4,  # not applicable
        **stamps,
    )
    files.row(
        "ProjectCoC",
        ProjectCoCID=f"{PROJECT_ID}-{settings.HMIS_COC_CODE}",
        ProjectID=PROJECT_ID,
        CoCCode=settings.HMIS_COC_CODE,
        Geocode=settings.HMIS_GEOCODE,
        City="Albuquerque",
        State="NM",
        GeographyType=1,  # urban
        **stamps,
    )
    files.row(
        "User",
        UserID=USER_ID,
        UserFirstName="ACS",
        UserLastName="Export",
        **stamps,
    )


def _client_row(files: _Files, r: Resident) -> None:
    first, middle, last, name_quality = _names(r)
    dob, dob_quality = _dob(r)
    files.row(
        "Client",
        PersonalID=personal_id(r),
        FirstName=first,
        MiddleName=middle,
        LastName=last,
        NameDataQuality=name_quality,
        SSN="",
        SSNDataQuality=NOT_COLLECTED,
        DOB=dob,
        DOBDataQuality=dob_quality,
        **_race(r),
        **_gender(r),
        VeteranStatus=_veteran(r),
        DateCreated=_stamp(r.created_at),
        DateUpdated=_stamp(r.updated_at),
    )


def _client_records(files: _Files, ctx: ExportContext, r: Resident, links, referrals, attempts):
    """Enrollment, exit, living situations and services of one client."""
    pid = personal_id(r)
    encounters = [link.encounter for link in links]
    entry = _day(encounters[0].occurred_at)
    eid = enrollment_id(r, entry)

    def situation(link) -> int:
        # What the responder learned on that contact; before it was asked, the resident's
        # current housing status (docs/exports.md).
        return LIVING_SITUATION.get(link.living_situation or r.housing_status, NOT_COLLECTED)

    reached = [a for a in attempts if _day(a.at) >= entry]
    last_contact = max([_day(e.occurred_at) for e in encounters] + [_day(a.at) for a in reached])
    exit_date = last_contact if (ctx.job.end_date - last_contact).days > EXIT_AFTER_DAYS else None
    files.row(
        "Enrollment",
        EnrollmentID=eid,
        PersonalID=pid,
        ProjectID=PROJECT_ID,
        EntryDate=entry.isoformat(),
        HouseholdID=eid,
        RelationshipToHoH=1,  # self (a household of one)
        EnrollmentCoC=settings.HMIS_COC_CODE,
        LivingSituation=situation(links[0]),
        LengthOfStay=NOT_COLLECTED,
        TimesHomelessPastThreeYears=NOT_COLLECTED,
        MonthsHomelessPastThreeYears=NOT_COLLECTED,
        DisablingCondition=NOT_COLLECTED,
        DateCreated=_stamp(encounters[0].created_at),
        DateUpdated=_stamp(max(e.updated_at for e in encounters)),
    )
    if exit_date is not None:
        files.row(
            "Exit",
            ExitID=eid,
            EnrollmentID=eid,
            PersonalID=pid,
            ExitDate=exit_date.isoformat(),
            Destination=30,  # no exit interview completed
            DateCreated=_stamp(ctx.now),
            DateUpdated=_stamp(ctx.now),
        )
    within = {"EnrollmentID": eid, "PersonalID": pid}
    for link in links:
        e = link.encounter
        stamps = {"DateCreated": _stamp(link.created_at), "DateUpdated": _stamp(e.updated_at)}
        on = _day(e.occurred_at).isoformat()
        files.row(
            "CurrentLivingSituation",
            CurrentLivingSitID=link.public_id.hex,
            InformationDate=on,
            CurrentLivingSituation=situation(link),
            **within,
            **stamps,
        )
        codes = sorted({SERVICE_CODES[s] for s in e.services_on_scene if s in SERVICE_CODES})
        if e.risk_level != Encounter.RiskLevel.NOT_SCREENED:
            codes = sorted({*codes, SCREENING})
        for code in codes:
            files.row(
                "Services",
                ServicesID=f"{link.public_id.hex[:24]}{PATH_SERVICE}{code:02d}",
                DateProvided=on,
                RecordType=PATH_SERVICE,
                TypeProvided=code,
                **within,
                **stamps,
            )
    for a in reached:
        files.row(
            "Services",
            ServicesID=f"{a.public_id.hex[:24]}{PATH_SERVICE}{CASE_MANAGEMENT:02d}",
            DateProvided=_day(a.at).isoformat(),
            RecordType=PATH_SERVICE,
            TypeProvided=CASE_MANAGEMENT,
            DateCreated=_stamp(a.created_at),
            DateUpdated=_stamp(a.updated_at),
            **within,
        )
    for ref in referrals:
        sent = _day(ref.sent_at)
        if sent < entry or (exit_date and sent > exit_date) or set(ref.needs) & PART2_NEEDS:
            continue
        code = next((REFERRAL_CODES[n] for n in ref.needs if n in REFERRAL_CODES), None)
        if code is None:
            continue
        files.row(
            "Services",
            ServicesID=f"{ref.public_id.hex[:24]}{PATH_REFERRAL}{code:02d}",
            DateProvided=sent.isoformat(),
            RecordType=PATH_REFERRAL,
            TypeProvided=code,
            ReferralOutcome=REFERRAL_OUTCOME.get(ref.status, 3),
            DateCreated=_stamp(ref.created_at),
            DateUpdated=_stamp(ref.updated_at),
            **within,
        )


def hmis_count(ctx: ExportContext) -> int:
    return residents_queryset(ctx).count()


def hmis_write(ctx: ExportContext, folder: Path) -> Path:
    """Write the CSV files and zip them; progress counts clients."""
    from resources.models import Referral, ReferralStatus

    export_id = ctx.job.public_id.hex
    csv_folder = folder / "hmis"
    csv_folder.mkdir()
    with ExitStack() as stack:
        files = _Files(csv_folder, stack, export_id)
        _fixed_rows(files, ctx)
        for batch in keyset_batches(residents_queryset(ctx)):
            ids = [r.pk for r in batch]
            links = defaultdict(list)
            for link in (
                EncounterResident.objects.filter(
                    resident_id__in=ids,
                    encounter__occurred_at__gte=ctx.start,
                    encounter__occurred_at__lt=ctx.end,
                    encounter__status=Encounter.Status.SUBMITTED,
                )
                .select_related("encounter")
                .order_by("resident_id", "encounter__occurred_at", "id")
            ):
                links[link.resident_id].append(link)
            referrals = defaultdict(list)
            for ref in (
                Referral.objects.filter(
                    resident_id__in=ids, sent_at__gte=ctx.start, sent_at__lt=ctx.end
                )
                .exclude(status__in=[ReferralStatus.DRAFT, ReferralStatus.CANCELLED])
                .order_by("sent_at", "id")
            ):
                referrals[ref.resident_id].append(ref)
            attempts = defaultdict(list)
            for attempt in (
                ContactAttempt.objects.filter(
                    follow_up__resident_id__in=ids,
                    at__gte=ctx.start,
                    at__lt=ctx.end,
                    outcome__in=REACHED,
                )
                .select_related("follow_up")
                .order_by("at", "id")
            ):
                attempts[attempt.follow_up.resident_id].append(attempt)
            for r in batch:
                _client_row(files, r)
                _client_records(files, ctx, r, links[r.pk], referrals[r.pk], attempts[r.pk])
            ctx.progress(len(batch))
    archive = folder / f"hmis-{ctx.job.start_date:%Y%m%d}-{ctx.job.end_date:%Y%m%d}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in FILES:
            zf.write(csv_folder / f"{name}.csv", arcname=f"{name}.csv")
    return archive
