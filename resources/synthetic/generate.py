"""Writing the synthetic directory: chunks of services with their organizations, places on the
map, addresses, schedules, languages, attributes, phones and capacities."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.db import connection, reset_queries, transaction
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
from resources.services.search import search_refresh_deferred
from resources.synthetic.kinds import KINDS, hours
from resources.synthetic.text import PLACES, description, org_name, service_name

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


def _org_sizes(rng: random.Random, services: int) -> list[int]:
    """How many services each organization runs: most one or two, a few a dozen (4 on average)."""
    sizes = []
    left = services
    while left:
        size = min(left, rng.choice((1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 12)))
        sizes.append(size)
        left -= size
    return sizes


CHUNK = 2000  # services written per transaction: memory stays flat at any size


def generate_directory(
    *, services: int, seed: int = 4, progress: Callable[[int], None] = lambda n: None
) -> dict[str, int]:
    """Add `services` synthetic services (with organizations, locations, addresses, services
    at locations, schedules, languages, attributes, phones and capacities). Returns counts.

    Written CHUNK services at a time, each chunk in its own transaction; `progress` is called
    with the number of services written after each chunk."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    terms = {t.code: t for t in TaxonomyTerm.objects.filter(taxonomy__name="ACS needs")}
    missing = {kind.term for _, kind in KINDS} - set(terms)
    if missing:
        raise LookupError(f"The 'ACS needs' taxonomy lacks {sorted(missing)}: migrate first.")
    counts: dict[str, int] = defaultdict(int)
    done = 0
    while done < services:
        size = min(CHUNK, services - done)
        # Each chunk's search documents once (its services, then their terms, refresh them).
        with transaction.atomic(), search_refresh_deferred():
            for name, n in _generate_chunk(rng, terms, first=done, size=size).items():
                counts[name] += n
        done += size
        reset_queries()  # with DEBUG on, Django keeps every statement: 2,000 rows each
        progress(done)
    # bulk_create sent no signals: the opening intervals (open now) are built here, in
    # batches, over the whole rolling window.
    from resources.services.opening_hours import opening_intervals_roll

    opening_intervals_roll(force=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return dict(counts)


def _generate_chunk(
    rng: random.Random, terms: dict[str, TaxonomyTerm], *, first: int, size: int
) -> dict[str, int]:
    today = timezone.localdate()
    now = timezone.now()
    weights = [w for w, _ in KINDS]
    kinds = [k for _, k in KINDS]
    sizes = _org_sizes(rng, size)
    orgs = Organization.objects.bulk_create(
        Organization(
            name=org_name(rng),
            description="A synthetic organization for benchmarks.",
            email=f"info{first + i + 1}@example.org",
            website=f"https://org{first + i + 1}.example.org",
        )
        for i in range(len(sizes))
    )
    owners = [org for org, n in zip(orgs, sizes, strict=True) for _ in range(n)]
    service_kinds = rng.choices(kinds, weights=weights, k=size)
    service_rows = []
    spanish_text = []
    for org, kind in zip(owners, service_kinds, strict=True):
        spanish = rng.random() < 0.2
        spanish_text.append(spanish)
        service_rows.append(
            Service(
                organization=org,
                name=service_name(rng, kind, org.name, spanish),
                description=description(rng, kind, spanish),
                status="active" if rng.random() > 0.03 else "inactive",
                accepts_referrals=rng.random() < 0.4,
                last_verified_at=now - timedelta(days=rng.randint(0, 400)),
            )
        )
    service_objs = Service.objects.bulk_create(service_rows)

    # One location per service, and every tenth service also at a second one.
    location_rows, placements = [], []
    for i, service in enumerate(service_objs):
        for _ in range(2 if (first + i) % 10 == 0 else 1):
            location = Location(
                organization=service.organization,
                name=f"{service.organization.name} - {rng.choice(PLACES)}",
                latitude=Decimal(f"{rng.uniform(*LAT_RANGE):.6f}"),
                longitude=Decimal(f"{rng.uniform(*LON_RANGE):.6f}"),
            )
            location_rows.append(location)
            placements.append((service, service_kinds[i], spanish_text[i], location))
    locations = Location.objects.bulk_create(location_rows)
    Address.objects.bulk_create(
        Address(
            location=location,
            address_1=f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
            city="Albuquerque",
            state_province="NM",
            postal_code=rng.choice(POSTCODES),
        )
        for location in locations
    )
    sals = ServiceAtLocation.objects.bulk_create(
        ServiceAtLocation(service=s, location=loc) for s, _, _, loc in placements
    )

    schedule_rows, language_rows, attribute_rows, phone_rows, capacity_rows = [], [], [], [], []
    seen_services: set[int] = set()
    for sal, (service, kind, spanish, location) in zip(sals, placements, strict=True):
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
            for row in hours(kind.hours, today):
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
        if spanish or rng.random() < 0.35:
            language_rows.append(Language(service=service, code="es", name="Spanish"))
        if rng.random() < 0.05:
            code = rng.choice(OTHER_LANGUAGES)
            language_rows.append(Language(service=service, code=code, name=LANGUAGE_NAMES[code]))
        phone_rows.append(
            Phone(
                service=service,
                number=f"505-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
            )
        )
    Schedule.objects.bulk_create(schedule_rows)
    Language.objects.bulk_create(language_rows)
    Attribute.objects.bulk_create(attribute_rows)
    Phone.objects.bulk_create(phone_rows)
    capacities = Capacity.objects.bulk_create(capacity_rows)
    # bulk_create stamps updated_at now; make a fifth of the figures stale.
    stale_ids = [c.pk for c in capacities if rng.random() < 0.2]
    Capacity.objects.filter(pk__in=stale_ids).update(
        updated_at=now - capacity_stale_after() - timedelta(hours=1)
    )
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
