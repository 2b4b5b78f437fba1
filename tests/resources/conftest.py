"""A small directory around downtown Albuquerque for the search and API tests."""

from datetime import time
from decimal import Decimal

import pytest

from resources.models import Language
from resources.services import capacity_update
from tests.factories import (
    AddressFactory,
    AttributeFactory,
    LanguageFactory,
    OrganizationFactory,
    ScheduleFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)

# The partner portal's fixtures, used by every test_portal*.py module.
from tests.resources.portal_world import client_a, client_b, sent, service_a  # noqa: F401
from tests.resources.referral_helpers import bearer, consenting_resident

DOWNTOWN = (35.084400, -106.650400)


def place(service, name, lat, lon):
    sal = ServiceAtLocationFactory(
        service=service,
        location__name=name,
        location__latitude=Decimal(str(lat)),
        location__longitude=Decimal(str(lon)),
    )
    AddressFactory(location=sal.location)
    return sal


@pytest.fixture
def directory(db):
    """Four places: a Spanish-speaking overnight shelter 1.5 km away with beds, a 24/7 detox
    3 km away, a weekday food pantry 1 km away, and a day clinic in Santa Fe, 93 km away."""
    shelter_term = TaxonomyTermFactory(code="shelter-emergency")
    detox_term = TaxonomyTermFactory(code="detox")
    food_term = TaxonomyTermFactory(code="food-pantry")
    clinic_term = TaxonomyTermFactory(code="health-primary")

    haven = OrganizationFactory(name="Casa de Paz")
    shelter = ServiceFactory(
        organization=haven,
        name="Overnight emergency shelter",
        description="Beds for adults, walk-ins welcome after 7 pm.",
        accepts_referrals=True,
    )
    AttributeFactory(service=shelter, taxonomy_term=shelter_term)
    LanguageFactory(service=shelter, code="es", name="Spanish")
    LanguageFactory(service=shelter, code="en", name="English")
    ScheduleFactory(service=shelter, opens_at=time(19), closes_at=time(7))
    shelter_here = place(shelter, "Casa de Paz", 35.0960, -106.6560)
    capacity_update(service_at_location=shelter_here, available=12, total=40)

    crisis = OrganizationFactory(name="Rio Grande Crisis Center")
    detox = ServiceFactory(
        organization=crisis,
        name="Crisis stabilization",
        description="Walk-in behavioral health crisis care, medically supported withdrawal.",
        accepts_referrals=True,
    )
    AttributeFactory(service=detox, taxonomy_term=detox_term)
    ScheduleFactory(service=detox, opens_at=time(0), closes_at=time(0))
    detox_here = place(detox, "Crisis Center", 35.0884, -106.6192)
    Language.objects.create(location=detox_here.location, code="es", name="Spanish")
    capacity_update(service_at_location=detox_here, available=0, total=16)

    pantry_org = OrganizationFactory(name="Duke City Community Pantry")
    pantry = ServiceFactory(
        organization=pantry_org,
        name="Food pantry",
        description="Groceries once a week, no documents required.",
    )
    AttributeFactory(service=pantry, taxonomy_term=food_term)
    ScheduleFactory(service=pantry, byday="MO,TU,WE,TH,FR", opens_at=time(9), closes_at=time(17))
    pantry_here = place(pantry, "Pantry", 35.0780, -106.6420)

    far_org = OrganizationFactory(name="Santa Fe Health Commons")
    clinic = ServiceFactory(
        organization=far_org, name="Walk-in clinic", description="Primary care."
    )
    AttributeFactory(service=clinic, taxonomy_term=clinic_term)
    ScheduleFactory(service=clinic, byday="MO,TU,WE,TH,FR", opens_at=time(8), closes_at=time(18))
    clinic_here = place(clinic, "Santa Fe", 35.6870, -105.9380)

    return {
        "shelter": shelter_here,
        "detox": detox_here,
        "pantry": pantry_here,
        "clinic": clinic_here,
        "terms": {
            "shelter": shelter_term,
            "detox": detox_term,
            "food": food_term,
            "clinic": clinic_term,
        },
    }


# --- referrals: a partner's API clients and a resident who consented to share --------------


@pytest.fixture
def api_a(agency_a):
    return bearer(agency_a)


@pytest.fixture
def api_b(agency_b):
    return bearer(agency_b)


@pytest.fixture
def resident(agency_a, case_manager):
    return consenting_resident(agency_a, recorded_by=case_manager)
