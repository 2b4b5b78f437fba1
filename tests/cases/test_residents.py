"""Residents: found again instead of created twice, merged reversibly, seen only in scope."""

import json
import uuid
from datetime import date

import pytest

from acs.errors import Conflict, Forbidden
from acs.models import AuditEvent
from acs.roles import Role
from cases.models import Encounter, EncounterResident, Resident
from cases.selectors import resident_candidates, resident_queryset_for_user
from cases.services import (
    PossibleDuplicates,
    resident_create,
    resident_merge,
    resident_unmerge,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marisol(case_manager):
    return resident_create(
        actor=case_manager,
        data={
            "preferred_name": "Marisol",
            "legal_name": "Marisol Ortega",
            "aliases": ["Mari"],
            "date_of_birth": date(1979, 3, 14),
            "dob_quality": "full",
        },
    )


def search(client, **params):
    return client.post("/api/v1/field/residents/search", params, content_type="application/json")


# --- search ---------------------------------------------------------------------------------


def test_search_finds_a_resident_despite_a_typo(marisol):
    names = [m.resident for m in resident_candidates(name="Marisool Ortego")]
    assert names == [marisol]


def test_search_finds_a_resident_by_street_name(marisol):
    assert [m.resident for m in resident_candidates(name="mari")] == [marisol]


def test_date_of_birth_narrows_the_search(marisol, case_manager):
    other = resident_create(
        actor=case_manager,
        data={"preferred_name": "Marisol", "date_of_birth": date(1990, 1, 1)},
        confirm_new=True,
    )

    found = [
        m.resident for m in resident_candidates(name="Marisol", date_of_birth=date(1990, 1, 1))
    ]

    assert found == [other]


def test_an_approximate_date_of_birth_matches_on_the_year(case_manager):
    approx = resident_create(
        actor=case_manager,
        data={
            "preferred_name": "Tío Beto",
            "date_of_birth": date(1961, 1, 1),
            "dob_quality": "approximate",
        },
    )

    found = resident_candidates(name="Tio Beto", date_of_birth=date(1961, 7, 4))

    assert [m.resident for m in found] == [approx]


def test_merged_residents_drop_out_of_search(marisol, case_manager):
    twin = resident_create(
        actor=case_manager, data={"preferred_name": "Marisol O."}, confirm_new=True
    )
    resident_merge(actor=case_manager, survivor=marisol, duplicate=twin)

    assert [m.resident for m in resident_candidates(name="Marisol")] == [marisol]


def test_a_search_is_audited_per_resident_shown_without_the_query(client, responder, marisol):
    client.force_login(responder)

    response = search(client, name="Marisol")

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(marisol.public_id)]
    event = AuditEvent.objects.get(actor=responder, action="search")
    assert event.target_id == marisol.public_id
    assert "Marisol" not in json.dumps(event.detail)


def test_a_search_needs_a_name_or_a_date(client, responder):
    client.force_login(responder)

    response = search(client)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("persona", ["partner_a", "cad_client", "outsider"])
def test_only_staff_who_work_with_residents_can_search(client, request, persona, marisol):
    client.force_login(request.getfixturevalue(persona))

    response = search(client, name="Marisol")

    assert response.status_code == 403


# --- create: search first ---------------------------------------------------------------------


def test_creating_a_likely_duplicate_shows_the_candidates_first(client, responder, marisol):
    client.force_login(responder)

    response = client.post(
        "/api/v1/field/residents",
        {"preferred_name": "Marisol", "date_of_birth": "1979-03-14"},
        content_type="application/json",
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "possible_duplicates"
    assert [c["id"] for c in error["candidates"]] == [str(marisol.public_id)]
    assert Resident.objects.count() == 1
    # The candidate shown can now be opened, to check it is the same person.
    assert client.get(f"/api/v1/field/residents/{marisol.public_id}").status_code == 200


def test_creating_anyway_with_confirm_new(client, responder, marisol):
    client.force_login(responder)

    response = client.post(
        "/api/v1/field/residents",
        {"preferred_name": "Marisol", "confirm_new": True},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Resident.objects.count() == 2


def test_creating_someone_new_needs_no_confirmation(client, responder):
    client.force_login(responder)

    response = client.post(
        "/api/v1/field/residents",
        {"preferred_name": "Sunny", "where_to_find_me": "By the library"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert AuditEvent.objects.filter(action="create", actor=responder).count() == 1


def test_the_service_raises_possible_duplicates(responder, marisol):
    with pytest.raises(PossibleDuplicates) as raised:
        resident_create(actor=responder, data={"legal_name": "Marisol Ortega"})
    assert raised.value.candidates == [marisol]


# --- who may see a resident -------------------------------------------------------------------


def test_a_responder_cannot_open_a_resident_they_never_met_or_searched(client, responder, marisol):
    client.force_login(responder)

    response = client.get(f"/api/v1/field/residents/{marisol.public_id}")

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="view").exists()


def test_a_responder_can_open_a_resident_their_search_showed(client, responder, marisol):
    client.force_login(responder)
    search(client, name="Marisol")

    response = client.get(f"/api/v1/field/residents/{marisol.public_id}")

    assert response.status_code == 200
    assert response.json()["legal_name"] == "Marisol Ortega"
    view = AuditEvent.objects.get(action="view")
    assert (view.actor, view.target_id) == (responder, marisol.public_id)


def test_a_responder_sees_residents_their_unit_met(responder, unit, marisol):
    other = UserFactory(username="partner-in-unit", role="responder")
    unit.members.add(other)
    encounter = Encounter.objects.create(
        client_id="6d2b1f8e-3a57-4c0d-8e8a-2f4f3b7d9a10",
        unit=unit,
        created_by=other,
        occurred_at="2026-11-24T10:00:00Z",
    )
    EncounterResident.objects.create(encounter=encounter, resident=marisol)

    assert list(resident_queryset_for_user(responder)) == [marisol]


def test_case_managers_and_supervisors_see_every_resident(case_manager, supervisor, marisol):
    assert list(resident_queryset_for_user(case_manager)) == [marisol]
    assert list(resident_queryset_for_user(supervisor)) == [marisol]


@pytest.mark.parametrize("persona", ["partner_a", "cad_client", "outsider"])
def test_partners_cad_and_outsiders_see_no_resident(request, persona, marisol):
    assert not resident_queryset_for_user(request.getfixturevalue(persona)).exists()


# --- merge and undo -------------------------------------------------------------------------


@pytest.fixture
def twin_with_encounter(case_manager, unit, responder):
    twin = resident_create(
        actor=case_manager,
        data={"preferred_name": "Mari O", "aliases": ["La Güera"]},
        confirm_new=True,
    )
    encounter = Encounter.objects.create(
        client_id="0b7f3f4e-1111-4c0d-8e8a-2f4f3b7d9a10",
        unit=unit,
        created_by=responder,
        occurred_at="2026-11-20T10:00:00Z",
    )
    EncounterResident.objects.create(encounter=encounter, resident=twin)
    return twin, encounter


def test_merging_moves_encounters_and_names_to_the_survivor(
    case_manager, marisol, twin_with_encounter
):
    twin, encounter = twin_with_encounter

    merge = resident_merge(actor=case_manager, survivor=marisol, duplicate=twin)

    twin.refresh_from_db()
    marisol.refresh_from_db()
    assert twin.merged_into == marisol
    assert list(encounter.residents.all()) == [marisol]
    assert encounter.people.get().original_resident == twin
    assert {"Mari O", "La Güera"} <= set(marisol.aliases)
    assert [m.resident for m in resident_candidates(name="la guera")] == [marisol]
    assert AuditEvent.objects.filter(action="merge").count() == 2
    assert merge.moved_links


def test_undoing_a_merge_restores_both_records(case_manager, marisol, twin_with_encounter):
    twin, encounter = twin_with_encounter
    merge = resident_merge(actor=case_manager, survivor=marisol, duplicate=twin)

    resident_unmerge(actor=case_manager, merge=merge)

    twin.refresh_from_db()
    marisol.refresh_from_db()
    assert twin.merged_into is None
    assert list(encounter.residents.all()) == [twin]
    assert encounter.people.get().original_resident is None
    assert marisol.aliases == ["Mari"]
    assert AuditEvent.objects.filter(action="unmerge").count() == 2
    with pytest.raises(Conflict):
        resident_unmerge(actor=case_manager, merge=merge)


def test_a_responder_cannot_merge(responder, case_manager, marisol):
    twin = resident_create(actor=case_manager, data={"preferred_name": "M"}, confirm_new=True)

    with pytest.raises(Forbidden):
        resident_merge(actor=responder, survivor=marisol, duplicate=twin)


def test_a_merged_record_cannot_be_merged_again(case_manager, marisol):
    twin = resident_create(actor=case_manager, data={"preferred_name": "M"}, confirm_new=True)
    third = resident_create(actor=case_manager, data={"preferred_name": "N"}, confirm_new=True)
    resident_merge(actor=case_manager, survivor=marisol, duplicate=twin)

    with pytest.raises(Conflict):
        resident_merge(actor=case_manager, survivor=third, duplicate=twin)


def test_the_search_costs_the_same_queries_for_one_result_or_fifteen(client, responder):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(responder)
    resident_create(actor=responder, data={"preferred_name": "Ramona Baca"})
    with CaptureQueriesContext(connection) as one:
        assert len(search(client, name="Ramona Baca").json()["results"]) == 1
    for n in range(14):
        resident_create(
            actor=responder, data={"preferred_name": f"Ramona Baca {n}"}, confirm_new=True
        )
    with CaptureQueriesContext(connection) as fifteen:
        assert len(search(client, name="Ramona Baca").json()["results"]) == 15

    assert len(fifteen) == len(one)


def test_names_never_travel_in_the_url(client, responder, marisol):
    client.force_login(responder)

    response = client.get("/api/v1/field/residents", {"name": "Marisol"})

    assert response.status_code == 405


def test_referrals_and_follow_ups_move_with_a_merge_and_back(
    case_manager, marisol, twin_with_encounter, agency_a
):
    from cases.models import Consent, FollowUp
    from resources import services as referrals
    from tests.resources.referral_helpers import referrable_service

    twin, encounter = twin_with_encounter
    service, _ = referrable_service(agency_a)
    Consent.objects.create(
        resident=twin,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=agency_a,
        method=Consent.Method.VERBAL,
        recorded_by=case_manager,
    )
    referral = referrals.referral_create(
        actor=case_manager, resident=twin, service=service, send=True
    )
    follow_up = FollowUp.objects.create(
        resident=twin,
        encounter=encounter,
        kind="phone",
        due_at=encounter.occurred_at,
        window_ends_at=encounter.occurred_at,
    )

    merge = resident_merge(actor=case_manager, survivor=marisol, duplicate=twin)
    referral.refresh_from_db()
    follow_up.refresh_from_db()
    assert (referral.resident, referral.original_resident) == (marisol, twin)
    assert follow_up.resident == marisol
    assert merge.moved_referrals == [referral.pk] and merge.moved_follow_ups == [follow_up.pk]

    resident_unmerge(actor=case_manager, merge=merge)
    referral.refresh_from_db()
    follow_up.refresh_from_db()
    assert (referral.resident, referral.original_resident) == (twin, None)
    assert follow_up.resident == twin


def test_a_retried_create_with_the_same_client_id_returns_the_first_record(client, responder):
    client.force_login(responder)
    body = {"client_id": str(uuid.uuid4()), "preferred_name": "Ana Nueva"}

    first = client.post("/api/v1/field/residents", body, content_type="application/json")
    # The first answer was lost; the retry would otherwise be refused as its own duplicate.
    again = client.post("/api/v1/field/residents", body, content_type="application/json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Resident.objects.filter(preferred_name="Ana Nueva").count() == 1
    without = client.post(
        "/api/v1/field/residents", {"preferred_name": "Ana Nueva"}, content_type="application/json"
    )
    assert without.status_code == 409  # no client_id: the duplicate check as before


def test_another_users_client_id_is_refused_and_reveals_nothing(client, responder):
    client_id = str(uuid.uuid4())
    client.force_login(responder)
    client.post(
        "/api/v1/field/residents",
        {"client_id": client_id, "preferred_name": "Ana Nueva"},
        content_type="application/json",
    )
    other = UserFactory(username="other-responder", role=Role.RESPONDER)
    client.force_login(other)

    response = client.post(
        "/api/v1/field/residents",
        {"client_id": client_id, "preferred_name": "Someone", "confirm_new": True},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "client_id_reused"
    assert "Ana" not in response.content.decode()
    assert Resident.objects.count() == 1


def test_a_retry_whose_first_attempt_lands_during_its_duplicate_search_gets_that_record(
    responder, monkeypatch
):
    """The retry found no record for its client_id, then the first attempt committed while the
    retry searched for likely duplicates: that record is the retry's own, not a duplicate."""
    from acs.client_ids import replayed
    from cases.services import residents

    client_id = uuid.uuid4()
    first = []
    search_for_real = residents.resident_candidates

    def the_first_attempt_lands_now(**kwargs):
        if not first:
            first.append(
                resident_create(
                    actor=responder,
                    data={"preferred_name": "Ana Nueva"},
                    client_id=client_id,
                    confirm_new=True,
                )
            )
        return search_for_real(**kwargs)

    monkeypatch.setattr(residents, "resident_candidates", the_first_attempt_lands_now)

    again = resident_create(
        actor=responder, data={"preferred_name": "Ana Nueva"}, client_id=client_id
    )

    assert again == first[0] and replayed(again)
    assert Resident.objects.count() == 1
