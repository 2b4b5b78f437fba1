"""Case managers in the admin: residents found by trigram search, views audited, merges."""

import uuid
from datetime import date

import pytest
from django.utils import timezone

from acs.models import AuditEvent
from cases.services import encounter_create, resident_create
from tests.cases.helpers import dispatched_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def marisol(case_manager):
    return resident_create(
        actor=case_manager,
        data={
            "preferred_name": "Marisol",
            "legal_name": "Marisol Ortega",
            "date_of_birth": date(1979, 3, 14),
        },
    )


def test_a_case_manager_finds_a_resident_in_the_admin_despite_a_typo(client, case_manager, marisol):
    client.force_login(case_manager)

    # A POST form: the typed name stays out of the URL (tests/cases/test_admin_query_counts.py
    # and the search tests there cover the rest).
    response = client.post("/admin/cases/resident/search/", {"name": "Marisool"}, follow=True)

    assert response.status_code == 200
    assert "Marisool" not in response.redirect_chain[-1][0]
    assert str(marisol) in response.content.decode()


def test_opening_a_resident_in_the_admin_is_audited_and_shows_the_timeline(
    client, case_manager, marisol
):
    client.force_login(case_manager)

    response = client.get(f"/admin/cases/resident/{marisol.pk}/change/")

    assert response.status_code == 200
    assert "Record created" in response.content.decode()
    assert AuditEvent.objects.filter(
        actor=case_manager, action="view", target_id=marisol.public_id
    ).exists()


def test_merging_from_the_admin(client, case_manager, marisol):
    twin = resident_create(actor=case_manager, data={"preferred_name": "Mari"}, confirm_new=True)
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/resident/",
        {"action": "merge_into_first_selected", "_selected_action": [marisol.pk, twin.pk]},
    )

    assert response.status_code == 302
    twin.refresh_from_db()
    assert twin.merged_into == marisol


def test_a_responder_cannot_use_the_admin(client, responder, marisol):
    client.force_login(responder)

    response = client.get("/admin/cases/resident/")

    assert response.status_code == 302


def test_the_call_admin_shows_its_timeline(client, supervisor, unit):
    call = dispatched_call(unit)
    client.force_login(supervisor)

    response = client.get(f"/admin/cases/call/{call.pk}/change/")

    assert response.status_code == 200
    assert "on_scene" in response.content.decode()


def test_the_encounter_page_labels_substance_use_as_part_2(client, case_manager, responder, unit):
    encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=None,
        data={"occurred_at": timezone.now(), "needs": ["shelter", "substance_use"]},
        resident_ids=[],
    )
    client.force_login(case_manager)

    page = client.get(f"/admin/cases/encounter/{encounter.pk}/change/").content.decode()

    assert "Shelter, Substance use (42 CFR Part 2)" in page


def test_the_encounter_page_labels_a_narrative_the_responder_flagged_as_part_2(
    client, case_manager, responder, unit
):
    def logged(narrative, flagged):
        encounter, _ = encounter_create(
            actor=responder,
            client_id=uuid.uuid4(),
            unit=unit,
            call=None,
            data={
                "occurred_at": timezone.now(),
                "narrative": narrative,
                "narrative_part2": flagged,
            },
            resident_ids=[],
        )
        return client.get(f"/admin/cases/encounter/{encounter.pk}/change/").content.decode()

    client.force_login(case_manager)

    flagged = logged("Asked about the methadone clinic.\nWarm.", True)
    plain = logged("Cold night; took water.", False)

    assert "42 CFR Part 2: substance-use information." in flagged
    assert "Asked about the methadone clinic.<br>Warm." in flagged
    assert "Cold night; took water." in plain
    assert "42 CFR Part 2" not in plain
