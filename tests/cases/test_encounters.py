"""Encounters from the field app: logged once, edited as drafts, locked after a grace period."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from acs.errors import Forbidden
from acs.models import AuditEvent
from cases.models import Addendum, Encounter
from cases.services import addendum_approve, resident_create
from tests.cases.helpers import dispatched_call, submitted_encounter
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/field/encounters"


@pytest.fixture
def field(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def call(unit):
    return dispatched_call(unit)


def create(client, **body):
    body.setdefault("client_id", str(uuid.uuid4()))
    body.setdefault("unit", "ACS-11")
    return client.post(URL, body, content_type="application/json")


def test_a_responder_logs_an_encounter_on_their_units_call(field, call, responder):
    sunny = resident_create(actor=responder, data={"preferred_name": "Sunny"})

    response = create(
        field,
        call=str(call.public_id),
        needs=["shelter", "food"],
        services_on_scene=["water", "resource_info"],
        residents=[str(sunny.public_id)],
        anonymous_people=1,
        narrative="Cold night; accepted water and a blanket list.",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft"
    assert body["call"] == str(call.public_id)
    assert body["residents"] == [str(sunny.public_id)]
    assert AuditEvent.objects.filter(action="create", target_type="cases.encounter").count() == 1


def test_the_responder_flags_a_narrative_that_mentions_substance_use(field):
    created = create(field, narrative="Asked where the methadone clinic is.", narrative_part2=True)
    encounter_id = created.json()["id"]

    assert created.status_code == 201 and created.json()["narrative_part2"] is True
    assert Encounter.objects.get().holds_part2

    changed = field.patch(
        f"{URL}/{encounter_id}", {"narrative_part2": False}, content_type="application/json"
    )

    assert changed.json()["narrative_part2"] is False
    assert not Encounter.objects.get().holds_part2
    unflagged = create(field, narrative="Cold night.")
    assert unflagged.json()["narrative_part2"] is False


def test_a_retried_create_returns_the_first_encounter(field, call):
    client_id = str(uuid.uuid4())

    first = create(field, client_id=client_id, call=str(call.public_id))
    again = create(field, client_id=client_id, call=str(call.public_id))

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Encounter.objects.count() == 1


def test_a_self_initiated_encounter_needs_no_call(field):
    response = create(field, needs=["id_documents"])

    assert response.status_code == 201
    assert response.json()["call"] is None


def test_a_responder_cannot_log_for_another_unit(field, call):
    UnitFactory(call_sign="ACS-77")

    response = create(field, unit="ACS-77")

    assert response.status_code == 404


def test_a_responder_cannot_log_on_a_call_their_unit_is_not_on(field):
    other_call = dispatched_call(UnitFactory(call_sign="ACS-78"))

    response = create(field, call=str(other_call.public_id))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "call_not_found"


def test_residents_out_of_reach_cannot_be_attached(field, case_manager):
    stranger = resident_create(actor=case_manager, data={"preferred_name": "Stranger"})

    response = create(field, residents=[str(stranger.public_id)])

    assert response.status_code == 404
    assert "residents" in response.json()["error"]["fields"]


def test_submitting_needs_a_disposition_then_locks_after_the_grace_period(field, call, settings):
    encounter_id = create(field, call=str(call.public_id)).json()["id"]
    submit_url = f"{URL}/{encounter_id}/submit"

    refused = field.post(submit_url)
    assert refused.status_code == 409
    assert "disposition" in refused.json()["error"]["fields"]

    field.patch(
        f"{URL}/{encounter_id}", {"disposition": "referred"}, content_type="application/json"
    )
    submitted = field.post(submit_url)
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"

    # Within the grace period it can still be corrected.
    fixed = field.patch(
        f"{URL}/{encounter_id}", {"narrative": "Typo fixed"}, content_type="application/json"
    )
    assert fixed.status_code == 200

    Encounter.objects.update(locks_at=timezone.now() - timedelta(seconds=1))
    locked = field.patch(
        f"{URL}/{encounter_id}", {"narrative": "Late change"}, content_type="application/json"
    )
    assert locked.status_code == 409
    assert locked.json()["error"]["code"] == "encounter_locked"

    addendum = field.post(
        f"{URL}/{encounter_id}/addenda",
        {"text": "Resident called back."},
        content_type="application/json",
    )
    assert addendum.status_code == 201
    assert field.get(f"{URL}/{encounter_id}").json()["addenda"][0]["text"] == (
        "Resident called back."
    )


def test_a_draft_is_edited_not_amended(field):
    encounter_id = create(field).json()["id"]

    response = field.post(
        f"{URL}/{encounter_id}/addenda", {"text": "x"}, content_type="application/json"
    )

    assert response.status_code == 409


def test_supervisors_approve_their_teams_addenda_and_no_one_else_does(
    responder, supervisor, case_manager, unit
):
    mine = Addendum.objects.create(
        encounter=submitted_encounter(unit, responder), author=responder, text="More"
    )
    elsewhere = UnitFactory(call_sign="ACS-77")  # another team's unit
    theirs = Addendum.objects.create(
        encounter=submitted_encounter(elsewhere, responder), author=responder, text="More"
    )
    own = Addendum.objects.create(encounter=mine.encounter, author=supervisor, text="Mine")
    teamless = UserFactory(username="teamless-supervisor", role="supervisor")

    for actor, addendum, code in (
        (responder, mine, "permission_denied"),
        (case_manager, mine, "permission_denied"),
        (supervisor, theirs, "addendum_other_team"),
        (supervisor, own, "addendum_own_approval"),
        (teamless, mine, "addendum_other_team"),
    ):
        with pytest.raises(Forbidden) as refused:
            addendum_approve(actor=actor, addendum=addendum)
        assert refused.value.code == code
    assert not Addendum.objects.filter(approved_at__isnull=False).exists()

    approved = addendum_approve(actor=supervisor, addendum=mine)

    assert approved.approved_by == supervisor
    from cases.selectors.work_queues import addenda_awaiting_approval

    assert list(addenda_awaiting_approval(supervisor)) == []  # own and other team's stay out
    assert list(addenda_awaiting_approval(teamless)) == []
    assert list(addenda_awaiting_approval(case_manager)) == []


def test_desk_staff_add_addenda_but_do_not_rewrite_an_encounter(
    field, client, case_manager, supervisor
):
    draft_id = create(field).json()["id"]
    submitted_id = create(field, disposition="settled_by_contact").json()["id"]
    field.post(f"{URL}/{submitted_id}/submit")
    client.force_login(case_manager)

    for path, body in (
        (f"{URL}/{draft_id}", {"narrative": "Rewritten at the desk"}),
        (f"{URL}/{submitted_id}", {"narrative": "Rewritten at the desk"}),
    ):
        response = client.patch(path, body, content_type="application/json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "encounter_not_yours"
    assert client.post(f"{URL}/{draft_id}/submit").status_code == 403
    assert not Encounter.objects.filter(narrative="Rewritten at the desk").exists()
    assert Encounter.objects.get(public_id=draft_id).status == "draft"

    added = client.post(
        f"{URL}/{submitted_id}/addenda",
        {"text": "Resident called the desk back."},
        content_type="application/json",
    )

    assert added.status_code == 201
    assert Addendum.objects.get().author == case_manager


def test_another_responder_cannot_read_or_edit_the_encounter(field, client, call):
    encounter_id = create(field, call=str(call.public_id)).json()["id"]
    stranger = UserFactory(username="other-responder", role="responder")
    client.force_login(stranger)

    assert client.get(f"{URL}/{encounter_id}").status_code == 404
    assert (
        client.patch(
            f"{URL}/{encounter_id}", {"narrative": "x"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_bad_codes_are_refused(field):
    response = create(field, needs=["unicorns"], disposition="vanished")

    assert response.status_code == 400
    assert {"needs", "disposition"} <= set(response.json()["error"]["fields"])


def test_reading_an_encounter_is_audited_on_each_person_met(field, responder):
    sunny = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    rosa = resident_create(actor=responder, data={"preferred_name": "Rosa"}, confirm_new=True)
    with_people = create(field, residents=[str(sunny.public_id), str(rosa.public_id)]).json()
    nobody = create(field, anonymous_people=2).json()
    before = AuditEvent.objects.filter(action="view").count()

    assert field.get(f"{URL}/{with_people['id']}").status_code == 200
    assert field.get(f"{URL}/{nobody['id']}").status_code == 200

    views = list(AuditEvent.objects.filter(action="view").order_by("id"))[before:]
    assert {(e.target_type, str(e.target_id)) for e in views} == {
        ("cases.resident", str(sunny.public_id)),
        ("cases.resident", str(rosa.public_id)),
        ("cases.encounter", nobody["id"]),
    }
    assert {e.detail.get("encounter") for e in views[:2]} == {with_people["id"]}
    assert {e.reason for e in views} == {"field_api"}


def test_each_persons_living_situation_is_kept_for_this_contact(field, responder):
    from cases.models import EncounterResident

    sunny = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    rosa = resident_create(actor=responder, data={"preferred_name": "Rosa"}, confirm_new=True)
    created = create(
        field,
        residents=[str(sunny.public_id), str(rosa.public_id)],
        living_situations={str(sunny.public_id): "unsheltered"},
    )
    encounter_id = created.json()["id"]

    assert created.status_code == 201
    assert created.json()["living_situations"] == {str(sunny.public_id): "unsheltered"}
    changed = field.patch(
        f"{URL}/{encounter_id}",
        {"living_situations": {str(rosa.public_id): "sheltered"}},
        content_type="application/json",
    )
    assert changed.json()["living_situations"] == {
        str(sunny.public_id): "unsheltered",
        str(rosa.public_id): "sheltered",
    }
    stranger = resident_create(actor=responder, data={"preferred_name": "Zed"}, confirm_new=True)
    refused = field.patch(
        f"{URL}/{encounter_id}",
        {"living_situations": {str(stranger.public_id): "housed"}},
        content_type="application/json",
    )
    not_an_id = field.patch(
        f"{URL}/{encounter_id}",
        {"living_situations": {"rosa": "sheltered"}},
        content_type="application/json",
    )
    bad_code = field.patch(
        f"{URL}/{encounter_id}",
        {"living_situations": {str(rosa.public_id): "mansion"}},
        content_type="application/json",
    )
    # Naming someone not on the encounter is a 404, whatever the key; a bad code a 400.
    assert (refused.status_code, not_an_id.status_code, bad_code.status_code) == (404, 404, 400)
    assert "living_situations" in refused.json()["error"]["fields"]
    assert not EncounterResident.objects.filter(living_situation="housed").exists()


def test_the_involuntary_hold_flag_is_optional_and_old_tablets_keep_working(field):
    """Issue 21: the field form's new flag. A tablet that never sends it logs encounters as
    before (false); one that does sets it; a later edit that omits it leaves it as it is."""
    old = create(field, narrative="Cold night.")
    assert old.status_code == 201 and old.json()["involuntary_hold"] is False

    new = create(field, narrative="Emergency evaluation started.", involuntary_hold=True)
    assert new.status_code == 201 and new.json()["involuntary_hold"] is True
    encounter_id = new.json()["id"]

    field.patch(f"{URL}/{encounter_id}", {"narrative": "Edited."}, content_type="application/json")
    assert Encounter.objects.get(public_id=encounter_id).involuntary_hold is True
    bad = create(field, involuntary_hold="yes")
    assert bad.status_code == 400 and "involuntary_hold" in bad.json()["error"]["fields"]
