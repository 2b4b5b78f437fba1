"""A demo directory: about 50 fictional but realistic Albuquerque-area services.

Called by `manage.py seed_demo`. Deterministic (ids are uuid5 of fixed keys, in seed_demo's
namespace, so the three listings the first seed created keep their ids) and idempotent (run it
again and nothing is duplicated). Hours include overnight shelters, a seasonal winter shelter,
split hours and a monthly clinic. Capacity figures older than CAPACITY_STALE_AFTER are
refreshed on each run, so "has beds free" works in a fresh demo.

The directory itself (organizations, their places and services) is data, in
resources/demo_data/directory.json, read into the dataclasses below.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from pathlib import Path

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


def _load_directory() -> tuple[DemoOrganization, ...]:
    """The organizations of demo_data/directory.json; a service's missing keys take the
    defaults of DemoService."""
    path = Path(__file__).parent / "demo_data" / "directory.json"
    return tuple(
        DemoOrganization(
            name=org["name"],
            description=org["description"],
            phone=org["phone"],
            places=tuple(Place(**place) for place in org["places"]),
            services=tuple(_service(row) for row in org["services"]),
        )
        for org in json.loads(path.read_text(encoding="utf-8"))
    )


def _service(row: dict) -> DemoService:
    sequences = ("terms", "languages", "places", "capacity")
    tuples = {key: tuple(row[key]) for key in sequences if key in row}
    return DemoService(**(row | tuples))


DIRECTORY: tuple[DemoOrganization, ...] = _load_directory()


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
