"""`manage.py generate_directory`: refuses ordinary databases; generates a realistic directory
that search, the API serializers and the HSDS schemas accept."""

import io
from datetime import datetime, time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F
from django.utils import timezone

from resources.hsds_export import service_objects
from resources.hsds_schemas import errors
from resources.models import Capacity, Language, Location, Schedule, Service, ServiceAtLocation
from resources.selectors import Point, service_search
from resources.synthetic import LAT_RANGE, LON_RANGE
from tests.factories import seed_acs_needs_taxonomy

pytestmark = pytest.mark.django_db

DOWNTOWN = Point(35.0844, -106.6504)


def generate(**options) -> str:
    stdout = io.StringIO()
    call_command("generate_directory", stdout=stdout, **options)
    return stdout.getvalue()


def test_refuses_a_database_whose_name_lacks_bench(db):
    with pytest.raises(CommandError, match="bench"):
        generate(services=10)
    assert not Service.objects.exists()


def test_refuses_a_service_count_below_one(db):
    with pytest.raises(CommandError, match="at least 1"):
        generate(services=0, force=True)


def test_generates_a_directory_in_albuquerque_with_every_part(db):
    output = generate(services=300, force=True)

    assert "300 services" in output
    assert Service.objects.count() == 300
    assert ServiceAtLocation.objects.count() == 330  # every tenth service at two places
    lat = Location.objects.values_list("latitude", flat=True)
    lon = Location.objects.values_list("longitude", flat=True)
    assert all(LAT_RANGE[0] <= float(v) <= LAT_RANGE[1] for v in lat)
    assert all(LON_RANGE[0] <= float(v) <= LON_RANGE[1] for v in lon)
    assert not Location.objects.filter(addresses__isnull=True).exists()
    assert not Service.objects.filter(attributes__isnull=True).exists()
    assert Language.objects.filter(code="es").exists()
    # Overnight, 24-hour, split (two sessions), monthly and seasonal hours.
    assert Schedule.objects.filter(closes_at__lt=F("opens_at")).exists()
    assert Schedule.objects.filter(opens_at=time(0), closes_at=time(0)).exists()
    split = Service.objects.annotate(n=Count("schedules")).filter(n=2)
    assert split.exists()
    assert Schedule.objects.filter(freq="MONTHLY", byday="1SA").exists()
    assert Schedule.objects.filter(valid_to__month=3, valid_to__day=31).exists()
    assert Capacity.objects.filter(available__gt=0).exists()


def test_generated_directory_answers_the_street_corner_query(db):
    generate(services=400, force=True, seed=1)
    tonight = timezone.make_aware(datetime.combine(timezone.localdate(), time(23)))

    hits = list(
        service_search(
            text="shelter",
            open_now=True,
            at=tonight,
            near=DOWNTOWN,
            radius_km=15,
            has_capacity=True,
            language="es",
        )
    )

    assert hits
    assert [h.distance_km for h in hits] == sorted(h.distance_km for h in hits)
    assert all(h.capacity.available > 0 for h in hits)
    assert service_search(text="shleter").exists()


def test_generated_services_validate_against_hsds(db):
    generate(services=30, force=True)

    items = list(service_objects())

    assert len(items) == 30
    for item in items:
        assert errors(item, "service.json") == []


@pytest.mark.django_db(transaction=True)
def test_a_generated_directory_is_vacuumed_as_autovacuum_would_leave_it():
    # The search rows are rewritten as each chunk's documents refresh; unvacuumed, a
    # benchmark read the dead ones too, and every key's row beside its index entry.
    seed_acs_needs_taxonomy()
    output = generate(services=30, force=True)

    assert "vacuumed in" in output
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'resources_searchplace'"
        )
        pages, all_visible = cursor.fetchone()
    assert pages > 0 and all_visible == pages


def test_inside_a_transaction_the_directory_is_analyzed_only(db):
    assert "not vacuumed: inside a transaction" in generate(services=5, force=True)
