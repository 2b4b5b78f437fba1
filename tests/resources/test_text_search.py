"""Full-text search of the directory (#18): the search documents the triggers keep, the word
list typos are corrected from, the ranking, and the capped count of the HSDS envelope."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.api.hsds_pagination import COUNT_CAP, capped_count, paginate
from resources.models import (
    Attribute,
    DirectoryWord,
    Service,
    ServiceAtLocation,
    ServiceSearchDocument,
)
from resources.selectors import Point, service_search, services_list, text_query
from resources.services import directory_words_rebuild
from tests.factories import (
    AttributeFactory,
    OrganizationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)
from tests.resources.conftest import DOWNTOWN, place

pytestmark = pytest.mark.django_db
DOWNTOWN_POINT = Point(*DOWNTOWN)


def names(qs):
    return [row.service.name for row in qs]


def service_names(text):
    return [s.name for s in services_list(text=text)]


# --- the documents follow every write --------------------------------------------------------


def test_a_new_service_is_found_by_its_name_organization_terms_and_description(db):
    org = OrganizationFactory(name="Juniper Outreach")
    service = ServiceFactory(
        organization=org, name="Laundry vouchers", description="Free washers on Tuesdays."
    )
    AttributeFactory(service=service, taxonomy_term=TaxonomyTermFactory(code="food"))

    for text in ("laundry", "juniper", "food", "washers"):
        assert service_names(text) == ["Laundry vouchers"], text


def test_renaming_a_service_its_organization_or_a_term_moves_it_in_search(db):
    term = TaxonomyTermFactory(code="quilts-term", name="Quilts")
    org = OrganizationFactory(name="Mesa Friends")
    service = ServiceFactory(organization=org, name="Blanket drive")
    AttributeFactory(service=service, taxonomy_term=term)

    # One at a time: each change must move the document by itself.
    Service.objects.filter(pk=service.pk).update(name="Coat drive")  # a queryset update
    assert (service_names("coat"), service_names("blanket")) == (["Coat drive"], [])
    org.name = "Sandia Friends"
    org.save()
    assert (service_names("sandia"), service_names("mesa")) == (["Coat drive"], [])
    term.name = "Bedding"
    term.save()
    assert (service_names("bedding"), service_names("quilts")) == (["Coat drive"], [])


def test_removing_a_term_takes_its_words_out_of_the_document(db):
    service = ServiceFactory(name="Drop-in center")
    AttributeFactory(
        service=service, taxonomy_term=TaxonomyTermFactory(code="hygiene-x", name="Hygiene")
    )
    assert service_names("hygiene") == ["Drop-in center"]

    Attribute.objects.filter(service=service).delete()

    assert service_names("hygiene") == []


def test_deleting_a_service_deletes_its_document(db):
    service = ServiceFactory(name="Temporary site")
    AttributeFactory(service=service, taxonomy_term=TaxonomyTermFactory(code="food"))

    service.delete()  # Django deletes the attributes first: the trigger rewrites, then cascades

    assert not ServiceSearchDocument.objects.filter(service_id=service.pk).exists()


def test_bulk_created_services_get_documents_in_one_pass(db):
    org = OrganizationFactory(name="Bulk Org")
    Service.objects.bulk_create(
        [Service(organization=org, name=f"Bulk service {i}") for i in range(50)]
    )

    assert ServiceSearchDocument.objects.filter(service__organization=org).count() == 50


def test_generated_directory_has_a_document_per_service(db):
    call_command("generate_directory", services=40, force=True, stdout=io.StringIO())

    assert ServiceSearchDocument.objects.count() == Service.objects.count() == 40
    assert services_list(text="shelter").exists()


def test_hsds_import_writes_search_documents(tmp_path, db):
    from tests.resources.test_hsds_import import EXAMPLES, run

    run(EXAMPLES / "service_at_location_list.json")

    assert ServiceSearchDocument.objects.count() == Service.objects.count() > 0
    name = Service.objects.first().name
    assert name in service_names(name)


# --- the word list ---------------------------------------------------------------------------


def test_new_words_join_the_word_list_at_once_and_the_rebuild_drops_unused_ones(db):
    service = ServiceFactory(name="Xeriscape garden jobs")
    assert DirectoryWord.objects.filter(word="xeriscape").exists()

    Service.objects.filter(pk=service.pk).update(name="Garden jobs")
    assert DirectoryWord.objects.filter(word="xeriscape").exists()  # triggers only add
    directory_words_rebuild()

    assert not DirectoryWord.objects.filter(word="xeriscape").exists()
    garden = DirectoryWord.objects.get(word="garden")
    assert garden.ndoc == 1


def test_the_rebuild_task_is_a_maintenance_task_taking_no_arguments(db):
    from acs.queues import MAINTENANCE, TASK_KINDS
    from resources.tasks import rebuild_directory_words

    ServiceFactory(name="Tortilla kitchen")
    DirectoryWord.objects.all().delete()

    assert rebuild_directory_words() >= 2
    assert TASK_KINDS[rebuild_directory_words.name] == MAINTENANCE
    assert DirectoryWord.objects.filter(word="tortilla").exists()


# --- misspellings ------------------------------------------------------------------------------


def test_misspelt_words_are_corrected_from_the_directory_words(directory):
    assert names(service_search(text="fod pantry")) == ["Food pantry"]
    assert names(service_search(text="clnic")) == ["Walk-in clinic"]
    assert names(service_search(text="stabilisation")) == ["Crisis stabilization"]


def test_a_swap_of_two_letters_in_a_short_word_is_one_edit(directory):
    # "pnatry": trigram similarity to "pantry" is only 0.17; one swap away (rapidfuzz OSA).
    query = text_query("pnatry")

    assert query is not None and query.corrections == {"pnatry": ["pantry"]}
    assert names(service_search(text="pnatry")) == ["Food pantry"]
    assert names(service_search(text="crisis detxo")) == ["Crisis stabilization"]
    # A short word takes one edit at most, a swap included: "fodo" is 0.25 similar to "food".
    query = text_query("fodo")
    assert query is not None and query.corrections == {"fodo": ["food"]}


def test_a_words_group_names_each_lexeme_once(directory):
    """A word, its English and Spanish stems and its corrections name each lexeme once:
    PostgreSQL estimates an OR of lexemes as if each were another word, and took a
    misspelling's matches for six times as many (docs/directory.md, "Text search")."""
    ServiceFactory(name="Naloxone kits")

    query = text_query("naloxon")

    assert query is not None and query.corrections == {"naloxon": ["naloxone"]}
    assert query.tsquery == "('naloxon')"  # was (('naloxon' | 'naloxon') | ('naloxon' | 'naloxon'))
    assert [s.name for s in services_list(text="naloxon")] == ["Naloxone kits"]
    together = text_query("naloxon pantry")
    assert together is not None
    assert together.rank_tsquery == "('naloxon') | ('pantri' | 'pantry')"


def test_a_stop_word_is_never_a_correction(directory):
    ServiceFactory(name="Shoes for kids")

    query = text_query("fod")

    assert query is not None
    assert "for" not in query.corrections.get("fod", [])


def test_a_known_word_is_not_corrected(directory):
    query = text_query("pantry")

    assert query is not None and query.corrections == {}


def test_only_stop_words_find_nothing(directory):
    assert text_query("the of") is None
    assert names(service_search(text="the of")) == []


# --- meaning and order -------------------------------------------------------------------------


def test_english_and_spanish_stemming_find_other_forms_of_a_word(directory):
    ServiceFactory(name="Comedor comunitario", description="Comidas calientes cada día.")

    assert names(service_search(text="shelters")) == ["Overnight emergency shelter"]
    assert service_names("comida") == ["Comedor comunitario"]  # no place: services_list


def test_every_word_must_match_unless_no_service_has_them_all(directory):
    # "walk-in" is in the clinic's name and in two descriptions; with "care" only the
    # crisis service and the clinic hold both.
    assert set(names(service_search(text="walk-in care"))) == {
        "Crisis stabilization",
        "Walk-in clinic",
    }
    query = text_query("pantry zzyzx")
    assert query is not None and not query.all_words
    assert names(service_search(text="pantry zzyzx")) == ["Food pantry"]


def test_a_word_in_the_name_outranks_the_same_word_in_a_description(directory):
    org = OrganizationFactory(name="Westside Partners")
    in_description = ServiceFactory(
        organization=org, name="Day program", description="Groceries and a hot meal."
    )
    in_name = ServiceFactory(organization=org, name="Groceries to go")
    place(in_description, "Westside A", 35.08, -106.70)
    place(in_name, "Westside B", 35.08, -106.71)

    results = list(service_search(text="groceries"))

    assert names(results)[0] == "Groceries to go"
    scores = {r.service.name: r.text_score for r in results}
    assert scores["Groceries to go"] > scores["Day program"]
    assert all(0 < r.rank <= 1 for r in results)


def test_text_search_query_count_is_fixed(directory):
    with CaptureQueriesContext(connection) as one_word:
        list(service_search(text="shelter"))
    with CaptureQueriesContext(connection) as two_words:
        list(service_search(text="overnight shelter"))

    # The words (one query: the stop words and corrections, one: their tsqueries), whether
    # any document holds them all (several words only), the page, its three prefetches.
    assert len(one_word.captured_queries) == 6
    assert len(two_words.captured_queries) == 7


# --- counts that do not cost a scan ------------------------------------------------------------


def test_a_count_is_exact_up_to_the_cap_and_a_lower_bound_past_it(directory, settings):
    qs = ServiceAtLocation.objects.all()
    assert capped_count(qs) == (4, False)

    from resources.api import hsds_pagination

    hsds_pagination.COUNT_CAP = 2
    try:
        assert capped_count(qs) == (3, True)
        rows, envelope = paginate(qs.order_by("id"), page=1, per_page=1)
        assert envelope["total_items"] == 3 and envelope["total_items_capped"] is True
        assert (envelope["total_pages"], envelope["last_page"]) == (3, False)
        # Asking for a later page counts at least to its end: the pages keep coming.
        rows, envelope = paginate(qs.order_by("id"), page=3, per_page=1)
        assert len(rows) == 1
        assert (envelope["total_pages"], envelope["last_page"]) == (4, False)
        rows, envelope = paginate(qs.order_by("id"), page=4, per_page=1)
        assert envelope == {
            "total_items": 4,
            "total_pages": 4,
            "page_number": 4,
            "size": 1,
            "first_page": False,
            "last_page": True,
            "empty": False,
        }
    finally:
        hsds_pagination.COUNT_CAP = COUNT_CAP


def test_a_page_keeps_the_order_of_the_search(directory):
    from resources.selectors import Point
    from tests.resources.conftest import DOWNTOWN

    nearest_first = service_search(near=Point(*DOWNTOWN))

    with CaptureQueriesContext(connection) as ctx:
        rows, _ = paginate(nearest_first, page=1, per_page=3)
    # Four matches, counted exactly: sorted whole, with no nearest-first cut (its reach query
    # reads the nearest places' `knn_chord` and costs more than sorting a few matches).
    assert not [q for q in ctx.captured_queries if "knn_chord" in q["sql"]]
    assert (
        names(rows)
        == names(nearest_first)[:3]
        == [
            "Food pantry",
            "Overnight emergency shelter",
            "Crisis stabilization",
        ]
    )
    rows, _ = paginate(nearest_first, page=2, per_page=3)
    assert names(rows) == ["Walk-in clinic"]


@pytest.mark.parametrize("cap", [1000, 2], ids=["counted-and-sorted", "capped"])
@pytest.mark.parametrize(
    "search",
    [
        {"text": "shelter food detox clinic"},
        {"text": "shelter detox pantry", "near": DOWNTOWN_POINT},
        {"near": DOWNTOWN_POINT, "radius_km": 5},
        {"language": "es"},
        {},
    ],
    ids=["ranked", "ranked-near", "within", "language", "by-name"],
)
def test_every_page_is_the_searchs_own_slice_whether_its_count_is_capped_or_not(
    directory, search, cap
):
    """paginate sorts the matches its count read when they are few, and asks page_keys past the
    cap: either way each page is the search's own rows in its order."""
    from resources.api import hsds_pagination

    qs = service_search(**search)
    everything = [row.pk for row in qs]
    assert len(everything) >= 2, "a page after the first"
    hsds_pagination.COUNT_CAP = cap
    try:
        for page in range(1, len(everything) + 2):
            rows, envelope = paginate(qs, page=page, per_page=1)
            assert [row.pk for row in rows] == everything[page - 1 : page], (page, envelope)
    finally:
        hsds_pagination.COUNT_CAP = COUNT_CAP


@pytest.mark.parametrize("text", ["the", "%", "(a+)+$"])
def test_a_text_with_nothing_to_search_for_pages_to_nothing_without_a_query(directory, text):
    with CaptureQueriesContext(connection) as ctx:
        queryset = service_search(text=text)
    with CaptureQueriesContext(connection) as paging:
        rows, envelope = paginate(queryset, page=1, per_page=20)
    assert (rows, envelope["total_items"], envelope["empty"]) == ([], 0, True)
    assert len(paging.captured_queries) == 0, len(ctx.captured_queries)


def test_the_count_query_reads_a_bounded_number_of_rows_without_ranking(directory):
    with CaptureQueriesContext(connection) as ctx:
        capped_count(service_search(text="shelter"))

    (sql,) = [q["sql"] for q in ctx.captured_queries if "COUNT(*)" in q["sql"]]
    assert re.search(rf"LIMIT {COUNT_CAP + 1}\b", sql)
    assert "ts_rank_cd" not in sql and "ORDER BY" not in sql


def test_the_document_index_keeps_a_short_pending_list(db):
    # Every search reads GIN's pending list whole and the planner prices the index by it: with
    # the server's 4 MB a search of "shelter" at 20,000 services took a sequential scan of
    # every document (migration 0022).
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'resources_search_doc_gin'")
        assert cursor.fetchone()[0] == ["gin_pending_list_limit=128"]


def test_services_have_an_index_in_the_directorys_order(db):
    # A page ordered by name (a term, places free, a language) walks it until it is full
    # instead of sorting every match: 172 ms -> 14 ms at 200,000 services (migration 0023).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'resources_service_name_idx'"
        )
        assert cursor.fetchone()[0].endswith("ON public.resources_service USING btree (name, id)")


def test_the_application_connections_do_not_jit_compile(db):
    # PostgreSQL compiled the directory's larger plans for 50-60 ms each (acs/settings/__init__.py).
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_application_connections_start_no_parallel_workers(db):
    # Starting a worker cost more than the directory's statements take (acs/settings/__init__.py).
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"


def test_the_application_connections_cost_random_reads_as_cached(db):
    # At the default 4 the planner hashed every service at a location to join a few hundred
    # search rows rather than look each up by key (acs/settings/__init__.py).
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


def test_the_hsds_page_says_when_total_items_is_a_lower_bound(client, directory):
    from resources.api import hsds_pagination

    hsds_pagination.COUNT_CAP = 2
    try:
        body = client.get("/api/hsds/service_at_locations", {"per_page": 1}).json()
    finally:
        hsds_pagination.COUNT_CAP = COUNT_CAP

    assert body["total_items"] == 3 and body["total_items_capped"] is True
    assert "total_items_capped" not in client.get("/api/hsds/services").json()


# --- the benchmark's recall measure ------------------------------------------------------------


def test_bench_text_search_prints_recall_precision_and_the_plain_sql_floor(db):
    call_command("generate_directory", services=60, force=True, stdout=io.StringIO())
    stdout = io.StringIO()

    call_command(
        "bench_directory_search",
        queries=10,
        only=["typo", "recall"],
        http=False,
        force=True,
        stdout=stdout,
        stderr=io.StringIO(),
    )

    output = stdout.getvalue()
    times = r"[\d.]+/[\d.]+/[\d.]+"
    for label in ("a misspelt word", "misspellings (recall)"):
        # in process and the plain SQL floor (the corrected tsquery over the search documents)
        assert re.search(
            rf"^{re.escape(label)} +in-process {times} +http - +sql {times} ", output, re.M
        ), label
    found = re.search(r"recall@20 ([\d.]+)  precision@20 ([\d.]+)  \(10 misspelt", output)
    assert found and float(found[1]) > 0.5
