"""The heavy words of each search document (DocumentWeight, migration 0028) and the page of a
query read from them (heaviest_page_keys): the table follows every write of the documents, a
rank (of one word or several) is the sum of its words' weights, and the page found from the
heaviest documents is always the page of every match ranked, or not given at all."""

import importlib
import io
import itertools
import random

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from resources.models import DocumentWeight, Service, ServiceAtLocation
from resources.selectors import page_keys, service_search, text_search
from resources.selectors.directory import heaviest
from resources.selectors.directory.heaviest import (
    HEAVY,
    _lexeme_groups,
    heaviest_page_keys,
    ranked_words,
)
from resources.selectors.directory.text import (
    TEXT_WEIGHTS,
    WEIGHT_SCALE,
    any_of_lexemes,
    ranked_tsquery,
    text_query,
)
from resources.services import search_refresh_deferred
from tests.factories import (
    AttributeFactory,
    OrganizationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("resources.migrations.0028_document_weights")


def expected_weights() -> set[tuple[int, str, int]]:
    """(service, lexeme, weight) of every heavy word, read from the documents in Python."""
    levels = dict(zip("DCBA", (round(w * WEIGHT_SCALE) for w in TEXT_WEIGHTS), strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.service_id, u.lexeme, u.weights FROM resources_servicesearchdocument d,"
            " unnest(d.document) AS u"
        )
        rows = cursor.fetchall()
    found = set()
    for service_id, lexeme, weights in rows:
        weight = sum(levels[w] for w in weights)
        if weight >= HEAVY:
            found.add((service_id, lexeme, weight))
    return found


def stored_weights() -> set[tuple[int, str, int]]:
    return set(DocumentWeight.objects.values_list("service_id", "lexeme", "weight"))


def test_the_migrations_weights_are_five_times_the_ranks():
    levels = {
        letter: round(weight * WEIGHT_SCALE)
        for letter, weight in zip("DCBA", TEXT_WEIGHTS, strict=True)
    }
    assert levels == MIGRATION.LEVELS
    assert all(weight * WEIGHT_SCALE == round(weight * WEIGHT_SCALE) for weight in TEXT_WEIGHTS), (
        "whole numbers, so ranks compare exactly"
    )
    assert MIGRATION.HEAVY == HEAVY


def test_the_words_follow_every_write_of_the_documents(db):
    org = OrganizationFactory(name="Juniper Outreach")
    term = TaxonomyTermFactory(code="laundry-term", name="Laundry")
    service = ServiceFactory(
        organization=org, name="Laundry vouchers", description="Laundry on Tuesdays, laundry."
    )
    AttributeFactory(service=service, taxonomy_term=term)
    other = ServiceFactory(name="Quilt drive", description="Quilts")
    assert stored_weights() == expected_weights()
    assert ("laundri", 5 + 5 + 2 + 2) in {
        (lexeme, weight) for sid, lexeme, weight in stored_weights() if sid == service.pk
    }, "name, term, twice in the description"

    service.name = "Washers and dryers"
    service.save()
    org.name = "Mesa Friends"
    org.save()
    term.name = "Showers"
    term.save()
    Service.objects.filter(pk=other.pk).update(description="Blankets, quilts and quilts")
    assert stored_weights() == expected_weights()

    service.delete()
    assert stored_weights() == expected_weights()
    assert not DocumentWeight.objects.filter(service_id=service.pk).exists()

    with transaction.atomic(), search_refresh_deferred():
        for n in range(3):
            ServiceFactory(name=f"Deferred pantry {n}", organization=org)
        Service.objects.filter(pk=other.pk).update(name="Quilt and blanket drive")
    assert stored_weights() == expected_weights()


def test_an_unchanged_document_keeps_its_words_unwritten(db):
    """The refresh rewrites every document it is asked for; words of an unchanged one stay."""
    service = ServiceFactory(name="Laundry vouchers")
    sql = "SELECT xmin::text FROM resources_documentweight WHERE service_id = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [service.pk])
        written = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT resources_search_refresh(ARRAY[%s]::bigint[])", [service.pk])
        cursor.execute(sql, [service.pk])
        assert {row[0] for row in cursor.fetchall()} == written != set()


@pytest.mark.parametrize(
    ("tsquery", "lexemes"),
    [
        ("'shelter'", ["shelter"]),
        ("( 'shelter' | 'shelt' )", ["shelt", "shelter"]),
        ("( 'food' | 'food' ) | ( 'pantri' | 'pantry' )", ["food", "pantri", "pantry"]),
        ("( 'food' | 'food' ) & ( 'pantri' | 'pantry' )", None),
        ("'hot' <-> 'meal'", None),
        ("!'hot'", None),
    ],
)
def test_a_query_of_any_of_its_lexemes_is_told_from_others(tsquery, lexemes):
    assert any_of_lexemes(tsquery) == lexemes


@pytest.fixture
def generated(db):
    call_command("generate_directory", services=160, force=True, stdout=io.StringIO())


def _words() -> list[str]:
    """Words of the generated directory's names, and a misspelling of some."""
    names = Service.objects.order_by("id").values_list("name", flat=True)
    words = sorted({w for name in names for w in name.lower().split() if len(w) > 3})
    rng = random.Random(7)  # noqa: S311 - test data
    typos = [w[:2] + w[3:] for w in rng.sample(words, 8)]
    return [*words, *typos]


def _phrases() -> list[str]:
    """Two words standing together in the generated directory's names, and a misspelling of
    one word in some: queries of several words, all of which a match must hold."""
    names = Service.objects.order_by("id").values_list("name", flat=True)
    pairs = sorted(
        {" ".join(p) for name in names for p in itertools.pairwise(name.lower().split())}
    )
    rng = random.Random(5)  # noqa: S311 - test data
    chosen = rng.sample(pairs, min(len(pairs), 40))
    typos = [p[:2] + p[3:] for p in chosen[:10]]
    return [*chosen, *typos]


def test_a_rank_is_the_sum_of_its_words_weights(generated):
    """What heaviest_page_keys rests on: for a query asking for any of its lexemes (the rank
    of one word or of several), ts_rank_cd is the sum of the weights of their positions
    (each one a cover)."""
    checked = 0
    for word in [*_words(), *_phrases()]:
        query = text_query(word)
        lexemes = any_of_lexemes(query.rank_tsquery) if query else None
        if not lexemes:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT d.service_id, ts_rank_cd(%s::float4[], d.document,"
                " %s::tsquery), (SELECT coalesce(sum(CASE p WHEN 'A' THEN %s WHEN 'B' THEN %s"
                " WHEN 'C' THEN %s ELSE %s END), 0) FROM unnest(d.document) u,"
                " unnest(u.weights) p WHERE u.lexeme = ANY(%s))"
                " FROM resources_servicesearchdocument d WHERE d.document @@ %s::tsquery",
                [
                    list(TEXT_WEIGHTS),
                    query.rank_tsquery,
                    *(MIGRATION.LEVELS[x] for x in "ABCD"),
                    lexemes,
                    query.tsquery,
                ],
            )
            for _service, rank, weight in cursor.fetchall():
                assert rank == pytest.approx(weight / WEIGHT_SCALE, abs=1e-5), word
                checked += 1
    assert checked > 500


def _searches(word: str) -> list[tuple[str, object]]:
    services, ranked = text_search(Service.objects.all(), word, service="")
    searches = [
        ("places", service_search(text=word)),
        ("places taking referrals", service_search(text=word, accepts_referrals=True)),
        ("every status", service_search(text=word, active_only=False)),
    ]
    if ranked:
        searches.append(("services", services.order_by("-text_score", "name", "id")))
        # The admin's service list, filtered (ServiceAdmin.get_search_results).
        active = services.filter(status="active", accepts_referrals=True)
        searches.append(("active services", active.order_by("-text_score", "name", "pk")))
    return searches


def test_the_heaviest_documents_page_is_every_matchs_page_or_none(generated):
    """Random queries of one word and of two, filters and page ends over a generated
    directory (its services share names, so ranks tie in long runs): whenever
    heaviest_page_keys answers, it is the page of every match ranked; and it answers often
    enough to matter, for two words as for one."""
    rng = random.Random(11)  # noqa: S311 - test data
    answered = asked = 0
    answered_phrases = 0
    phrases = _phrases()
    for word in [*_words(), *phrases]:
        for label, qs in _searches(word):
            if ranked_tsquery(qs) is None:
                continue  # nothing to search for
            stop = rng.choice([1, 2, 5, 10, 20, 30])
            service = "pk" if qs.model is Service else "service_id"
            keys = heaviest_page_keys(qs, stop, service=service)
            asked += 1
            if keys is not None:
                answered += 1
                answered_phrases += word in phrases
                assert keys == list(qs.values_list("pk", flat=True)[:stop]), (word, label, stop)
    assert asked > 100 and answered > asked / 5, (answered, asked)
    assert answered_phrases > len(phrases) / 2, answered_phrases


def _every_answer_is_every_matchs_page(rng: random.Random) -> None:
    """heaviest_page_keys over the words, phrases and misspellings, each search and a random
    page length: every page it gives is the page of every match ranked."""
    for word in [*_words(), *_phrases()]:
        for label, qs in _searches(word):
            if ranked_tsquery(qs) is None:
                continue
            stop = rng.choice([1, 2, 5, 10, 20])
            service = "pk" if qs.model is Service else "service_id"
            keys = heaviest_page_keys(qs, stop, service=service)
            if keys is not None:
                assert keys == list(qs.values_list("pk", flat=True)[:stop]), (word, label, stop)


@pytest.mark.parametrize("tier", ["ranked", "in name order", "in name order by weights"])
def test_the_top_tier_page_is_every_matchs_page_or_none(generated, monkeypatch, tier):
    """The page read down one word's heaviest documents (_top_tier_keys), or its top tier
    read in name order (_top_tier_by_name, made to answer every tier here: the generated
    directory is small), is always the page of every match ranked, for one word and two,
    with filters; and each way answers often, in name order for places (their search rows
    ranked on the way, or their services' weights read) and for services (their weights)."""
    answers = {"ranked": 0, "in name order": 0}
    walked = {ServiceAtLocation: 0, Service: 0}
    tiered, by_name = heaviest._top_tier_keys, heaviest._top_tier_by_name

    def counted(way, found):
        def wrapper(*args, **kwargs):
            keys = found(*args, **kwargs)
            answers[way] += keys is not None
            if way == "in name order" and keys is not None:
                walked[args[0].model] += 1
            return keys

        return wrapper

    monkeypatch.setattr(heaviest, "_top_tier_keys", counted("ranked", tiered))
    monkeypatch.setattr(heaviest, "_top_tier_by_name", counted("in name order", by_name))
    if tier != "ranked":
        monkeypatch.setattr(heaviest, "TIER_RANKED", 0)
        # Places ranked on the way, or (none ranked so) read from their services' weights.
        places = 10**6 if tier == "in name order" else 0
        monkeypatch.setattr(heaviest, "TIER_WALK_MAX_PLACES", places)
        monkeypatch.setattr(heaviest, "TIER_WALK_MAX_NAMES", 10**6)
    _every_answer_is_every_matchs_page(random.Random(3))  # noqa: S311 - test data
    if tier == "ranked":
        assert answers["ranked"] > 10, answers
    else:
        assert walked[ServiceAtLocation] > 10 and walked[Service] > 5, walked


def test_ranks_are_whole_fifths_so_equal_sums_tie_exactly(generated):
    """text_score reads ts_rank_cd in whole fifths (every weight is one): equal sums of
    weights are one value, so the name orders them, as the top tier in name order needs."""
    for word in _words()[:30]:
        scores = service_search(text=word).values_list("text_score", flat=True)
        assert all(score * WEIGHT_SCALE == round(score * WEIGHT_SCALE) for score in scores)


def test_a_words_lexemes_are_grouped_as_its_rank_names_them():
    rank = "(('food' | 'food')) | (('pantri' | 'pantry') | ('pantr' | 'pantr'))"
    assert _lexeme_groups(rank) == [["food"], ["pantr", "pantri", "pantry"]]
    assert _lexeme_groups("('o''neil' | 'oneil') | ('oneil')") == [["o'neil", "oneil"]]
    assert _lexeme_groups("('a' & 'b') | ('c')") is None


def test_words_together_are_all_found_and_ranked_by_the_sum_of_their_weights(generated):
    """A place must hold every word of "food pantry" (or a correction of it), and is ranked
    by any of them: the sum of the weights of the places each word stands in."""
    qs = service_search(text="food pantry")
    assert any_of_lexemes(ranked_tsquery(qs)) == ["food", "pantri", "pantry"]
    found = list(qs)
    assert len(found) > 5
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(document @@ 'food'::tsquery"
            " AND document @@ 'pantri | pantry'::tsquery)"
            " FROM resources_servicesearchdocument WHERE service_id = ANY(%s)",
            [[place.service_id for place in found]],
        )
        assert cursor.fetchone() == (True,)
    assert heaviest_page_keys(qs, 5, service="service_id") == [p.pk for p in found[:5]]


def test_page_keys_reads_a_one_word_page_from_the_heaviest_documents(generated, monkeypatch):
    word = Service.objects.order_by("id").values_list("name", flat=True)[0].split()[0].lower()
    qs = service_search(text=word)
    everything = list(qs.values_list("pk", flat=True))
    assert len(everything) > 3
    # As if it had more matches than are sorted whole: the heaviest documents first.
    monkeypatch.setattr("resources.selectors.directory.pages.SPARSE_MATCHES", 2)
    with CaptureQueriesContext(connection) as ctx:
        keys = page_keys(qs, 3)
    assert keys == everything[:3]
    assert any("resources_documentweight" in q["sql"] for q in ctx.captured_queries)


def test_a_one_words_page_is_read_from_its_first_look_before_any_count(generated):
    """One word: its heaviest documents' first look proves a page, and its matches are not
    counted for nothing; two words are counted first (few matches, sorted whole)."""
    asked = answered = 0
    for word in _words()[:40]:
        for _label, qs in _searches(word)[:2]:  # the places, and those taking referrals
            if ranked_words(qs) != 1:
                continue
            asked += 1
            with CaptureQueriesContext(connection) as ctx:
                keys = page_keys(qs, 2)
            assert keys == list(qs.values_list("pk", flat=True)[:2]), word
            counted = any("WITH matches AS" in q["sql"] for q in ctx.captured_queries)
            answered += not counted
    assert asked > 20 and answered > asked / 4, (answered, asked)
    qs = service_search(text="food pantry")
    assert ranked_words(qs) == 2
    with CaptureQueriesContext(connection) as ctx:
        keys = page_keys(qs, 5)
    assert keys == list(qs.values_list("pk", flat=True)[:5])
    assert "WITH matches AS" in ctx.captured_queries[0]["sql"]


def test_the_admins_service_list_pages_a_one_word_search_from_the_heaviest_documents(
    client, admin_user, generated, monkeypatch
):
    """A case manager's search of the service list: the same rows in the same order as every
    match ranked, its page read from the heaviest documents when the matches are many."""
    word = Service.objects.order_by("id").values_list("name", flat=True)[0].split()[0].lower()
    services, _ranked = text_search(Service.objects.all(), word, service="")
    best = list(services.order_by("-text_score", "name", "id").values_list("pk", flat=True))
    assert len(best) > 3
    client.force_login(admin_user)
    monkeypatch.setattr("resources.selectors.directory.pages.SPARSE_MATCHES", 2)
    monkeypatch.setattr("resources.admin.ServiceAdmin.list_per_page", 3)

    with CaptureQueriesContext(connection) as ctx:
        first = client.get("/admin/resources/service/", {"q": word})
        second = client.get("/admin/resources/service/", {"q": word, "p": 2})

    assert first.status_code == second.status_code == 200
    assert [s.pk for s in first.context["cl"].result_list] == best[:3]
    assert [s.pk for s in second.context["cl"].result_list] == best[3:6]
    assert any("resources_documentweight" in q["sql"] for q in ctx.captured_queries)


def test_a_look_that_finds_no_new_candidates_is_not_asked_again(generated):
    """Past the stored heavy documents of every lexeme, a deeper look has the same candidates:
    each distinct set is ranked once, then every match."""
    word = Service.objects.order_by("id").values_list("name", flat=True)[0].split()[0].lower()
    qs = service_search(text=word)
    with CaptureQueriesContext(connection) as ctx:
        assert heaviest_page_keys(qs, 500, service="service_id") is None  # more than match
    pages = [q["sql"] for q in ctx.captured_queries if "resources_documentweight w ON" in q["sql"]]
    assert pages and len(pages) == len(set(pages))


def test_the_admins_list_sorted_by_a_column_pages_by_a_plain_slice(
    client, admin_user, generated, monkeypatch
):
    """Sorted by a column, many matches: a deep page is one OFFSET, not every key before it."""
    word = Service.objects.order_by("id").values_list("name", flat=True)[0].split()[0].lower()
    client.force_login(admin_user)
    monkeypatch.setattr("resources.selectors.directory.pages.SPARSE_MATCHES", 2)
    monkeypatch.setattr("resources.admin.ServiceAdmin.list_per_page", 2)

    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/resources/service/", {"q": word, "o": "1", "p": 2})

    assert response.status_code == 200
    keys = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith('SELECT "resources_service"."id" AS "pk" FROM')
    ]
    assert keys and "OFFSET 2" in keys[0]
    # No look down the heaviest documents; only the count may read their index
    # (documents_matching, a word's heavy documents first).
    looks = [
        q["sql"]
        for q in ctx.captured_queries
        if "resources_documentweight" in q["sql"] and "SELECT CASE WHEN" not in q["sql"]
    ]
    assert not looks


def test_no_look_reads_more_documents_than_the_cap(generated, monkeypatch):
    """Past MAX_HEAVY_CANDIDATES of the words' documents, every match is ranked instead:
    no candidates are ranked for nothing."""
    qs = service_search(text="food pantry")
    assert heaviest_page_keys(qs, 5, service="service_id") is not None
    monkeypatch.setattr(heaviest, "MAX_HEAVY_CANDIDATES", 3)
    # The looks alone: a word's top tier (its own test, above) reads places, not the looks.
    monkeypatch.setattr(heaviest, "_top_tier_keys", lambda *a, **k: None)
    with CaptureQueriesContext(connection) as ctx:
        assert heaviest_page_keys(qs, 5, service="service_id") is None
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]


def test_a_looks_candidates_are_read_from_their_services_not_from_the_words_matches(
    generated, monkeypatch
):
    # PostgreSQL guesses a few hundred documents for words thousands hold, so asked for the
    # rows of candidate services `IN (...)`, it read every match of the words from their
    # index and joined the candidates to them (a directory this small never tempts it): the
    # candidates are an array computed first, their rows found by the services' index.
    word = Service.objects.order_by("id").values_list("name", flat=True)[0].split()[0].lower()
    qs = service_search(text=word, accepts_referrals=True)
    monkeypatch.setattr("resources.selectors.directory.pages.SPARSE_MATCHES", 2)
    with CaptureQueriesContext(connection) as ctx:
        page_keys(qs, 3)
    looks = [q["sql"] for q in ctx.captured_queries if "SELECT w.service_id" in q["sql"]]
    assert looks
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in looks:
            assert '"service_id" = ANY(ARRAY(SELECT w.service_id' in sql, sql
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "resources_serviceatlocation_service_id" in plan, plan


def _left_out(stored, whole, held, floor):
    """What a document under `floor` may weigh in a lexeme (stored weights `stored`)."""
    lighter = [w for w, _c in stored if w < floor]
    if lighter:
        return max(lighter)
    if stored and not whole and floor <= stored[-1][0]:
        return None  # under the last weight read: unknown
    return HEAVY - 1 if held else 0


def test_planned_floors_are_the_cheapest_that_leave_out_only_lighter_documents():
    """planned_floors against every choice of floors, over random lexemes' weights: its
    floors leave out documents that weigh less than `below` in all, with no cheaper such
    choice; None exactly when none is within the cap."""
    rng = random.Random(13)  # noqa: S311 - test data
    for _case in range(400):
        lexemes = rng.randint(1, 4)
        weights, complete, light = [], [], []
        for _ in range(lexemes):
            stored = sorted(rng.sample(range(HEAVY, 18), rng.randint(0, 4)), reverse=True)
            weights.append([(w, rng.randint(1, 60)) for w in stored])
            complete.append(rng.random() < 0.7)
            light.append(bool(stored) or rng.random() < 0.5)
        below, most = rng.randint(1, 50), rng.randint(0, 150)
        # Every floor a lexeme may take: over its heaviest (none of its documents), or one of
        # its weights read (the last only when all were read).
        choices = []
        for stored, whole in zip(weights, complete, strict=True):
            floors = [stored[0][0] + 1 if stored else HEAVY]
            floors += [w for i, (w, _c) in enumerate(stored) if i + 1 < len(stored) or whole]
            choices.append(floors)
        best = None
        for floors in itertools.product(*choices):
            bound = cost = 0
            for stored, whole, held, floor in zip(weights, complete, light, floors, strict=True):
                bound += _left_out(stored, whole, held, floor)
                cost += sum(c for w, c in stored if w >= floor)
            if bound < below and cost <= most and (best is None or cost < best):
                best = cost
        plan = heaviest.planned_floors(weights, complete, light, below, most)
        if best is None:
            assert plan is None
            continue
        floors, bound = plan
        assert bound < below
        assert bound == sum(
            _left_out(stored, whole, held, floor)
            for stored, whole, held, floor in zip(weights, complete, light, floors, strict=True)
        )
        taken = zip(weights, floors, strict=True)
        assert sum(c for stored, f in taken for w, c in stored if w >= f) == best


def test_a_planned_look_gives_the_page_of_every_match_or_none(generated, monkeypatch):
    """A look planned from a full page's rank (_Planner): over the looks' random words,
    phrases, misspellings, filters and page lengths, whenever it answers the page is that of
    every match ranked, and it answers often (the generated directory is small: its planned
    candidates capped as low as the looks' to be asked)."""
    answered = []
    keys_of = heaviest._Planner.keys

    def watched(self, below):
        keys = keys_of(self, below)
        answered.append(keys is not None)
        return keys

    monkeypatch.setattr(heaviest._Planner, "keys", watched)
    monkeypatch.setattr(heaviest, "MAX_PLANNED_CANDIDATES", 60)
    _every_answer_is_every_matchs_page(random.Random(17))  # noqa: S311 - test data
    assert sum(answered) > 10, (sum(answered), len(answered))
