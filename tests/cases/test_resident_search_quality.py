"""Resident search finds the person as a responder types the name they heard (issue 17): a
typo in every word, the words swapped, a nickname, another spelling, no accents, one part of
a two-part surname. Through the selector, and through each door: the field API, the admin's
resident search and the duplicate check."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import Resident
from cases.selectors import normalize_name, resident_candidates
from cases.services import PossibleDuplicates, resident_create, resident_possible_duplicates

pytestmark = pytest.mark.django_db

PEOPLE = {
    "william": ("", "William Smith", date(1970, 5, 2)),
    "sunny": ("Sunny", "Sunny Begay", date(1985, 8, 19)),
    "john": ("", "John Chavez", date(1992, 1, 30)),
    "jose": ("José", "José García", date(1966, 11, 3)),
    "maria": ("", "María García-López", date(1979, 3, 14)),
    "guadalupe": ("", "Guadalupe Tafoya", date(1958, 6, 6)),
    "katherine": ("Kathy", "Katherine Montoya Vigil", date(2001, 12, 24)),
}
# Others with names near theirs, so "found" means "ranked above these".
NEIGHBOURS = [
    "Willa Smithers",
    "Sunday Benally",
    "Johnny Chee",
    "Josefina Garza",
    "Mario Lopez",
    "Maria Garcia",
    "Guadalupe Trujillo",
    "Lupe Torres",
    "Kathryn Montano",
    "Bill Smithson",
    "Juan Chavez",
    "Sonny Begaye",
]

VARIANTS = [
    ("typo in each word", "Wiliam Smtih", "william"),
    ("typo in each word", "Suny Bgeay", "sunny"),
    ("typo in each word", "Gaudalupe Tafyoa", "guadalupe"),
    ("swapped", "Smith William", "william"),
    ("swapped", "Tafoya, Guadalupe", "guadalupe"),
    ("nickname", "Bill Smith", "william"),
    ("nickname", "Lupe Tafoya", "guadalupe"),
    ("nickname", "Pepe Garcia", "jose"),
    ("spelling", "Sunnie Begay", "sunny"),
    ("spelling", "Jon Chavez", "john"),
    ("spelling", "Catherine Montoya", "katherine"),
    ("accents", "Jose Garcia", "jose"),
    ("accents", "Maria Garcia Lopez", "maria"),
    ("hyphen", "María Garcia Lopez", "maria"),
    ("hyphen", "Maria Lopez", "maria"),
    ("hyphen", "Maria Garcia-Lopez", "maria"),
    ("two-part surname", "Katherine Montoya-Vigil", "katherine"),
    ("two-part surname", "Kathy Vigil", "katherine"),
]


@pytest.fixture
def people(case_manager):
    for name in NEIGHBOURS:
        resident_create(actor=case_manager, data={"legal_name": name}, confirm_new=True)
    return {
        key: resident_create(
            actor=case_manager,
            data={
                "preferred_name": preferred,
                "legal_name": legal,
                "date_of_birth": born,
                "dob_quality": "full",
            },
            confirm_new=True,
        )
        for key, (preferred, legal, born) in PEOPLE.items()
    }


def first_five(name, date_of_birth=None):
    return [m.resident for m in resident_candidates(name=name, date_of_birth=date_of_birth)][:5]


def test_names_are_normalized_without_accents_hyphens_or_apostrophes():
    assert normalize_name("  María  García-López ") == "maria garcia lopez"
    assert normalize_name("O'Brien, Tío") == "obrien tio"


@pytest.mark.parametrize(("kind", "query", "who"), VARIANTS, ids=[v[1] for v in VARIANTS])
def test_the_person_is_in_the_first_five(people, kind, query, who):
    assert people[who] in first_five(query)


@pytest.mark.parametrize(("kind", "query", "who"), VARIANTS, ids=[v[1] for v in VARIANTS])
def test_with_the_date_of_birth_the_person_comes_first(people, kind, query, who):
    assert first_five(query, PEOPLE[who][2])[0] == people[who]


def test_a_date_of_birth_ranks_above_an_unknown_one(people, case_manager):
    unknown = resident_create(
        actor=case_manager, data={"legal_name": "Sunny Begay"}, confirm_new=True
    )

    found = first_five("Sunnie Begay", PEOPLE["sunny"][2])

    assert found[:2] == [people["sunny"], unknown]


def test_a_name_matching_nobody_finds_nobody(people):
    assert first_five("Xochitl Quintanilla") == []


def test_the_field_api_finds_a_misspelt_nickname(client, responder, people):
    client.force_login(responder)

    response = client.post(
        "/api/v1/field/residents/search",
        {"name": "Bill Smtih", "date_of_birth": "1970-05-02"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == str(people["william"].public_id)


def test_the_admin_search_finds_a_name_typed_with_a_typo_in_each_word(client, case_manager, people):
    client.force_login(case_manager)

    response = client.post("/admin/cases/resident/search/", {"name": "Sunnei Begya"}, follow=True)

    assert response.status_code == 200
    assert people["sunny"] in list(response.context["cl"].result_list)


def test_the_duplicate_check_finds_the_same_person_by_a_nickname(case_manager, people):
    data = {"legal_name": "Bill Smith", "date_of_birth": date(1970, 5, 2)}

    assert people["william"] in resident_possible_duplicates(actor=case_manager, data=data)
    with pytest.raises(PossibleDuplicates):
        resident_create(actor=case_manager, data=data)


def test_the_field_app_refuses_a_twin_typed_without_accents(client, responder, people):
    client.force_login(responder)

    response = client.post(
        "/api/v1/field/residents",
        {"legal_name": "Maria Lopez", "date_of_birth": "1979-03-14"},
        content_type="application/json",
    )

    assert response.status_code == 409
    ids = [c["id"] for c in response.json()["error"]["candidates"]]
    assert str(people["maria"].public_id) in ids


def test_search_keys_follow_the_names(case_manager, people):
    """Kept current by the services: a changed name is found under its new words."""
    from cases.services import resident_update

    resident_update(actor=case_manager, resident=people["john"], changes={"aliases": ["Flaco"]})

    stored = Resident.objects.get(pk=people["john"].pk).search_keys
    assert {"john", "chavez", "flaco", "~JN"} <= set(stored)
    assert people["john"] in first_five("Flacko Chaves")


# --- the benchmarks' smoke runs -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_recall_benchmark_reports_recall_per_variant_kind():
    out = StringIO()

    call_command("bench_resident_recall", residents=300, queries=60, force=True, stdout=out)

    text = out.getvalue()
    for label in ("typo", "swapped", "nickname", "spelling", "accents", "surname", "overall"):
        assert re.search(rf"^{label}\s+\d+\s+\d+\.\d%$", text, re.M), (label, text)


@pytest.mark.django_db(transaction=True)
def test_the_latency_benchmark_reports_its_figures():
    out = StringIO()

    call_command("bench_resident_search", residents=300, queries=20, force=True, stdout=out)

    text = out.getvalue()
    for label in ("selector (ORM)", "plain SQL"):
        assert re.search(rf"^{re.escape(label)}\s+n=20 median=[\d.]+ ms p95=[\d.]+ ms", text, re.M)
