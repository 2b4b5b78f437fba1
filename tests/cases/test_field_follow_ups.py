"""A responder asks, from the encounter, for a follow-up with a person they met."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from acs.models import AuditEvent
from cases.models import FollowUp
from cases.services import encounter_submit, resident_create
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def field(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def met(field, responder):
    """An encounter of the responder's unit with Sunny, and Sunny."""
    sunny = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    response = field.post(
        "/api/v1/field/encounters",
        {"client_id": str(uuid.uuid4()), "unit": "ACS-11", "residents": [str(sunny.public_id)]},
        content_type="application/json",
    )
    return response.json()["id"], sunny


def ask(client, encounter_id, resident, **body):
    body = {"resident": str(resident.public_id), "kind": "phone", **body}
    body.setdefault("due_at", (timezone.now() + timedelta(days=2)).isoformat())
    return client.post(
        f"/api/v1/field/encounters/{encounter_id}/follow-ups", body, content_type="application/json"
    )


def test_a_responder_asks_for_a_follow_up_with_a_person_met(field, met, responder):
    encounter_id, sunny = met
    due = timezone.now() + timedelta(days=3)

    response = ask(field, encounter_id, sunny, kind="in_person", due_at=due.isoformat())

    assert response.status_code == 201
    follow_up = FollowUp.objects.get(resident=sunny)
    assert follow_up.kind == "in_person" and follow_up.status == "open"
    assert abs(follow_up.due_at - due) < timedelta(seconds=1)
    assert str(follow_up.encounter.public_id) == encounter_id
    assert AuditEvent.objects.filter(
        actor=responder, action="create", detail__follow_up=str(follow_up.public_id)
    ).exists()


def test_asking_again_returns_the_first_and_submission_adds_no_second(field, met, responder):
    encounter_id, sunny = met
    first = ask(field, encounter_id, sunny, kind="text")
    again = ask(field, encounter_id, sunny, kind="phone")

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["kind"] == "text"
    from cases.models import Encounter

    encounter = Encounter.objects.get(public_id=encounter_id)
    encounter.disposition = "referred"
    encounter.save()
    encounter_submit(actor=responder, encounter=encounter)
    assert FollowUp.objects.filter(resident=sunny).count() == 1


def test_only_people_of_the_encounter(field, met, responder):
    encounter_id, _sunny = met
    other = resident_create(actor=responder, data={"preferred_name": "Other"})

    response = ask(field, encounter_id, other)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"resident": ["Not a person of this encounter."]}
    assert not FollowUp.objects.exists()


def test_another_units_responder_cannot_ask(client, met):
    encounter_id, sunny = met
    stranger = UserFactory(username="other-responder", role="responder")
    UnitFactory(call_sign="ACS-99").members.add(stranger)
    client.force_login(stranger)

    assert ask(client, encounter_id, sunny).status_code == 404
    assert not FollowUp.objects.exists()


def test_an_unknown_kind_is_refused(field, met):
    encounter_id, sunny = met

    response = ask(field, encounter_id, sunny, kind="carrier_pigeon")

    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]
