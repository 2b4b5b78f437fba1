"""A demo directory: about 50 fictional but realistic Albuquerque-area services.

Called by `manage.py seed_demo`. Deterministic (ids are uuid5 of fixed keys, in seed_demo's
namespace, so the three listings the first seed created keep their ids) and idempotent (run it
again and nothing is duplicated). Hours include overnight shelters, a seasonal winter shelter,
split hours and a monthly clinic. Capacity figures older than CAPACITY_STALE_AFTER are
refreshed on each run, so "has beds free" works in a fresh demo.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from resources.models import (
    Address,
    Attribute,
    Capacity,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
    capacity_stale_after,
)
from resources.services import capacity_update

# Same namespace as acs/management/commands/seed_demo.py.
DEMO_NAMESPACE = uuid.UUID("6f1c1f0e-3c55-4d0c-9a8e-8f1d2c0a5e11")

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "nv": "Navajo",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "zh": "Chinese",
}


def demo_uuid(key: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, key)


@dataclass(frozen=True)
class Place:
    name: str
    address: str
    postal_code: str
    latitude: str
    longitude: str


@dataclass(frozen=True)
class DemoService:
    name: str
    description: str
    terms: tuple[str, ...]
    hours: (
        str  # "MO,TU 09:00-17:00; SA 10:00-14:00", "daily 19:00-07:00", "24/7", "1SA 09:00-12:00"
    )
    languages: tuple[str, ...] = ("en", "es")
    places: tuple[int, ...] = (0,)  # indexes into the organization's places
    capacity: tuple[int, int, str] | None = None
    accepts_referrals: bool = False
    referral_response_hours: int = 48
    seasonal: bool = False  # a winter shelter: 1 November to 31 March
    eligibility: str = ""
    fees: str = "Free."


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    description: str
    phone: str
    places: tuple[Place, ...]
    services: tuple[DemoService, ...] = field(default_factory=tuple)


WEEKDAYS = "MO,TU,WE,TH,FR"

DIRECTORY: tuple[DemoOrganization, ...] = (
    DemoOrganization(
        "Westside Emergency Housing Center",
        "Emergency shelter for adults on the west side.",
        "505-555-0101",
        (
            Place(
                "Westside Emergency Housing Center",
                "7440 Jim McDowell Rd NW",
                "87121",
                "35.147500",
                "-106.721800",
            ),
        ),
        (
            DemoService(
                "Overnight emergency shelter",
                "Beds for adults, walk-ins welcome after 5 pm. Meals, showers and lockers.",
                ("shelter-emergency",),
                "daily 17:00-08:00",
                capacity=(38, 450, "beds"),
                accepts_referrals=True,
                referral_response_hours=4,
                eligibility="Adults 18 and over.",
            ),
            DemoService(
                "Shuttle to the shelter",
                "Free evening shuttle from Downtown and the International District to the shelter.",
                ("transportation",),
                "daily 16:00-21:00",
            ),
        ),
    ),
    DemoOrganization(
        "Rio Grande Crisis Stabilization Center",
        "Walk-in behavioral health crisis care, open around the clock.",
        "505-555-0102",
        (
            Place(
                "Crisis Stabilization Center",
                "2600 Marble Ave NE",
                "87106",
                "35.088400",
                "-106.619200",
            ),
        ),
        (
            DemoService(
                "Crisis stabilization and detox",
                "Walk-in behavioral health crisis care and medically supported detox, 24/7.",
                ("crisis-stabilization", "detox"),
                "24/7",
                capacity=(3, 16, "recliners"),
                accepts_referrals=True,
                referral_response_hours=1,
            ),
            DemoService(
                "Mobile crisis follow-up",
                "Clinicians call or visit within 72 hours after a crisis.",
                ("behavioral-health",),
                f"{WEEKDAYS} 08:00-20:00",
                accepts_referrals=True,
                referral_response_hours=24,
            ),
        ),
    ),
    DemoOrganization(
        "Duke City Community Pantry",
        "Neighborhood food pantry run by volunteers.",
        "505-555-0103",
        (
            Place(
                "Duke City Community Pantry",
                "1100 Broadway Blvd SE",
                "87102",
                "35.071900",
                "-106.643000",
            ),
        ),
        (
            DemoService(
                "Food pantry",
                "Groceries once a week, no documents required.",
                ("food-pantry",),
                "TU,TH 10:00-13:00; SA 09:00-12:00",
            ),
        ),
    ),
    DemoOrganization(
        "Sandia Winter Haven",
        "Seasonal shelter run by a coalition of congregations.",
        "505-555-0104",
        (Place("Winter Haven hall", "315 Gold Ave SW", "87102", "35.082600", "-106.652800"),),
        (
            DemoService(
                "Winter overnight shelter",
                "Cots, blankets and a hot supper on winter nights, November to March.",
                ("shelter-warming", "shelter-emergency"),
                "daily 19:00-07:00",
                capacity=(22, 60, "cots"),
                seasonal=True,
                accepts_referrals=True,
                referral_response_hours=2,
            ),
        ),
    ),
    DemoOrganization(
        "Casa Esperanza Family Shelter",
        "Shelter and case management for families with children.",
        "505-555-0105",
        (Place("Casa Esperanza", "4200 Lomas Blvd NE", "87110", "35.093100", "-106.598900"),),
        (
            DemoService(
                "Family emergency shelter",
                "Private rooms for families with children; intake by phone.",
                ("shelter-family",),
                "24/7",
                capacity=(2, 24, "family rooms"),
                accepts_referrals=True,
                referral_response_hours=8,
                eligibility="Families with at least one child under 18.",
            ),
            DemoService(
                "Family housing navigation",
                "Help finding and keeping housing after the shelter.",
                ("housing",),
                f"{WEEKDAYS} 09:00-17:00",
                accepts_referrals=True,
            ),
        ),
    ),
    DemoOrganization(
        "Youth Harbor ABQ",
        "Drop-in center and shelter for young people up to 24.",
        "505-555-0106",
        (
            Place(
                "Youth Harbor drop-in", "1609 Central Ave NW", "87104", "35.094200", "-106.666900"
            ),
        ),
        (
            DemoService(
                "Youth overnight shelter",
                "Eight beds for young people 18 to 24.",
                ("shelter-youth",),
                "daily 20:00-08:00",
                capacity=(1, 8, "beds"),
                accepts_referrals=True,
                referral_response_hours=4,
                eligibility="Ages 18 to 24.",
            ),
            DemoService(
                "Youth drop-in center",
                "Showers, laundry, snacks, phone charging and case managers.",
                ("hygiene", "food-meals"),
                f"{WEEKDAYS} 10:00-18:00",
            ),
        ),
    ),
    DemoOrganization(
        "Bosque Detox and Recovery",
        "Medically monitored withdrawal management and recovery services.",
        "505-555-0107",
        (Place("Bosque Recovery Center", "5901 Zuni Rd SE", "87108", "35.064600", "-106.582100"),),
        (
            DemoService(
                "Social model detox",
                "Non-medical withdrawal support, admissions around the clock.",
                ("detox", "substance-use"),
                "24/7",
                capacity=(5, 30, "beds"),
                accepts_referrals=True,
                referral_response_hours=2,
            ),
            DemoService(
                "Outpatient recovery groups",
                "Evening recovery groups in English and Spanish.",
                ("substance-use",),
                "MO,WE 18:00-20:00",
            ),
            DemoService(
                "Medication for opioid use disorder",
                "Same-day buprenorphine starts.",
                ("substance-use", "health"),
                f"{WEEKDAYS} 07:00-11:00; {WEEKDAYS} 13:00-16:00",
                accepts_referrals=True,
                referral_response_hours=24,
            ),
        ),
    ),
    DemoOrganization(
        "First Light Harm Reduction",
        "Syringe services, naloxone and outreach.",
        "505-555-0108",
        (
            Place(
                "First Light storefront", "6001 Central Ave NE", "87108", "35.078600", "-106.579600"
            ),
            Place(
                "First Light van at Coronado Park",
                "300 3rd St NW",
                "87102",
                "35.093300",
                "-106.648200",
            ),
        ),
        (
            DemoService(
                "Naloxone and syringe services",
                "Free naloxone, sterile supplies and fentanyl test strips.",
                ("substance-use-harm-reduction",),
                f"{WEEKDAYS} 09:00-17:00",
                places=(0,),
            ),
            DemoService(
                "Mobile harm reduction van",
                "Supplies and wound care from the van.",
                ("substance-use-harm-reduction", "health"),
                "TU,TH 18:00-22:00",
                places=(1,),
            ),
        ),
    ),
    DemoOrganization(
        "Valle del Sol Community Health",
        "Federally qualified health center with sliding-scale fees.",
        "505-555-0109",
        (
            Place(
                "Valle del Sol South Valley clinic",
                "2001 Isleta Blvd SW",
                "87105",
                "35.053900",
                "-106.679200",
            ),
            Place(
                "Valle del Sol Northeast clinic",
                "8200 Menaul Blvd NE",
                "87110",
                "35.109800",
                "-106.554600",
            ),
        ),
        (
            DemoService(
                "Primary care clinic",
                "Primary care for adults and children, uninsured welcome.",
                ("health-primary",),
                f"{WEEKDAYS} 08:00-17:00",
                places=(0, 1),
                languages=("en", "es", "vi"),
                fees="Sliding scale, nobody turned away.",
            ),
            DemoService(
                "Dental clinic",
                "Emergency dental care and cleanings.",
                ("health-dental",),
                "MO,TU,TH 08:00-16:30",
                places=(0,),
            ),
            DemoService(
                "Saturday walk-in clinic",
                "Walk-in clinic on the first Saturday of the month.",
                ("health-primary",),
                "1SA 09:00-13:00",
                places=(1,),
            ),
            DemoService(
                "Behavioral health counseling",
                "Individual counseling, same-week appointments.",
                ("behavioral-health",),
                f"{WEEKDAYS} 08:00-19:00",
                places=(0, 1),
                accepts_referrals=True,
                referral_response_hours=72,
            ),
        ),
    ),
    DemoOrganization(
        "Healing Hands Street Medicine",
        "Nurses and doctors who go to where people live outside.",
        "505-555-0110",
        (Place("Healing Hands base", "1500 Edith Blvd NE", "87102", "35.099300", "-106.641900"),),
        (
            DemoService(
                "Street medicine rounds",
                "Wound care, prescriptions and referrals on the street.",
                ("health",),
                "MO,WE,FR 08:00-14:00",
                accepts_referrals=True,
            ),
        ),
    ),
    DemoOrganization(
        "Roadrunner Food Hub",
        "Regional food distribution and partner pantries.",
        "505-555-0111",
        (
            Place("Food Hub warehouse", "5840 Office Blvd NE", "87109", "35.137200", "-106.603300"),
            Place(
                "Food Hub mobile stop, Westgate",
                "10001 Central Ave SW",
                "87121",
                "35.070700",
                "-106.745000",
            ),
        ),
        (
            DemoService(
                "Grocery distribution",
                "Free groceries, drive-through or walk-up.",
                ("food-pantry",),
                "WE 09:00-12:00; SA 08:00-11:00",
                places=(0,),
            ),
            DemoService(
                "Mobile food pantry",
                "Produce and staples from the truck, second and fourth Thursdays.",
                ("food-pantry",),
                "2TH,4TH 15:00-17:00",
                places=(1,),
            ),
            DemoService(
                "SNAP application help",
                "Help applying for SNAP by phone or in person.",
                ("benefits",),
                f"{WEEKDAYS} 09:00-16:00",
                places=(0,),
                accepts_referrals=True,
            ),
        ),
    ),
    DemoOrganization(
        "St. Martin's Table",
        "Daily hot meals and a day shelter.",
        "505-555-0112",
        (Place("St. Martin's Table", "1201 3rd St NW", "87102", "35.097700", "-106.648500"),),
        (
            DemoService(
                "Hot breakfast and lunch",
                "Two hot meals a day, no questions asked.",
                ("food-meals",),
                "daily 07:00-09:00; daily 11:30-13:30",
            ),
            DemoService(
                "Showers and laundry",
                "Showers, laundry and clothing closet.",
                ("hygiene",),
                f"{WEEKDAYS} 08:00-15:00",
            ),
            DemoService(
                "Mail and ID help",
                "A mailing address and help replacing IDs and birth certificates.",
                ("id-documents",),
                "MO,WE,FR 09:00-12:00",
                accepts_referrals=True,
            ),
        ),
    ),
    DemoOrganization(
        "New Mexico ID Project",
        "Vital records and identification for people without documents.",
        "505-555-0113",
        (Place("ID Project office", "625 Silver Ave SW", "87102", "35.081200", "-106.654000"),),
        (
            DemoService(
                "ID and birth certificate assistance",
                "Pays fees and walks people through state ID, birth certificates and Social "
                "Security cards.",
                ("id-documents",),
                "TU,TH 09:00-15:00",
                accepts_referrals=True,
                referral_response_hours=72,
            ),
        ),
    ),
    DemoOrganization(
        "Benefits Bridge Legal Aid",
        "Free legal help with benefits, evictions and records.",
        "505-555-0114",
        (Place("Benefits Bridge", "301 Gold Ave SW", "87102", "35.082500", "-106.650900"),),
        (
            DemoService(
                "SSI/SSDI application help",
                "SOAR-trained advocates for disability benefits.",
                ("benefits",),
                f"{WEEKDAYS} 09:00-17:00",
                accepts_referrals=True,
                referral_response_hours=72,
            ),
            DemoService(
                "Eviction defense clinic",
                "Walk-in legal advice for tenants facing eviction.",
                ("legal", "housing"),
                "TU 13:00-17:00",
            ),
            DemoService(
                "Medicaid enrollment",
                "Same-day Medicaid applications.",
                ("benefits", "health"),
                f"{WEEKDAYS} 08:30-16:30",
                accepts_referrals=True,
            ),
        ),
    ),
    DemoOrganization(
        "Duke City Housing Collaborative",
        "Rapid rehousing and permanent supportive housing.",
        "505-555-0115",
        (
            Place(
                "Housing Collaborative",
                "2401 San Mateo Blvd NE",
                "87110",
                "35.104300",
                "-106.586200",
            ),
        ),
        (
            DemoService(
                "Coordinated entry assessment",
                "The front door to housing programs in Albuquerque.",
                ("housing",),
                f"{WEEKDAYS} 08:00-17:00",
                accepts_referrals=True,
                referral_response_hours=48,
            ),
            DemoService(
                "Rapid rehousing",
                "Deposits, rent help and case management for up to a year.",
                ("housing",),
                f"{WEEKDAYS} 09:00-17:00",
                capacity=(4, 60, "households"),
                accepts_referrals=True,
                referral_response_hours=72,
            ),
        ),
    ),
    DemoOrganization(
        "Turquoise Trail Veterans Center",
        "Services for veterans and their families.",
        "505-555-0116",
        (Place("Veterans Center", "1501 San Pedro Dr SE", "87108", "35.065600", "-106.586800"),),
        (
            DemoService(
                "Veterans housing and benefits",
                "HUD-VASH, SSVF and VA benefits help.",
                ("veterans", "housing", "benefits"),
                f"{WEEKDAYS} 08:00-16:30",
                accepts_referrals=True,
            ),
            DemoService(
                "Veterans transitional beds",
                "Transitional housing for veterans.",
                ("veterans", "shelter"),
                "24/7",
                capacity=(0, 20, "beds"),
                accepts_referrals=True,
                referral_response_hours=24,
            ),
        ),
    ),
    DemoOrganization(
        "Safe Haven Domestic Violence Services",
        "Confidential shelter and advocacy for survivors.",
        "505-555-0117",
        (Place("Safe Haven office", "120 Yale Blvd SE", "87106", "35.080900", "-106.620500"),),
        (
            DemoService(
                "24-hour crisis line and shelter",
                "Confidential emergency shelter; intake through the crisis line.",
                ("domestic-violence", "shelter"),
                "24/7",
                capacity=(6, 35, "beds"),
                accepts_referrals=True,
                referral_response_hours=1,
            ),
            DemoService(
                "Legal advocacy",
                "Help with protection orders.",
                ("domestic-violence", "legal"),
                f"{WEEKDAYS} 09:00-17:00",
            ),
        ),
    ),
    DemoOrganization(
        "Diné Wellness Albuquerque",
        "Culturally grounded services for Native American residents.",
        "505-555-0118",
        (Place("Diné Wellness", "1100 Indian School Rd NW", "87104", "35.100500", "-106.660100"),),
        (
            DemoService(
                "Native American behavioral health",
                "Counseling and talking circles in English and Navajo.",
                ("behavioral-health",),
                f"{WEEKDAYS} 08:00-17:00",
                languages=("en", "nv"),
                accepts_referrals=True,
            ),
            DemoService(
                "Native American detox",
                "Residential withdrawal management with traditional healing.",
                ("detox", "substance-use"),
                "24/7",
                languages=("en", "nv"),
                capacity=(2, 12, "beds"),
                accepts_referrals=True,
                referral_response_hours=4,
            ),
        ),
    ),
    DemoOrganization(
        "International District Resource Center",
        "Resource center for immigrant and refugee families.",
        "505-555-0119",
        (Place("ID Resource Center", "8100 Central Ave SE", "87108", "35.075600", "-106.554200"),),
        (
            DemoService(
                "Refugee and immigrant navigation",
                "Help with benefits, school enrollment and interpreters.",
                ("benefits",),
                f"{WEEKDAYS} 09:00-18:00",
                languages=("en", "es", "vi", "ar", "zh"),
                accepts_referrals=True,
            ),
            DemoService(
                "Community food pantry",
                "Culturally familiar foods, Friday afternoons.",
                ("food-pantry",),
                "FR 13:00-16:00",
                languages=("en", "es", "vi", "ar"),
            ),
        ),
    ),
    DemoOrganization(
        "Sun Van Rides",
        "Rides to medical and social service appointments.",
        "505-555-0120",
        (Place("Sun Van Rides dispatch", "601 Yale Blvd SE", "87106", "35.075500", "-106.620600"),),
        (
            DemoService(
                "Rides to appointments",
                "Free rides to medical, benefits and housing appointments; book a day ahead.",
                ("transportation",),
                f"{WEEKDAYS} 06:00-19:00; SA 08:00-16:00",
                accepts_referrals=True,
                referral_response_hours=24,
            ),
            DemoService(
                "Bus passes",
                "Monthly bus passes for people in case management.",
                ("transportation",),
                "MO 10:00-14:00",
            ),
        ),
    ),
    DemoOrganization(
        "Job Ready Albuquerque",
        "Job training and day labor placement.",
        "505-555-0121",
        (Place("Job Ready center", "3301 Candelaria Rd NE", "87107", "35.117200", "-106.609500"),),
        (
            DemoService(
                "Day labor program",
                "Paid day work cleaning up city parks, lunch included.",
                ("employment",),
                "TU,WE,TH 07:00-15:00",
            ),
            DemoService(
                "Job training and placement",
                "Résumés, interview clothes and job placement.",
                ("employment",),
                f"{WEEKDAYS} 09:00-16:00",
                accepts_referrals=True,
            ),
        ),
    ),
    DemoOrganization(
        "Southeast Heights Wellness Collective",
        "Peer support and recovery community center.",
        "505-555-0122",
        (Place("Wellness Collective", "9621 Zuni Rd SE", "87123", "35.065000", "-106.536100"),),
        (
            DemoService(
                "Peer support drop-in",
                "Peer support specialists, coffee and a quiet room.",
                ("behavioral-health", "substance-use"),
                "daily 10:00-20:00",
            ),
            DemoService(
                "Overnight respite beds",
                "Short-term peer-run respite instead of the emergency room.",
                ("crisis", "shelter"),
                "daily 18:00-09:00",
                capacity=(1, 6, "beds"),
                accepts_referrals=True,
                referral_response_hours=2,
            ),
        ),
    ),
    DemoOrganization(
        "Northwest Mesa Community Center",
        "City community center with a cooling and warming room.",
        "505-555-0123",
        (
            Place(
                "Northwest Mesa Community Center",
                "6400 Coors Blvd NW",
                "87120",
                "35.143800",
                "-106.701400",
            ),
        ),
        (
            DemoService(
                "Warming and cooling room",
                "A warm (or cool) place to sit, water and snacks.",
                ("shelter-warming",),
                f"{WEEKDAYS} 08:00-20:00; SA,SU 10:00-18:00",
            ),
            DemoService(
                "Senior meals",
                "Lunch for people 60 and over.",
                ("food-meals",),
                f"{WEEKDAYS} 11:00-12:30",
                eligibility="Ages 60 and over.",
            ),
        ),
    ),
)


def _parse_hours(spec: str) -> list[dict]:
    """'MO,TU 09:00-17:00; 1SA 09:00-12:00; daily 19:00-07:00; 24/7' -> Schedule fields."""
    rows = []
    for part in (p.strip() for p in spec.split(";")):
        if part == "24/7":
            rows.append(
                {
                    "freq": "WEEKLY",
                    "byday": "MO,TU,WE,TH,FR,SA,SU",
                    "opens_at": time(0),
                    "closes_at": time(0),
                    "description": "Open 24/7",
                }
            )
            continue
        days, hours = part.split(" ")
        opens, closes = (time.fromisoformat(t) for t in hours.split("-"))
        monthly = any(c.isdigit() for c in days)
        byday = "MO,TU,WE,TH,FR,SA,SU" if days == "daily" else days
        rows.append(
            {
                "freq": "MONTHLY" if monthly else "WEEKLY",
                "byday": byday,
                "opens_at": opens,
                "closes_at": closes,
                "description": part,
            }
        )
    return rows


def winter_season(today: date) -> tuple[date, date]:
    """1 November to 31 March of the winter that is running or comes next."""
    start_year = today.year if today.month >= 4 else today.year - 1
    return date(start_year, 11, 1), date(start_year + 1, 3, 31)


@transaction.atomic
def seed_directory() -> dict[str, int]:
    """Create or refresh the demo directory; returns how many services it holds."""
    terms = {t.code: t for t in TaxonomyTerm.objects.filter(taxonomy__name="ACS needs")}
    now = timezone.now()
    season = winter_season(timezone.localdate())
    services = 0
    for org_data in DIRECTORY:
        org, _ = Organization.objects.update_or_create(
            public_id=demo_uuid(f"org:{org_data.name}"),
            defaults={"name": org_data.name, "description": org_data.description},
        )
        Phone.objects.update_or_create(
            public_id=demo_uuid(f"phone:{org_data.name}"),
            defaults={"organization": org, "number": org_data.phone, "type": "voice"},
        )
        locations = []
        for place in org_data.places:
            location, _ = Location.objects.update_or_create(
                public_id=demo_uuid(f"location:{org_data.name}:{place.name}"),
                defaults={
                    "organization": org,
                    "name": place.name,
                    "latitude": Decimal(place.latitude),
                    "longitude": Decimal(place.longitude),
                },
            )
            Address.objects.update_or_create(
                public_id=demo_uuid(f"address:{org_data.name}:{place.name}"),
                defaults={
                    "location": location,
                    "address_1": place.address,
                    "city": "Albuquerque",
                    "state_province": "NM",
                    "postal_code": place.postal_code,
                    "country": "US",
                },
            )
            locations.append((place, location))
        for data in org_data.services:
            services += 1
            key = f"{org_data.name}:{data.name}"
            service, _ = Service.objects.update_or_create(
                public_id=demo_uuid(f"service:{key}"),
                defaults={
                    "organization": org,
                    "name": data.name,
                    "description": data.description,
                    "eligibility_description": data.eligibility,
                    "fees_description": data.fees,
                    "accepts_referrals": data.accepts_referrals,
                    "referral_response_hours": data.referral_response_hours,
                    "last_verified_at": now,
                },
            )
            for code in data.terms:
                Attribute.objects.get_or_create(service=service, taxonomy_term=terms[code])
            for code in data.languages:
                Language.objects.update_or_create(
                    public_id=demo_uuid(f"language:{key}:{code}"),
                    defaults={"service": service, "code": code, "name": LANGUAGE_NAMES[code]},
                )
            keep = []
            for i, fields in enumerate(_parse_hours(data.hours)):
                if data.seasonal:
                    fields |= {"valid_from": season[0], "valid_to": season[1]}
                schedule, _ = Schedule.objects.update_or_create(
                    public_id=demo_uuid(f"schedule:{key}:{i}"),
                    defaults={"service": service, **fields},
                )
                keep.append(schedule.pk)
            service.schedules.exclude(pk__in=keep).delete()
            for index in data.places:
                place, location = locations[index]
                sal, _ = ServiceAtLocation.objects.get_or_create(
                    service=service,
                    location=location,
                    defaults={"public_id": demo_uuid(f"sal:{key}:{place.name}")},
                )
                if data.capacity:
                    _refresh_capacity(sal, data.capacity, now)
    return {"services": services}


def _refresh_capacity(sal: ServiceAtLocation, figure: tuple[int, int, str], now) -> None:
    current = Capacity.objects.filter(service_at_location=sal).first()
    if current and current.updated_at >= now - capacity_stale_after():
        return
    available, total, unit = figure
    capacity_update(service_at_location=sal, available=available, total=total, unit=unit)
