"""A responder moves their unit from the tablet, through the same life cycle as CAD."""

import uuid

import pytest
from django.utils import timezone

from cases.models import Call
from responders.models import Unit
from tests.cases.helpers import dispatched_call
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


def move(client, call_sign="ACS-11", **body):
    body.setdefault("event_id", str(uuid.uuid4()))
    body.setdefault("at", timezone.now().isoformat())
    return client.post(
        f"/api/v1/field/units/{call_sign}/status", body, content_type="application/json"
    )


def test_a_responder_moves_their_unit_on_scene_and_clears_the_call(client, responder, unit):
    call = dispatched_call(unit, event="dispatched")
    client.force_login(responder)

    on_scene = move(client, status="on_scene", call=str(call.public_id))
    cleared = move(client, status="cleared", call=str(call.public_id))

    assert (on_scene.status_code, cleared.status_code) == (201, 201)
    call.refresh_from_db()
    assert call.status == "cleared"
    assert call.on_scene_at is not None
    unit.refresh_from_db()
    assert unit.status == Unit.Status.AVAILABLE


def test_the_tablets_retry_is_applied_once(client, responder, unit):
    call = dispatched_call(unit, event="dispatched")
    client.force_login(responder)
    event_id, at = str(uuid.uuid4()), timezone.now().isoformat()

    first = move(client, event_id=event_id, at=at, status="en_route", call=str(call.public_id))
    again = move(client, event_id=event_id, at=at, status="en_route", call=str(call.public_id))

    assert (first.status_code, again.status_code) == (201, 200)
    assert Call.objects.get().events.count() == 2


def test_a_move_the_life_cycle_refuses_gets_409(client, responder, unit):
    call = dispatched_call(unit, event="on_scene")
    client.force_login(responder)

    response = move(client, status="en_route", call=str(call.public_id))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "call_is_on_scene"


def test_a_unit_on_a_call_cannot_go_out_of_service(client, responder, unit):
    dispatched_call(unit, event="on_scene")
    client.force_login(responder)

    response = move(client, status="out_of_service")

    assert response.status_code == 409


def test_a_free_unit_goes_out_of_service_and_back(client, responder, unit):
    client.force_login(responder)

    assert move(client, status="out_of_service").json()["status"] == "out_of_service"
    assert move(client, status="available").json()["status"] == "available"


def test_a_responder_cannot_move_another_unit(client, responder):
    UnitFactory(call_sign="ACS-55")
    client.force_login(responder)

    assert move(client, call_sign="ACS-55", status="available").status_code == 404


def test_call_statuses_need_the_call(client, responder, unit):
    client.force_login(responder)

    response = move(client, status="on_scene")

    assert response.status_code == 400
    assert "call" in response.json()["error"]["fields"]


# --- Undo: a mistaken tap taken back through the same API (#17) -------------------------------


def test_undo_restores_the_previous_status_and_keeps_the_tap_in_the_history(
    client, responder, unit
):
    from acs.models import AuditEvent
    from cases.models import CallEvent

    call = dispatched_call(unit, event="en_route")
    client.force_login(responder)
    tap = str(uuid.uuid4())
    assert (
        move(client, event_id=tap, status="on_scene", call=str(call.public_id)).status_code == 201
    )

    undo_id = str(uuid.uuid4())
    undo = move(client, event_id=undo_id, status="en_route", call=str(call.public_id), undoes=tap)
    again = move(client, event_id=undo_id, status="en_route", call=str(call.public_id), undoes=tap)

    assert (undo.status_code, again.status_code) == (201, 200)
    call.refresh_from_db()
    assert call.status == "en_route" and call.on_scene_at is None
    assert call.assignments.get().status == "en_route"
    unit.refresh_from_db()
    assert unit.status == Unit.Status.EN_ROUTE
    undone = CallEvent.objects.get(event_id=tap)
    assert undone.undone_at is not None and str(undone.undo_event_id) == undo_id
    audit = AuditEvent.objects.filter(detail__type="undo").get()
    assert audit.detail["undoes"] == tap and audit.actor == responder
    # The unit moves on as if the tap never happened.
    assert move(client, status="on_scene", call=str(call.public_id)).status_code == 201


def test_undoing_a_clear_puts_the_call_back_among_the_units_calls(client, responder, unit):
    call = dispatched_call(unit, event="on_scene")
    client.force_login(responder)
    tap = str(uuid.uuid4())
    move(client, event_id=tap, status="cleared", call=str(call.public_id))
    assert client.get("/api/v1/field/calls").json()["results"] == []

    undo = move(client, status="on_scene", call=str(call.public_id), undoes=tap)

    assert undo.status_code == 201, undo.content
    call.refresh_from_db()
    assert call.status == "on_scene" and call.cleared_at is None
    assert [c["id"] for c in client.get("/api/v1/field/calls").json()["results"]] == [
        str(call.public_id)
    ]
    unit.refresh_from_db()
    assert unit.status == Unit.Status.ON_SCENE


def test_only_the_latest_move_of_ones_own_unit_is_undone_and_only_soon(client, responder, unit):
    from datetime import timedelta

    call = dispatched_call(unit, event="dispatched")
    client.force_login(responder)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    move(client, event_id=first, status="en_route", call=str(call.public_id))
    move(client, event_id=second, status="on_scene", call=str(call.public_id))

    not_latest = move(client, status="dispatched", call=str(call.public_id), undoes=first)
    wrong_status = move(client, status="dispatched", call=str(call.public_id), undoes=second)
    late = move(
        client,
        status="en_route",
        call=str(call.public_id),
        undoes=second,
        at=(timezone.now() + timedelta(minutes=5)).isoformat(),
    )
    unknown = move(client, status="en_route", call=str(call.public_id), undoes=str(uuid.uuid4()))

    assert not_latest.json()["error"]["code"] == "event_not_latest"
    assert wrong_status.json()["error"]["code"] == "unit_would_be_en_route"
    assert late.json()["error"]["code"] == "undo_too_late"
    assert unknown.status_code == 404
    assert Call.objects.get().status == "on_scene"


def test_another_units_move_cannot_be_undone(client, responder, unit):
    other = UnitFactory(call_sign="ACS-77")
    call = dispatched_call(other, event="dispatched")
    tap = uuid.uuid4()
    from cases.services import call_event_record

    call_event_record(
        incident_number=call.incident_number,
        event_id=tap,
        type="en_route",
        at=timezone.now(),
        unit_call_sign="ACS-77",
        render=lambda c: {},
    )
    client.force_login(responder)

    mine = move(client, status="dispatched", call=str(call.public_id), undoes=str(tap))
    theirs = move(client, "ACS-77", status="dispatched", call=str(call.public_id), undoes=str(tap))

    assert (mine.status_code, theirs.status_code) == (404, 404)
    assert Call.objects.get().status == "en_route"


def test_dispatch_is_only_an_undos_target(client, responder, unit):
    call = dispatched_call(unit, event="dispatched")
    client.force_login(responder)

    assert move(client, status="dispatched", call=str(call.public_id)).status_code == 400
