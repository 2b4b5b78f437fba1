"""service_search: each filter alone, combined, distance ordering, and a bounded query count."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.errors import DomainError
from resources.models import Capacity, Service, ServiceStatus
from resources.selectors import Point, service_search
from tests.factories import ScheduleFactory, ServiceFactory
from tests.resources.conftest import DOWNTOWN, place

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
HERE = Point(*DOWNTOWN)
# Tuesday 24 November 2026.
TUESDAY_11PM = datetime(2026, 11, 24, 23, 0, tzinfo=DENVER)
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=DENVER)


def names(qs):
    return [sal.service.name for sal in qs]


def test_without_filters_every_active_service_is_listed_by_name(directory):
    assert names(service_search()) == [
        "Crisis stabilization",
        "Food pantry",
        "Overnight emergency shelter",
        "Walk-in clinic",
    ]


def test_inactive_services_are_left_out(directory):
    Service.objects.filter(name="Food pantry").update(status=ServiceStatus.INACTIVE)

    assert "Food pantry" not in names(service_search())


def test_text_search_tolerates_a_typo(directory):
    assert names(service_search(text="shleter")) == ["Overnight emergency shelter"]


def test_text_search_matches_organization_names(directory):
    assert names(service_search(text="casa de paz")) == ["Overnight emergency shelter"]


def test_text_search_matches_taxonomy_term_names_and_ranks_them_first(directory):
    # "Detox" is only the name of the crisis service's taxonomy term.
    results = list(service_search(text="detox"))

    assert results[0].service.name == "Crisis stabilization"
    assert results[0].rank == pytest.approx(1.0)
    # Trigram matching is loose ("de" in "Casa de Paz"), but such matches rank far below.
    assert all(r.rank < 0.5 for r in results[1:])


def test_text_search_ranks_the_exact_word_first(directory):
    results = list(service_search(text="pantry"))

    assert results[0].service.name == "Food pantry"
    assert results[0].rank == pytest.approx(1.0)


def test_text_search_without_a_match_is_empty(directory):
    assert names(service_search(text="veterinarian")) == []


def test_taxonomy_filter_includes_the_children_of_a_term(directory):
    from tests.factories import TaxonomyTermFactory

    shelter_parent = TaxonomyTermFactory(code="shelter")

    assert names(service_search(taxonomy_terms=[shelter_parent.public_id])) == [
        "Overnight emergency shelter"
    ]
    assert names(service_search(taxonomy_terms=[directory["terms"]["food"]])) == ["Food pantry"]


def test_language_matches_the_service_or_the_location(directory):
    assert names(service_search(language="es")) == [
        "Crisis stabilization",  # Spanish spoken at the location
        "Overnight emergency shelter",  # Spanish spoken by the service
    ]
    assert names(service_search(language="ES")) == names(service_search(language="es"))


def test_open_now_at_eleven_pm_finds_the_overnight_shelter_and_the_24_7_center(directory):
    assert names(service_search(open_now=True, at=TUESDAY_11PM)) == [
        "Crisis stabilization",
        "Overnight emergency shelter",
    ]


def test_open_now_at_noon_finds_daytime_services(directory):
    assert names(service_search(open_now=True, at=TUESDAY_NOON)) == [
        "Crisis stabilization",
        "Food pantry",
        "Walk-in clinic",
    ]


def test_open_now_respects_a_holiday_closure_on_the_location(directory):
    ScheduleFactory(
        location=directory["pantry"].location, closed=True, valid_from=TUESDAY_NOON.date()
    )

    assert "Food pantry" not in names(service_search(open_now=True, at=TUESDAY_NOON))


def test_open_now_uses_the_service_at_location_hours_before_the_service_hours(directory):
    ScheduleFactory(
        service_at_location=directory["pantry"], byday="SA", opens_at="10:00", closes_at="12:00"
    )

    assert "Food pantry" not in names(service_search(open_now=True, at=TUESDAY_NOON))


def test_services_without_hours_are_never_open_now(directory):
    no_hours = ServiceFactory(name="Mobile pantry")
    place(no_hours, "Mobile pantry stop", 35.08, -106.65)

    assert "Mobile pantry" in names(service_search(text="pantry"))
    assert "Mobile pantry" not in names(service_search(open_now=True, at=TUESDAY_NOON))


def test_service_hours_apply_at_every_location_of_the_service(directory):
    place(Service.objects.get(name="Food pantry"), "Pantry annex", 35.08, -106.65)

    open_pantries = [
        sal.location.name for sal in service_search(open_now=True, at=TUESDAY_NOON, text="pantry")
    ]
    assert open_pantries == ["Pantry", "Pantry annex"]


def test_has_capacity_needs_places_free(directory):
    assert names(service_search(has_capacity=True)) == ["Overnight emergency shelter"]


def test_has_capacity_leaves_out_stale_figures(directory, settings):
    settings.CAPACITY_STALE_AFTER = timedelta(hours=2)
    Capacity.objects.update(updated_at=timezone.now() - timedelta(hours=3))

    assert names(service_search(has_capacity=True)) == []


def test_accepts_referrals(directory):
    assert names(service_search(accepts_referrals=True)) == [
        "Crisis stabilization",
        "Overnight emergency shelter",
    ]
    assert "Crisis stabilization" not in names(service_search(accepts_referrals=False))


def test_near_a_point_orders_by_great_circle_distance(directory):
    results = list(service_search(near=HERE))

    assert names(results) == [
        "Food pantry",
        "Overnight emergency shelter",
        "Crisis stabilization",
        "Walk-in clinic",
    ]
    distances = [r.distance_km for r in results]
    assert distances == sorted(distances)
    # Downtown to the crisis center is about 2.85 km; to Santa Fe about 93 km.
    assert distances[2] == pytest.approx(2.85, abs=0.05)
    assert distances[3] == pytest.approx(93, abs=2)


def test_radius_leaves_out_places_beyond_it(directory):
    assert names(service_search(near=HERE, radius_km=2)) == [
        "Food pantry",
        "Overnight emergency shelter",
    ]


def test_radius_out_of_range_is_a_domain_error(directory):
    with pytest.raises(DomainError):
        service_search(near=HERE, radius_km=0)
    with pytest.raises(DomainError):
        Point(91, 0)


def test_the_eleven_pm_street_corner_query_combines_every_filter(directory):
    results = service_search(
        text="shelter",
        open_now=True,
        at=TUESDAY_11PM,
        near=HERE,
        radius_km=5,
        has_capacity=True,
        language="es",
        accepts_referrals=True,
        taxonomy_terms=[directory["terms"]["shelter"]],
    )

    assert names(results) == ["Overnight emergency shelter"]


def test_combined_filters_exclude_when_any_one_fails(directory):
    # The detox is open and near and speaks Spanish, but has no beds free.
    assert names(
        service_search(open_now=True, at=TUESDAY_11PM, language="es", has_capacity=True)
    ) == ["Overnight emergency shelter"]


def test_query_count_does_not_grow_with_the_number_of_results(directory):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            results = list(
                service_search(text="food pantry", open_now=True, at=TUESDAY_NOON, near=HERE)
            )
            for sal in results:
                _ = (
                    sal.service.organization.name,
                    sal.location.name,
                    list(sal.location.addresses.all()),
                )
                _ = [lang.code for lang in sal.service.languages.all()]
                _ = [a.taxonomy_term.taxonomy.name for a in sal.service.attributes.all()]
                _ = getattr(sal, "capacity", None)
        return len(ctx.captured_queries), len(results)

    few_queries, _ = count_queries()
    pantry = Service.objects.get(name="Food pantry")
    for i in range(6):
        place(pantry, f"Pantry {i}", 35.08 + i / 1000, -106.65)
    many_queries, many = count_queries()

    assert many > 1
    assert many_queries == few_queries


def threshold() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        return cursor.fetchone()[0]


def test_text_search_leaves_the_word_similarity_threshold_at_its_default(directory):
    # The GIN prefilter lowers it for its own queries only; resident search needs 0.6.
    assert names(service_search(text="shleter")) == ["Overnight emergency shelter"]

    assert threshold() == "0.6"


def test_text_search_finds_a_description_word_through_the_trigram_prefilter(directory):
    assert names(service_search(text="groceries")) == ["Food pantry"]


def test_text_search_uses_the_document_gin_index_and_the_word_trigram_index(directory):
    # Replaces the test of the trigram prefilter (text_candidates), which full-text search
    # replaced (#18): the documents are found through their GIN index, corrections through
    # the GiST trigram index of the word list.
    from resources.selectors import text_query

    with CaptureQueriesContext(connection) as ctx:
        query = text_query("shleter")
    assert query is not None and query.corrections == {"shleter": ["shelter"]}
    assert any("resources_directoryword" in q["sql"] for q in ctx.captured_queries)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT service_id FROM resources_servicesearchdocument "
            "WHERE document @@ %s::tsquery",
            [query.tsquery],
        )
        documents = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(
            "EXPLAIN SELECT word FROM resources_directoryword ORDER BY word <-> 'shleter' LIMIT 3"
        )
        words = "\n".join(row[0] for row in cursor.fetchall())
    assert "resources_search_doc_gin" in documents
    assert "resources_dirword_trgm" in words
