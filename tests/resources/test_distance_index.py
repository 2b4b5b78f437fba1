"""Distance on an index (#18): "within r km" and "nearest first" go through the GiST index on
locations (migration 0013, resources_earth_point), with the great-circle distances of the
haversine formula, and the index keeps working where the search path is restricted (autovacuum,
pg_restore, PostgreSQL 17's maintenance commands)."""

import math
import random

import pytest
from django.db import connection

from resources.models import EARTH_RADIUS_KM, Location
from resources.selectors import Point, chord_km, earth_box, service_search
from tests.factories import ServiceAtLocationFactory, ServiceFactory
from tests.resources.conftest import place

pytestmark = pytest.mark.django_db

HERE = Point(35.0844, -106.6504)


def haversine_km(a: Point, lat: float, lon: float) -> float:
    p1, p2 = math.radians(a.latitude), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@pytest.fixture
def scattered(db):
    rng = random.Random(18)  # noqa: S311 - test data
    for i in range(40):
        service = ServiceFactory(name=f"Service {i:02d}")
        place(service, f"Place {i}", rng.uniform(34.9, 35.3), rng.uniform(-106.9, -106.4))


def test_distances_are_the_haversine_great_circle_distances(scattered):
    for sal in service_search(near=HERE):
        lat, lon = float(sal.location.latitude), float(sal.location.longitude)
        assert sal.distance_km == pytest.approx(haversine_km(HERE, lat, lon), abs=1e-6)


def test_within_a_radius_is_exactly_the_places_within_it_nearest_first(scattered):
    everywhere = list(service_search(near=HERE))
    expected = [s.pk for s in everywhere if s.distance_km <= 12]
    assert 0 < len(expected) < len(everywhere)

    within = list(service_search(near=HERE, radius_km=12))

    assert [s.pk for s in within] == expected
    assert [s.distance_km for s in within] == sorted(s.distance_km for s in within)


def _plan(qs) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE resources_location")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: make the choice visible
        return qs.explain()


def test_the_radius_and_nearest_first_are_answered_by_the_gist_index(scattered):
    within = Location.objects.filter(earth_box(HERE, 5, location=""))  # the search's filter
    assert "resources_location_earth_idx" in _plan(within.values("id"))
    nearest = Location.objects.order_by(chord_km(HERE, location=""))  # the search's first key
    assert "resources_location_earth_idx" in _plan(nearest.values("id")[:5])


def test_the_index_expression_needs_no_search_path(scattered):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
        cursor.execute("SET LOCAL search_path = ''")
        cursor.execute(f"SELECT {schema}.resources_earth_point(35.0, -106.6)::text")
        assert cursor.fetchone()[0].startswith("(")
        # ANALYZE evaluates the index expression, as autovacuum does with its empty path.
        cursor.execute(f"ANALYZE {schema}.resources_location")


@pytest.fixture
def crowded(scattered):
    """Ties in distance: five services at each of four of the places (equal distances, broken
    by name then id), and a service elsewhere that is inactive (filtered out)."""
    from resources.models import ServiceAtLocation, ServiceStatus

    for sal in list(ServiceAtLocation.objects.order_by("id")[:4]):
        for i in range(5):
            ServiceAtLocationFactory(
                service=ServiceFactory(name=f"Tied {i % 3}"), location=sal.location
            )
    inactive = ServiceFactory(name="Closed down", status=ServiceStatus.INACTIVE)
    place(inactive, "Nearby", HERE.latitude, HERE.longitude)


# The statements that set and put back how a search with words is planned (search.py,
# _planned_without) around the search's own.
PLANNING = (
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
    "BEGIN",
    "COMMIT",
    "SELECT current_setting(",
    "SELECT set_config(",
)


def searched(captured) -> list[str]:
    """The search's own statements among those captured."""
    return [q["sql"] for q in captured if not q["sql"].startswith(PLANNING)]


@pytest.mark.parametrize(
    "filters",
    [{}, {"text": "tied"}, {"radius_km": 15}, {"has_capacity": False, "language": ""}],
    ids=["nearest", "text", "radius", "plain"],
)
def test_nearest_first_pages_walk_the_index_and_equal_the_uncut_search(crowded, filters):
    """page_keys cuts a nearest-first search to the reach of its stop-th match (so PostgreSQL
    walks the GiST index instead of sorting every match): every page, ties at its edge
    included, is the uncut search's, and the cut is in the statement."""
    from django.test.utils import CaptureQueriesContext

    from resources.selectors import counted_page_keys, page_keys
    from resources.selectors.directory.pages import SPARSE_MATCHES

    qs = service_search(near=HERE, **filters)
    everything = list(qs.values_list("pk", flat=True))
    assert len(everything) >= 10

    # Few matches (at most SPARSE_MATCHES): counted and sorted in one statement, no reach.
    for stop in range(1, len(everything) + 2):
        with CaptureQueriesContext(connection) as captured:
            keys = page_keys(qs, stop)
        assert keys == everything[:stop], stop
        assert [sql[:22] for sql in searched(captured)] == ["WITH matches AS MATERI"], stop
    # More of them (as the HSDS list's count tells page_keys): the cut.
    for stop in range(1, len(everything) + 2):
        with CaptureQueriesContext(connection) as captured:
            keys = page_keys(qs, stop, counted_past=SPARSE_MATCHES)
        assert keys == everything[:stop], stop
        # The reach (the nearest places' first `stop` matches), then the page in its cube;
        # past the last match (too sparse to cut) the page uncut.
        reach, page = searched(captured)
        assert (" <-> " in reach) and ("LIMIT" in reach)
        # The reach starts from the nearest places: a radius is read on its rows, not
        # searched by its cube (which PostgreSQL would walk whole).
        assert "cube_enlarge" not in reach
        cut = page.count("cube_enlarge") - str(qs.query).count("cube_enlarge")  # a radius's too
        assert cut == (1 if stop <= len(everything) else 0), stop
    # Counted, and few: the matches the count read are sorted, in the count's statement.
    for stop in (1, 3, len(everything)):
        with CaptureQueriesContext(connection) as captured:
            count, keys = counted_page_keys(qs, stop, limit=len(everything))
        assert (count, keys) == (len(everything), everything[:stop]), stop
        assert len(searched(captured)) == 1 and "knn_chord" not in searched(captured)[0]
    # More than the limit: the count alone (one more than the limit), no keys.
    assert counted_page_keys(qs, 3, limit=len(everything) - 1) == (len(everything), None)
    # Re-ordered, the search is no longer nearest first: no cut.
    by_name = qs.order_by("service__name", "id")
    expected = list(by_name.values_list("pk", flat=True)[:3])
    with CaptureQueriesContext(connection) as captured:
        assert page_keys(by_name, 3) == expected
    assert len(captured) == 1  # no reach query: the page as asked


@pytest.mark.parametrize("filters", [{}, {"text": "tied"}], ids=["nearest", "text"])
def test_matches_too_sparse_to_cut_are_found_by_the_filters_then_sorted(
    crowded, filters, monkeypatch
):
    """Fewer than `stop` matches among the nearest places: the search's own filters find the
    matches (at most SPARSE_MATCHES) and they are sorted, rather than every place being walked
    nearest first; past that many, the uncut search. The page is the uncut search's."""
    from django.test.utils import CaptureQueriesContext

    from resources.selectors import page_keys
    from resources.selectors.directory import pages as search

    qs = service_search(near=HERE, **filters)
    everything = list(qs.values_list("pk", flat=True))
    monkeypatch.setattr(search, "REACH_PLACES", 0)  # no place in reach: always too sparse
    with CaptureQueriesContext(connection) as captured:
        assert page_keys(qs, 5) == everything[:5]
    # (No place in reach: Django runs no reach query.) The count that sorts, and no other.
    (counted,) = searched(captured)
    assert counted.startswith("WITH matches AS MATERIALIZED")

    monkeypatch.setattr(search, "SPARSE_MATCHES", len(everything) - 1)
    with CaptureQueriesContext(connection) as captured:
        assert page_keys(qs, 5) == everything[:5]
    if "text" in filters:
        # Words walk the places nearest first, whatever the reach (the point and document's
        # index checks the words), until 5 match: then the page in their cube.
        counted, walk, page = searched(captured)
        assert "knn_chord" in walk and "cube_enlarge" in page
    else:
        counted, uncut = searched(captured)  # the count past SPARSE_MATCHES, the page
        assert not uncut.startswith("WITH matches")
    assert counted.startswith("WITH matches")


def test_a_radius_too_sparse_among_the_nearest_places_is_walked_nearest_first(crowded, monkeypatch):
    """Within a radius holding more matches than are sorted whole, when the nearest places
    hold some matches but fewer than the page: the places are walked nearest first until the
    page's matches are met (the radius bounds the walk), then the page in their cube; the
    page is the uncut search's."""
    from django.test.utils import CaptureQueriesContext

    from resources.selectors import page_keys
    from resources.selectors.directory import pages as search
    from resources.selectors.directory.pages import SPARSE_MATCHES

    qs = service_search(near=HERE, radius_km=15)
    everything = list(qs.values_list("pk", flat=True))
    monkeypatch.setattr(search, "REACH_PLACES", 1)  # the nearest `stop` places: one is closed
    walked = 0
    for stop in range(2, len(everything)):
        with CaptureQueriesContext(connection) as captured:
            keys = page_keys(qs, stop, counted_past=SPARSE_MATCHES)
        assert keys == everything[:stop], stop
        statements = searched(captured)
        if len(statements) == 3:  # the reach, the walk, the page in its cube
            reach, walk, page = statements
            assert "cube_enlarge" not in reach  # the nearest places, the radius read on them
            assert "knn_chord" in walk and "cube_enlarge" in walk and "LIMIT" in walk
            assert page.count("cube_enlarge") > str(qs.query).count("cube_enlarge")  # the cut
            assert any(q["sql"].startswith("SELECT set_config(") for q in captured)
            walked += 1
    assert walked > 3, walked


def test_the_hsds_list_counts_its_matches_once(crowded, monkeypatch):
    """The HSDS list counts the matches itself (paginate): past SPARSE_MATCHES, page_keys is
    told so and goes to the cut without counting them again."""
    from django.test.utils import CaptureQueriesContext

    from resources.api import hsds_pagination
    from resources.api.hsds_pagination import paginate
    from resources.selectors.directory import pages as search

    qs = service_search(near=HERE)
    everything = list(qs.values_list("pk", flat=True))
    monkeypatch.setattr(search, "SPARSE_MATCHES", 3)
    monkeypatch.setattr(hsds_pagination, "COUNT_CAP", 3)
    with CaptureQueriesContext(connection) as captured:
        rows, envelope = paginate(qs, page=1, per_page=2)

    assert [row.pk for row in rows] == everything[:2]
    assert envelope["total_items_capped"] is True
    counts = [q for q in captured if q["sql"].startswith("WITH matches")]
    assert len(counts) == 1
    assert [q for q in captured if "knn_chord" in q["sql"]]  # the cut's reach


def test_nearest_first_with_no_match_is_empty(scattered):
    from resources.selectors import page_keys

    assert page_keys(service_search(near=HERE, text="nothingatallhere"), 5) == []


def _settings() -> tuple[str, str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'),"
            " current_setting('enable_bitmapscan'), current_setting('enable_sort')"
        )
        return cursor.fetchone()


def test_words_are_planned_from_their_indexes_and_the_settings_are_put_back(crowded):
    """A search with words is counted from the indexes' bitmaps and walked nearest first
    through the point and document's GiST index (PostgreSQL, misjudging open now, would read
    every place in order or sort every match), with planner settings that hold for those
    statements only: put back after, within the caller's transaction too, and after an
    error."""
    from django.db import DatabaseError, transaction

    from resources.models import SearchPlace
    from resources.selectors.directory.pages import _planned_without
    from resources.selectors.directory.text import text_matches, text_query

    on = ("on", "on", "on", "on")
    with transaction.atomic():  # as a request in a transaction would call it
        assert _settings() == on
        with _planned_without(connection.alias, "bitmapscan", "sort"):
            assert _settings() == ("on", "on", "off", "off")
            walk = (
                SearchPlace.objects.filter(text_matches(text_query("tied"), place=""))
                .filter(point__isnull=False)  # as service_search near a point
                .order_by(chord_km(HERE, place=""))
                .values("pk")[:5]
            )
            assert "resources_searchplace_point_doc" in walk.explain()
        assert _settings() == on
        with _planned_without(connection.alias, "seqscan", "indexscan"):
            assert _settings() == ("off", "off", "on", "on")
        assert _settings() == on
        with (
            pytest.raises(DatabaseError),
            _planned_without(connection.alias, "sort"),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT 1 / 0")
        assert _settings() == on


def test_words_without_a_point_are_found_from_the_documents_gin_index(crowded):
    """The GiST index of the point and the document holds only rows with a point (migration
    0029), so a search of words alone, which cannot prove `point IS NOT NULL`, never reads
    its 134 MB of signatures (at 200,000 services) for what the document's GIN index answers
    in a few ms; PostgreSQL took it for words it expected few matches of."""
    from resources.models import SearchPlace
    from resources.selectors.directory.pages import _planned_without
    from resources.selectors.directory.text import text_matches, text_query

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'resources_searchplace_point_doc'"
        )
        (definition,) = cursor.fetchone()
    assert definition.endswith("WHERE (point IS NOT NULL)"), definition
    with _planned_without(connection.alias, "seqscan"):
        words = SearchPlace.objects.filter(text_matches(text_query("tied"), place="")).values("pk")
        plan = words.explain()
    assert "resources_searchplace_doc" in plan and "point_doc" not in plan, plan
