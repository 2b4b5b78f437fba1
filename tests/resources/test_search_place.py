"""One search row per service at location (SearchPlace, migration 0025): the triggers keep it
equal to what it copies after every kind of write (ORM saves, bulk writes, queryset updates,
deletes, the deferred refresh of an import), and the search reads it (its indexes in the plan).
"""

import random
from datetime import date, time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from resources.models import (
    Attribute,
    Capacity,
    Language,
    Location,
    SearchPlace,
    Service,
    ServiceAtLocation,
    ServiceSearchDocument,
    ServiceStatus,
)
from resources.selectors import Point, service_search
from resources.services import capacity_update, search_refresh_deferred
from resources.services.opening_hours import opening_intervals_refresh, opening_intervals_roll
from tests.factories import (
    LanguageFactory,
    LocationFactory,
    OrganizationFactory,
    ScheduleFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)

pytestmark = pytest.mark.django_db


def expected(sal_id: int) -> dict | None:
    """What the search row of this service at location must hold, read from the directory
    itself (not from the refresh function the triggers call)."""
    sal = ServiceAtLocation.objects.filter(pk=sal_id).select_related("service", "location").first()
    if sal is None:
        return None
    service, location = sal.service, sal.location
    codes = {
        code.upper()
        for code in Language.objects.filter(service=service).values_list("code", flat=True)
    } | {
        code.upper()
        for code in Language.objects.filter(location=location).values_list("code", flat=True)
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN %s::float8 IS NULL OR %s::float8 IS NULL THEN NULL"
            " ELSE resources_earth_point(%s::float8, %s::float8)::text END",
            [location.latitude, location.longitude] * 2,
        )
        (point,) = cursor.fetchone()
    document = (
        ServiceSearchDocument.objects.filter(service=service)
        .values_list("document", flat=True)
        .first()
    )
    terms = sorted(
        set(Attribute.objects.filter(service=service).values_list("taxonomy_term_id", flat=True))
    )
    capacity = Capacity.objects.filter(service_at_location=sal).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT spans::text FROM resources_openingspans WHERE service_at_location_id = %s",
            [sal_id],
        )
        spans = cursor.fetchone()
    return {
        "name": service.name,
        "status": service.status,
        "accepts_referrals": service.accepts_referrals,
        "point": point,
        "document": None if document is None else str(document),
        "languages": sorted(codes),
        "terms": terms,
        "available": capacity and capacity.available,
        "capacity_updated_at": capacity and capacity.updated_at,
        "spans": spans and spans[0],
    }


def row(sal_id: int) -> dict | None:
    """The search row as stored, by column."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, status, accepts_referrals, point::text, document::text, languages,"
            " terms, available, capacity_updated_at, spans::text"
            " FROM resources_searchplace WHERE service_at_location_id = %s",
            [sal_id],
        )
        found = cursor.fetchone()
        columns = [c.name for c in cursor.description]
    if found is None:
        return None
    stored = dict(zip(columns, found, strict=True))
    stored["languages"], stored["terms"] = list(stored["languages"]), list(stored["terms"])
    return stored


def assert_every_row_exact() -> None:
    ids = set(ServiceAtLocation.objects.values_list("pk", flat=True))
    assert set(SearchPlace.objects.values_list("pk", flat=True)) == ids  # none missing, none left
    for sal_id in ids:
        assert row(sal_id) == expected(sal_id), sal_id


def at(lat: str, lon: str, **kwargs) -> Location:
    return LocationFactory(latitude=Decimal(lat), longitude=Decimal(lon), **kwargs)


def test_each_write_to_what_a_row_copies_rewrites_it():
    organization = OrganizationFactory(name="Casa de Paz")
    service = ServiceFactory(organization=organization, name="Night shelter")
    here = at("35.084400", "-106.650400")
    sal = ServiceAtLocationFactory(service=service, location=here)
    assert_every_row_exact()
    assert "'night'" in row(sal.pk)["document"]

    service.name, service.status = "Winter shelter", ServiceStatus.TEMPORARILY_CLOSED
    service.accepts_referrals = not service.accepts_referrals
    service.save()
    assert_every_row_exact()
    assert (
        "'winter'" in row(sal.pk)["document"]
        and row(sal.pk)["status"] == ServiceStatus.TEMPORARILY_CLOSED
    )

    here.latitude = Decimal("35.100000")
    here.save()
    assert_every_row_exact()
    here.latitude = None
    here.save()
    assert row(sal.pk)["point"] is None
    assert_every_row_exact()

    spanish = LanguageFactory(service=service, code="es")
    LanguageFactory(location=here, code="nv")
    LanguageFactory(location=here, code="ES")  # once, upper case, whoever speaks it
    assert row(sal.pk)["languages"] == ["ES", "NV"]
    spanish.code = "vi"
    spanish.save()
    assert row(sal.pk)["languages"] == ["ES", "NV", "VI"]
    Language.objects.filter(location=here).delete()
    assert row(sal.pk)["languages"] == ["VI"]
    assert_every_row_exact()

    warming = Attribute.objects.create(
        service=service, taxonomy_term=TaxonomyTermFactory(name="Warming")
    )
    organization.name = "Casa Esperanza"
    organization.save()
    assert "'warm'" in row(sal.pk)["document"] and "'esperanza'" in row(sal.pk)["document"]
    assert row(sal.pk)["terms"] == [warming.taxonomy_term_id]
    warming.taxonomy_term = TaxonomyTermFactory(name="Cooling")
    warming.save()
    assert row(sal.pk)["terms"] == [warming.taxonomy_term_id]
    assert_every_row_exact()

    capacity_update(service_at_location=sal, available=3, total=10)
    assert row(sal.pk)["available"] == 3
    capacity_update(service_at_location=sal, available=0, total=10)
    assert row(sal.pk)["available"] == 0
    assert_every_row_exact()
    Capacity.objects.filter(service_at_location=sal).delete()
    assert (row(sal.pk)["available"], row(sal.pk)["capacity_updated_at"]) == (None, None)
    warming.delete()
    assert row(sal.pk)["terms"] == []
    assert_every_row_exact()

    before = row(sal.pk)["point"]  # null: the location has no latitude now
    elsewhere = at("35.200000", "-106.600000")
    ServiceAtLocation.objects.filter(pk=sal.pk).update(location=elsewhere)
    assert row(sal.pk)["point"] not in (None, before)
    assert_every_row_exact()

    sal.delete()
    assert row(sal.pk) is None
    other = ServiceAtLocationFactory(service=service)
    service.delete()
    assert row(other.pk) is None
    assert not SearchPlace.objects.exists()


def test_the_opening_spans_are_copied_when_written_and_cleared_when_they_go():
    """The spans are the roll's and the refresh's (OpeningSpans, migration 0026's triggers):
    copied when written, cleared when the place's last session goes, and inside a deferred
    refresh written once on the way out."""
    sal = ServiceAtLocationFactory(service=ServiceFactory(name="Day center"))
    hours = ScheduleFactory(service_at_location=sal, opens_at=time(9), closes_at=time(17))
    assert row(sal.pk)["spans"] is None
    opening_intervals_roll(today=date(2026, 3, 3))
    assert row(sal.pk)["spans"] is not None
    assert_every_row_exact()

    hours.delete()
    opening_intervals_refresh(service_at_location_ids=[sal.pk])
    assert row(sal.pk)["spans"] is None
    assert_every_row_exact()

    with transaction.atomic(), search_refresh_deferred():
        ScheduleFactory(service_at_location=sal, opens_at=time(8), closes_at=time(12))
        opening_intervals_refresh(service_at_location_ids=[sal.pk])
        assert row(sal.pk)["spans"] is None  # noted, not written yet
    # 8 am in Albuquerque is 15:00 UTC in March (the first hours, 9 am, were 16:00).
    assert "15:00:00+00" in row(sal.pk)["spans"] and "16:00:00+00" not in row(sal.pk)["spans"]
    assert_every_row_exact()


def test_bulk_writes_and_queryset_updates_keep_every_row():
    organization = OrganizationFactory()
    services = Service.objects.bulk_create(
        Service(organization=organization, name=f"Pantry {n}") for n in range(30)
    )
    locations = Location.objects.bulk_create(
        Location(
            organization=organization,
            name=f"Site {n}",
            latitude=Decimal("35.0") + Decimal(n) / 100,
            longitude=Decimal("-106.6"),
        )
        for n in range(10)
    )
    rng = random.Random(25)  # noqa: S311 - test data
    ServiceAtLocation.objects.bulk_create(
        ServiceAtLocation(service=service, location=rng.choice(locations)) for service in services
    )
    Language.objects.bulk_create(
        Language(location=location, code=rng.choice(["es", "vi", "zh"]))
        for location in locations[:5]
    )
    assert_every_row_exact()

    Service.objects.filter(name__endswith="1").update(status=ServiceStatus.INACTIVE)
    Service.objects.filter(name__endswith="2").update(name="Food bank")
    Location.objects.filter(pk__in=[loc.pk for loc in locations[:3]]).update(longitude=None)
    Language.objects.filter(code="vi").update(code="ar")
    Language.objects.filter(code="zh").delete()
    term = TaxonomyTermFactory(name="Groceries")
    Attribute.objects.bulk_create(Attribute(service=s, taxonomy_term=term) for s in services[:7])
    Capacity.objects.bulk_create(
        Capacity(service_at_location=sal, available=n % 3, total=5)
        for n, sal in enumerate(ServiceAtLocation.objects.all()[:12])
    )
    assert_every_row_exact()
    Capacity.objects.filter(available=0).update(available=4)
    Attribute.objects.filter(service__in=services[:3]).delete()
    assert_every_row_exact()


def test_a_deferred_refresh_leaves_the_rows_exact_on_the_way_out():
    """An HSDS import and the generator defer the search's upkeep (search_refresh_deferred):
    the places they write are noted, and their rows written once, on the way out, with the
    documents written just before."""
    with transaction.atomic(), search_refresh_deferred():
        service = Service.objects.create(organization=OrganizationFactory(), name="Dental van")
        sal = ServiceAtLocationFactory(service=service)
        LanguageFactory(service=service, code="es")
        capacity_update(service_at_location=sal, available=1, total=2)
        assert row(sal.pk) is None  # noted, not written yet
    assert (
        "'dental'" in row(sal.pk)["document"]
        and row(sal.pk)["languages"] == ["ES"]
        and row(sal.pk)["available"] == 1
    )
    assert_every_row_exact()
    with connection.cursor() as cursor:  # the notes went with the refresh
        cursor.execute("SELECT to_regclass('pg_temp.resources_searchplace_pending')")
        assert cursor.fetchone()[0] is None


def test_a_search_filters_and_orders_on_the_search_row_alone():
    """Status, referrals, text, a language, terms, places free, a radius and the order
    (distance, rank, name) are read on the search row: the page's keys join no service,
    location, document, language, attribute or capacity table, so PostgreSQL can combine the
    row's own indexes."""
    service = ServiceFactory(name="Night shelter", accepts_referrals=True)
    sal = ServiceAtLocationFactory(
        service=service, location=at("35.084400", "-106.650400", name="Here")
    )
    LanguageFactory(service=service, code="es")
    term = TaxonomyTermFactory(name="Emergency shelter")
    Attribute.objects.create(service=service, taxonomy_term=term)
    capacity_update(service_at_location=sal, available=2, total=9)
    here = Point(35.0844, -106.6504)
    found = service_search(
        text="shelter",
        near=here,
        radius_km=5,
        language="ES",
        accepts_referrals=True,
        taxonomy_terms=[term.public_id],
        has_capacity=True,
    )
    keys = str(found.values("pk").query)
    assert "resources_searchplace" in keys
    tables = ["service", "location", "language", "attribute", "capacity"]
    for table in tables:
        assert f'"resources_{table}"' not in keys, table
    assert [s.pk for s in found] == [sal.pk]
    assert found[0].distance_km == pytest.approx(0, abs=1e-6)
    assert str(service_search(language="es").values("pk").query).count("JOIN") == 1
    # Every status (the HSDS list), ordered by name: the row is joined inner all the same,
    # so the name order can walk its index.
    every_status = str(service_search(active_only=False).values("pk").query)
    assert 'INNER JOIN "resources_searchplace"' in every_status
