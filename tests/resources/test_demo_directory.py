"""The demo directory: about 50 services across the categories, idempotent and deterministic."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from resources.demo import seed_directory, winter_season
from resources.models import (
    Attribute,
    CapacityHistory,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from resources.selectors import Point, service_search

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")


def snapshot():
    return {
        model.__name__: sorted(model.objects.values_list("public_id", flat=True))
        for model in (Service, ServiceAtLocation, Schedule, Attribute)
    }


def test_demo_directory_has_about_fifty_services_covering_every_top_category():
    seed_directory()

    assert 45 <= Service.objects.count() <= 60
    top_codes = set(TaxonomyTerm.objects.filter(parent__isnull=True).values_list("code", flat=True))
    used = set(Attribute.objects.values_list("taxonomy_term__parent__code", flat=True)) | set(
        Attribute.objects.values_list("taxonomy_term__code", flat=True)
    )
    assert top_codes <= used


def test_demo_directory_is_idempotent_and_deterministic():
    seed_directory()
    first = snapshot()
    history = CapacityHistory.objects.count()

    seed_directory()

    assert snapshot() == first
    assert CapacityHistory.objects.count() == history  # fresh figures are left alone


def test_demo_answers_the_eleven_pm_shelter_question():
    seed_directory()
    downtown = Point(35.0844, -106.6504)
    tuesday_11pm = datetime(2026, 11, 24, 23, 0, tzinfo=DENVER)

    results = service_search(
        taxonomy_terms=[TaxonomyTerm.objects.get(code="shelter").public_id],
        open_now=True,
        at=tuesday_11pm,
        near=downtown,
        radius_km=15,
        has_capacity=True,
        language="es",
    )

    names = [sal.service.name for sal in results]
    assert "Winter overnight shelter" in names  # in season, 0.3 km away
    assert "Overnight emergency shelter" in names
    assert "Veterans transitional beds" not in names  # no beds free


def test_winter_season_runs_november_to_march():
    assert winter_season(date(2026, 11, 24)) == (date(2026, 11, 1), date(2027, 3, 31))
    assert winter_season(date(2027, 2, 1)) == (date(2026, 11, 1), date(2027, 3, 31))
    assert winter_season(date(2027, 6, 1)) == (date(2027, 11, 1), date(2028, 3, 31))
