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
