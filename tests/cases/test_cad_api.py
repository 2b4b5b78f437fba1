"""The CAD contract: PUT a call, POST its events, with a bearer token of role CAD integration."""

import json
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from acs.roles import Role
from acs.tokens import token_issue, token_revoke
from cases.models import Call, CallEvent
from responders.models import Unit

pytestmark = pytest.mark.django_db

CALL = {
    "call_type": "WELFARE",
    "priority": 2,
    "source": "911",
    "received_at": "2026-11-24T21:05:00-07:00",
    "location": {
        "address": "400 Central Ave SW",
        "latitude": 35.0841,
        "longitude": -106.6514,
        "council_district": "2",
    },
    "notes": "Caller reports a man sitting in the cold for hours.",
}


@pytest.fixture
def cad_token(db):
    _, token = token_issue(role=Role.CAD_INTEGRATION, name="city-cad")
    return token


@pytest.fixture
def cad(cad_token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {cad_token}")


def put_call(client, number="2026-112400123", body=None):
    return client.put(
        f"/api/v1/cad/calls/{number}", json.dumps(body or CALL), content_type="application/json"
    )


def post_event(client, number="2026-112400123", **body):
    body.setdefault("event_id", str(uuid.uuid4()))
    return client.post(
        f"/api/v1/cad/calls/{number}/events", json.dumps(body), content_type="application/json"
    )


# --- PUT /api/v1/cad/calls/{incident_number} ------------------------------------------------


def test_put_creates_the_call_with_201(cad):
    response = put_call(cad)

    assert response.status_code == 201
    body = response.json()
    assert body["incident_number"] == "2026-112400123"
    assert body["status"] == "pending"
    assert body["received_at"] == "2026-11-25T04:05:00Z"
    assert body["location"]["latitude"] == 35.0841
    assert body["units"] == []
    call = Call.objects.get(incident_number="2026-112400123")
    assert str(call.public_id) == body["id"]


def test_the_same_put_twice_changes_nothing(cad):
    put_call(cad)
    before = Call.objects.get()

    response = put_call(cad)

    assert response.status_code == 200
    after = Call.objects.get()
    assert after.updated_at == before.updated_at
    assert Call.objects.count() == 1


def test_a_changed_put_updates_the_call_with_200(cad):
    put_call(cad)

    response = put_call(cad, body={**CALL, "priority": 1, "call_type": "suicthrt"})

    assert response.status_code == 200
    call = Call.objects.get()
    assert (call.priority, call.call_type) == (1, "SUICTHRT")


def test_put_never_moves_the_status(cad):
    put_call(cad)
    post_event(cad, type="dispatched", unit="ACS-11", at="2026-11-24T21:06:00-07:00")

    put_call(cad, body={**CALL, "notes": "updated"})

    assert Call.objects.get().status == "dispatched"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"priority": 9}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"priority": True}, "priority"),
        ({"source": "carrier_pigeon"}, "source"),
        ({"call_type": "NOTACODE"}, "call_type"),
        ({"call_type": 12}, "call_type"),
        ({"received_at": "2026-11-24T21:05:00"}, "received_at"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"received_at": 1764043500}, "received_at"),
        ({"location": {"latitude": 95, "longitude": 0}}, "location"),
        ({"location": {"latitude": 35.1}}, "location"),
        ({"location": "400 Central"}, "location"),
        ({"notes": ["a", "list"]}, "notes"),
    ],
)
def test_malformed_calls_get_400_naming_the_field(cad, change, field):
    response = put_call(cad, body={**CALL, **change})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Call.objects.exists()


def test_missing_fields_are_all_named(cad):
    response = cad.put("/api/v1/cad/calls/X-1", "{}", content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "call_type",
        "priority",
        "source",
        "received_at",
    }


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"a string"', '{"call_type": ', "null"])
def test_bodies_that_are_not_a_json_object_get_400(cad, raw):
    response = cad.put("/api/v1/cad/calls/X-1", raw, content_type="application/json")

    assert response.status_code == 400
    assert "error" in response.json()


def test_a_huge_body_gets_413_without_being_read_whole(cad, settings):
    settings.API_MAX_BODY_BYTES = 1024
    body = {**CALL, "notes": "x" * 5000}

    response = put_call(cad, body=body)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_bad_incident_number_gets_400(cad):
    response = put_call(cad, number="bad$number")

    assert response.status_code == 400


def test_other_content_types_get_415(cad):
    response = cad.put("/api/v1/cad/calls/X-1", "call_type=WELFARE", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


# --- who may call it ------------------------------------------------------------------------


def test_without_a_token_cad_gets_401(client):
    response = put_call(client)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_wrong_token_gets_401(db):
    client = Client(HTTP_AUTHORIZATION="Bearer acs_deadbeef_not-a-real-token")

    assert put_call(client).status_code == 401


def test_a_revoked_token_gets_401(db):
    row, token = token_issue(role=Role.CAD_INTEGRATION, name="old-cad")
    token_revoke(token=row)

    assert put_call(Client(HTTP_AUTHORIZATION=f"Bearer {token}")).status_code == 401


def test_an_expired_token_gets_401(db):
    row, token = token_issue(role=Role.CAD_INTEGRATION, name="short", expires_in=timedelta(1))
    row.expires_at = timezone.now() - timedelta(seconds=1)
    row.save()

    assert put_call(Client(HTTP_AUTHORIZATION=f"Bearer {token}")).status_code == 401


def test_a_token_of_another_role_gets_403(db, agency_a):
    _, token = token_issue(role=Role.PARTNER_USER, name="agency-a", organization=agency_a)

    response = put_call(Client(HTTP_AUTHORIZATION=f"Bearer {token}"))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_signed_in_person_cannot_use_the_cad_api(client, supervisor):
    client.force_login(supervisor)

    assert put_call(client).status_code == 401


def test_the_token_is_stored_hashed(cad_token):
    from acs.models import ApiToken

    row = ApiToken.objects.get()
    assert cad_token not in (row.digest, row.prefix)
    assert row.user.has_role(Role.CAD_INTEGRATION)


# --- POST /api/v1/cad/calls/{incident_number}/events -----------------------------------------


def test_an_event_is_applied_with_201_and_the_call_shows_its_times(cad):
    put_call(cad)

    response = post_event(cad, type="dispatched", unit="ACS-11", at="2026-11-24T21:07:30-07:00")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "dispatched"
    assert body["dispatched_at"] == "2026-11-25T04:07:30Z"
    assert body["units"][0]["unit"] == "ACS-11"
    assert body["units"][0]["dispatched_at"] == "2026-11-25T04:07:30Z"


def test_a_resent_event_returns_200_and_the_first_result(cad):
    put_call(cad)
    event_id = str(uuid.uuid4())
    first = post_event(
        cad, event_id=event_id, type="on_scene", unit="ACS-11", at="2026-11-24T21:15:00-07:00"
    )
    post_event(cad, type="cleared", unit="ACS-11", at="2026-11-24T21:45:00-07:00")

    again = post_event(
        cad, event_id=event_id, type="on_scene", unit="ACS-11", at="2026-11-24T21:15:00-07:00"
    )

    assert again.status_code == 200
    assert again.json() == first.json()
    assert CallEvent.objects.count() == 2
    assert Call.objects.get().status == "cleared"


def test_the_first_result_is_kept_for_the_idempotency_ttl_then_swept(cad, settings):
    """The kept first result copies the call (address, notes): it lasts IDEMPOTENCY_TTL, then
    the sweep blanks it and a resend answers with the call as it is now."""
    from cases.tasks import sweep_expired_copies

    settings.IDEMPOTENCY_TTL = timedelta(hours=24)
    put_call(cad)
    event_id = str(uuid.uuid4())
    on_scene = {"type": "on_scene", "unit": "ACS-11", "at": "2026-11-24T21:15:00-07:00"}
    first = post_event(cad, event_id=event_id, **on_scene)
    post_event(cad, type="cleared", unit="ACS-11", at="2026-11-24T21:45:00-07:00")
    old = CallEvent.objects.get(event_id=event_id)
    CallEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))

    # Past the TTL a resend answers with the call as it is now, swept or not.
    again = post_event(cad, event_id=event_id, **on_scene)
    assert again.status_code == 200 and CallEvent.objects.count() == 2
    assert again.json()["status"] == "cleared" != first.json()["status"]

    assert sweep_expired_copies.apply().get()["call event results"] == 1

    old.refresh_from_db()
    assert old.result == {} and old.type == "on_scene"  # the event stays: the call's history
    assert CallEvent.objects.exclude(pk=old.pk).get().result["status"] == "cleared"
    assert post_event(cad, event_id=event_id, **on_scene).json() == again.json()


def test_an_event_id_reused_for_another_event_gets_409(cad):
    put_call(cad)
    event_id = str(uuid.uuid4())
    post_event(
        cad, event_id=event_id, type="dispatched", unit="ACS-11", at="2026-11-24T21:07:00-07:00"
    )

    response = post_event(
        cad, event_id=event_id, type="en_route", unit="ACS-11", at="2026-11-24T21:08:00-07:00"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "event_id_reused"


def test_a_move_the_life_cycle_refuses_gets_409_naming_the_state(cad):
    put_call(cad)
    post_event(cad, type="cancelled", at="2026-11-24T21:06:00-07:00")

    response = post_event(cad, type="on_scene", unit="ACS-11", at="2026-11-24T21:09:00-07:00")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "call_is_cancelled"
    assert CallEvent.objects.count() == 1


def test_an_event_arriving_late_is_placed_by_its_time(cad):
    put_call(cad)
    post_event(cad, type="on_scene", unit="ACS-11", at="2026-11-24T21:20:00-07:00")

    response = post_event(cad, type="dispatched", unit="ACS-11", at="2026-11-24T21:08:00-07:00")

    assert response.status_code == 201
    call = Call.objects.get()
    assert call.status == "on_scene"
    assert call.dispatched_at.isoformat() == "2026-11-25T04:08:00+00:00"
    assert call.on_scene_at.isoformat() == "2026-11-25T04:20:00+00:00"
    # Queue and travel time are exact.
    assert (call.dispatched_at - call.received_at).total_seconds() == 180
    assert (call.on_scene_at - call.dispatched_at).total_seconds() == 720


def test_a_late_event_that_would_break_the_timeline_gets_409(cad):
    put_call(cad)
    post_event(cad, type="returned_to_police", at="2026-11-24T21:30:00-07:00")

    # Claims a dispatch before the return, which makes the return illegal.
    response = post_event(cad, type="dispatched", unit="ACS-11", at="2026-11-24T21:10:00-07:00")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "call_is_dispatched"
    assert Call.objects.get().status == "returned_to_police"


def test_a_new_call_sign_becomes_a_unit_for_a_supervisor_to_confirm(cad):
    put_call(cad)

    post_event(cad, type="dispatched", unit="acs-99", at="2026-11-24T21:06:00-07:00")

    unit = Unit.objects.get(call_sign="ACS-99")
    assert unit.needs_confirmation
    assert unit.status == Unit.Status.DISPATCHED


def test_a_known_unit_is_not_flagged_and_follows_its_newest_status(cad, unit):
    # The unit's last status was set before these events (the fixture says "now", which
    # made the test pass only on the day its events were written).
    unit.status_changed_at = datetime.fromisoformat("2026-11-24T20:00:00-07:00")
    unit.save(update_fields=["status_changed_at"])
    put_call(cad)
    post_event(cad, type="on_scene", unit="ACS-11", at="2026-11-24T21:20:00-07:00")
    post_event(cad, type="dispatched", unit="ACS-11", at="2026-11-24T21:08:00-07:00")

    unit.refresh_from_db()
    assert not unit.needs_confirmation
    assert unit.status == Unit.Status.ON_SCENE


def test_events_for_an_unknown_call_get_404(cad):
    response = post_event(cad, number="NOPE-1", type="cancelled", at="2026-11-24T21:06:00-07:00")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "call_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "dispatched", "at": "2026-11-24T21:06:00-07:00"}, "unit"),
        ({"type": "teleported", "unit": "ACS-11", "at": "2026-11-24T21:06:00-07:00"}, "type"),
        ({"type": "cleared", "at": "2026-11-24T21:06:00"}, "at"),
        ({"type": "cleared", "unit": "ACS 11!", "at": "2026-11-24T21:06:00-07:00"}, "unit"),
        ({"event_id": "not-a-uuid", "type": "cleared", "at": "2026-11-24T21:06:00Z"}, "event_id"),
    ],
)
def test_malformed_events_get_400_naming_the_field(cad, body, field):
    put_call(cad)

    response = post_event(cad, **body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_conflicting_events_cannot_both_apply(cad_token):
    put_call(Client(HTTP_AUTHORIZATION=f"Bearer {cad_token}"))
    results = []
    barrier = threading.Barrier(2)

    def send(**body):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {cad_token}")
        barrier.wait()
        try:
            results.append(post_event(client, **body).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=send, kwargs={"type": "cancelled", "at": "2026-11-24T21:06:00-07:00"}
        ),
        threading.Thread(
            target=send,
            kwargs={"type": "on_scene", "unit": "ACS-11", "at": "2026-11-24T21:07:00-07:00"},
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == [201, 409]
    assert CallEvent.objects.count() == 1


def test_every_cad_write_is_audited_as_the_cad_client(cad):
    from acs.models import AuditEvent

    put_call(cad)
    put_call(cad, body={**CALL, "priority": 1})
    put_call(cad, body={**CALL, "priority": 1})  # unchanged: nothing to record
    post_event(cad, type="dispatched", unit="ACS-11", at="2026-11-24T21:07:00-07:00")

    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor__username"))
    assert events == [
        ("create", "cad_integration:city-cad"),
        ("change", "cad_integration:city-cad"),
        ("change", "cad_integration:city-cad"),
    ]


def test_clearing_the_whole_call_frees_every_unit_on_it(cad):
    put_call(cad)
    post_event(cad, type="on_scene", unit="ACS-11", at="2026-11-24T21:10:00-07:00")
    post_event(cad, type="on_scene", unit="ACS-12", at="2026-11-24T21:12:00-07:00")

    post_event(cad, type="cleared", at="2026-11-24T21:40:00-07:00")

    statuses = set(Unit.objects.values_list("status", flat=True))
    assert statuses == {Unit.Status.AVAILABLE}
    assert Call.objects.get().status == "cleared"
