"""A large synthetic Albuquerque-area directory for benchmarks (`manage.py generate_directory`).

Deterministic for a given seed, written with bulk_create in batches. Services draw their
category from the seeded "ACS needs" taxonomy and their names, descriptions and hours from that
category, so text, term, open-now and capacity filters select realistic shares of the rows:
overnight and 24-hour shelters, split-hours offices, weekday clinics, a monthly Saturday
clinic and seasonal (1 November to 31 March) warming centers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
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

# The Albuquerque metro area (Rio Rancho to Isleta, the West Mesa to the Sandia foothills).
LAT_RANGE = (34.98, 35.25)
LON_RANGE = (-106.78, -106.47)
POSTCODES = [f"871{n:02d}" for n in (2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 20, 21, 22, 23)]
STREETS = [
    "Central Ave",
    "Lomas Blvd",
    "Menaul Blvd",
    "Montgomery Blvd",
    "San Mateo Blvd",
    "Wyoming Blvd",
    "Coors Blvd",
    "Isleta Blvd",
    "4th St",
    "Broadway Blvd",
    "Louisiana Blvd",
    "Eubank Blvd",
    "Gibson Blvd",
    "Bridge Blvd",
    "Candelaria Rd",
    "Juan Tabo Blvd",
    "Rio Grande Blvd",
    "Zuni Rd",
    "Academy Rd",
    "Paseo del Norte",
]
ORG_WORDS = [
    "Casa",
    "Rio Grande",
    "Sandia",
    "Duke City",
    "Bosque",
    "Mesa",
    "Route 66",
    "Nob Hill",
    "Barelas",
    "La Placita",
    "Manzano",
    "Esperanza",
    "Petroglyph",
    "Valle",
    "Turquoise",
    "Sunport",
    "Los Altos",
    "Alameda",
    "Corrales",
    "Tijeras",
]
ORG_KINDS = [
    "Community Services",
    "Health Center",
    "Mission",
    "Family Resource Center",
    "Outreach",
    "Alliance",
    "Coalition",
    "Foundation",
    "Collective",
    "Network",
]
OTHER_LANGUAGES = ["nv", "vi", "ar", "zh", "ker"]
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "nv": "Navajo",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "zh": "Chinese",
    "ker": "Keres",
}


@dataclass(frozen=True)
class Kind:
    term: str
    names: tuple[str, ...]
    description: str
    hours: str  # key of HOURS
    capacity_unit: str = ""  # blank: no live capacity


KINDS: list[tuple[int, Kind]] = [
    (
        8,
        Kind(
            "shelter-emergency",
            ("Overnight emergency shelter", "Night shelter", "Emergency beds"),
            "Overnight beds for adults, walk-ins welcome in the evening.",
            "overnight",
            "beds",
        ),
    ),
    (
        3,
        Kind(
            "shelter-family",
            ("Family shelter", "Family emergency housing"),
            "Rooms for families with children, meals included.",
            "always",
            "family rooms",
        ),
    ),
    (
        2,
        Kind(
            "shelter-youth",
            ("Youth shelter", "Youth drop-in and beds"),
            "Beds and case management for young people 14 to 24.",
            "overnight",
            "beds",
        ),
    ),
    (
        2,
        Kind(
            "shelter-warming",
            ("Winter warming center", "Seasonal warming center"),
            "Cots, blankets and hot drinks on winter nights.",
            "seasonal",
            "cots",
        ),
    ),
    (
        3,
        Kind(
            "crisis-stabilization",
            ("Crisis stabilization unit", "Behavioral health crisis center"),
            "Walk-in crisis care around the clock, no referral needed.",
            "always",
            "recliners",
        ),
    ),
    (
        2,
        Kind(
            "detox",
            ("Detox program", "Withdrawal management"),
            "Medically supported withdrawal, admission any time.",
            "always",
            "beds",
        ),
    ),
    (
        8,
        Kind(
            "health-primary",
            ("Community clinic", "Walk-in clinic", "Primary care"),
            "Primary care on a sliding scale, uninsured patients seen.",
            "weekdays",
        ),
    ),
    (
        3,
        Kind(
            "health-dental",
            ("Dental clinic", "Free dental day"),
            "Cleanings and extractions, first Saturday of the month.",
            "monthly",
        ),
    ),
    (
        10,
        Kind(
            "food-pantry",
            ("Food pantry", "Grocery distribution", "Food box program"),
            "Groceries to take home once a week.",
            "split",
        ),
    ),
    (
        8,
        Kind(
            "food-meals",
            ("Community kitchen", "Hot meals", "Soup kitchen"),
            "Breakfast and dinner served on site, everyone welcome.",
            "meals",
        ),
    ),
    (
        6,
        Kind(
            "id-documents",
            ("ID document help", "Birth certificate assistance"),
            "Help getting state IDs, birth certificates and Social Security cards.",
            "split",
        ),
    ),
    (
        8,
        Kind(
            "benefits",
            ("Benefits enrollment", "SNAP and Medicaid help"),
            "Applications for SNAP, Medicaid, SSI and SSDI.",
            "weekdays",
        ),
    ),
    (
        8,
        Kind(
            "housing",
            ("Rapid rehousing", "Supportive housing program", "Housing navigation"),
            "Housing search, deposits and vouchers.",
            "weekdays",
        ),
    ),
    (
        8,
        Kind(
            "behavioral-health",
            ("Counseling center", "Mental health services"),
            "Counseling and psychiatric care for adults.",
            "split",
        ),
    ),
    (
        4,
        Kind(
            "substance-use-harm-reduction",
            ("Harm reduction outreach", "Syringe services"),
            "Naloxone, testing and syringe services.",
            "evenings",
        ),
    ),
    (
        3,
        Kind(
            "hygiene",
            ("Showers and laundry", "Hygiene center"),
            "Hot showers, laundry and hygiene supplies.",
            "weekdays",
        ),
    ),
    (
        3,
        Kind(
            "legal",
            ("Legal aid clinic", "Tenant legal help"),
            "Free legal advice on housing, benefits and records.",
            "weekdays",
        ),
    ),
    (
        3,
        Kind(
            "employment",
            ("Job center", "Employment training"),
            "Job training and placement.",
            "weekdays",
        ),
    ),
    (
        3,
        Kind(
            "domestic-violence",
            ("Domestic violence shelter", "Survivor advocacy line"),
            "Safe shelter and advocacy for survivors, confidential location.",
            "always",
            "beds",
        ),
    ),
    (
        2,
        Kind(
            "veterans",
            ("Veterans resource center", "Veterans housing help"),
            "Benefits, housing and peer support for veterans.",
            "weekdays",
        ),
    ),
    (
        2,
        Kind(
            "transportation",
            ("Ride program", "Bus pass assistance"),
            "Rides and bus passes to appointments.",
            "weekdays",
        ),
    ),
]

WEEKDAYS = "MO,TU,WE,TH,FR"


def _hours(kind: str, today: date) -> list[dict]:
    """Schedule rows (without owner) for one of the hour patterns."""
    if kind == "overnight":
        return [{"opens_at": time(19), "closes_at": time(7), "description": "Nightly 7pm-7am"}]
    if kind == "always":
        return [{"opens_at": time(0), "closes_at": time(0), "description": "24 hours"}]
    if kind == "seasonal":
        start = date(today.year if today.month >= 11 else today.year - 1, 11, 1)
        return [
            {
                "opens_at": time(18),
                "closes_at": time(8),
                "valid_from": start,
                "valid_to": date(start.year + 1, 3, 31),
                "description": "Winter nights, 1 November to 31 March",
            }
        ]
    if kind == "weekdays":
        return [
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(8), "closes_at": time(17)},
        ]
    if kind == "split":
        return [
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(9), "closes_at": time(12)},
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(13), "closes_at": time(16)},
        ]
    if kind == "meals":
        return [
            {"opens_at": time(7), "closes_at": time(9), "description": "Breakfast"},
            {"opens_at": time(17), "closes_at": time(19), "description": "Dinner"},
        ]
    if kind == "monthly":
        return [{"freq": "MONTHLY", "byday": "1SA", "opens_at": time(9), "closes_at": time(13)}]
    if kind == "evenings":
        return [
            {"freq": "WEEKLY", "byday": "MO,WE,FR,SA", "opens_at": time(16), "closes_at": time(23)}
        ]
    raise ValueError(kind)


def _batched(rows: list, model, progress: Callable[[str], None], batch: int = 2000) -> list:
    created = []
    for start in range(0, len(rows), batch):
        created += model.objects.bulk_create(rows[start : start + batch])
    progress(f"  {model._meta.verbose_name_plural}: {len(created)}")
    return created


def generate_directory(
    *, services: int, seed: int = 4, progress: Callable[[str], None] = lambda s: None
) -> dict[str, int]:
    """Add `services` synthetic services (with organizations, locations, addresses, services
    at locations, schedules, languages, attributes, phones and capacities). Returns counts."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    terms = {t.code: t for t in TaxonomyTerm.objects.filter(taxonomy__name="ACS needs")}
    missing = {kind.term for _, kind in KINDS} - set(terms)
    if missing:
        raise LookupError(f"The 'ACS needs' taxonomy lacks {sorted(missing)}: migrate first.")
    today = timezone.localdate()
    now = timezone.now()
    weights = [w for w, _ in KINDS]
    kinds = [k for _, k in KINDS]
    n_orgs = max(1, services // 4)

    with transaction.atomic():
        orgs = _batched(
            [
                Organization(
                    name=f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)} {i + 1}",
                    description="A synthetic organization for benchmarks.",
                    email=f"info{i + 1}@example.org",
                    website=f"https://org{i + 1}.example.org",
                )
                for i in range(n_orgs)
            ],
            Organization,
            progress,
        )
        service_kinds = rng.choices(kinds, weights=weights, k=services)
        service_rows = []
        for i, kind in enumerate(service_kinds):
            org = orgs[i % n_orgs]
            service_rows.append(
                Service(
                    organization=org,
                    name=f"{rng.choice(kind.names)}",
                    description=kind.description,
                    status="active" if rng.random() > 0.03 else "inactive",
                    accepts_referrals=rng.random() < 0.4,
                    last_verified_at=now - timedelta(days=rng.randint(0, 400)),
                )
            )
        service_objs = _batched(service_rows, Service, progress)

        # One location per service, and every tenth service also at a second one.
        location_rows, address_rows, placements = [], [], []
        for i, service in enumerate(service_objs):
            for _ in range(2 if i % 10 == 0 else 1):
                lat = Decimal(f"{rng.uniform(*LAT_RANGE):.6f}")
                lon = Decimal(f"{rng.uniform(*LON_RANGE):.6f}")
                location = Location(
                    organization=service.organization,
                    name=f"{service.organization.name} site {len(location_rows) + 1}",
                    latitude=lat,
                    longitude=lon,
                )
                location_rows.append(location)
                placements.append((service, service_kinds[i], location))
        locations = _batched(location_rows, Location, progress)
        for location in locations:
            address_rows.append(
                Address(
                    location=location,
                    address_1=f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
                    city="Albuquerque",
                    state_province="NM",
                    postal_code=rng.choice(POSTCODES),
                )
            )
        _batched(address_rows, Address, progress)
        sals = _batched(
            [ServiceAtLocation(service=s, location=loc) for s, _, loc in placements],
            ServiceAtLocation,
            progress,
        )

        schedule_rows, language_rows, attribute_rows, phone_rows, capacity_rows = [], [], [], [], []
        seen_services: set[int] = set()
        for sal, (service, kind, location) in zip(sals, placements, strict=True):
            # Hours at the service (most), the location or the service at location.
            level = rng.random()
            owner = (
                {"service": service}
                if level < 0.7
                else {"location": location}
                if level < 0.85
                else {"service_at_location": sal}
            )
            if service.pk not in seen_services or "service" not in owner:
                for row in _hours(kind.hours, today):
                    schedule_rows.append(Schedule(**owner, **row))
            if rng.random() < 0.02:  # a holiday closure
                schedule_rows.append(
                    Schedule(**owner, closed=True, valid_from=today + timedelta(days=2))
                )
            if kind.capacity_unit:
                total = rng.randint(4, 120)
                capacity_rows.append(
                    Capacity(
                        service_at_location=sal,
                        total=total,
                        available=rng.randint(0, total) if rng.random() < 0.7 else 0,
                        unit=kind.capacity_unit,
                    )
                )
            if rng.random() < 0.15:
                language_rows.append(Language(location=location, code="es", name="Spanish"))
            if service.pk in seen_services:
                continue
            seen_services.add(service.pk)
            attribute_rows.append(Attribute(service=service, taxonomy_term=terms[kind.term]))
            language_rows.append(Language(service=service, code="en", name="English"))
            if rng.random() < 0.45:
                language_rows.append(Language(service=service, code="es", name="Spanish"))
            if rng.random() < 0.05:
                code = rng.choice(OTHER_LANGUAGES)
                language_rows.append(
                    Language(service=service, code=code, name=LANGUAGE_NAMES[code])
                )
            phone_rows.append(
                Phone(
                    service=service,
                    number=f"505-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
                )
            )
        _batched(schedule_rows, Schedule, progress)
        _batched(language_rows, Language, progress)
        _batched(attribute_rows, Attribute, progress)
        _batched(phone_rows, Phone, progress)
        capacities = _batched(capacity_rows, Capacity, progress)
        # bulk_create stamps updated_at now; make a fifth of the figures stale.
        stale_ids = [c.pk for c in capacities if rng.random() < 0.2]
        Capacity.objects.filter(pk__in=stale_ids).update(
            updated_at=now - capacity_stale_after() - timedelta(hours=1)
        )
    # bulk_create sent no signals: the opening intervals are built here, in batches.
    from resources.services.opening_hours import opening_intervals_roll

    opening_intervals_roll(force=True, progress=progress)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "organizations": len(orgs),
        "services": len(service_objs),
        "locations": len(locations),
        "services_at_locations": len(sals),
        "schedules": len(schedule_rows),
        "languages": len(language_rows),
        "attributes": len(attribute_rows),
        "capacities": len(capacities),
    }
