"""Unit positions: CAD's optional latitude/longitude on unit status events (an extension of the
contract that leaves old requests unchanged), kept short-term and pruned by the retention sweep."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from acs.roles import Role
from acs.tokens import token_issue
from cases.models import CallEvent
from cases.services.retention import retention_expired_copies
from responders.models import Unit, UnitPosition
from responders.positions import unit_position_record
from tests.cases.test_cad_api import post_event, put_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def cad(db):
    _, token = token_issue(role=Role.CAD_INTEGRATION, name="city-cad")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def now_iso(minutes_ago: int = 0) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


def test_an_event_with_a_position_keeps_where_the_unit_was(cad):
    put_call(cad)
    response = post_event(
        cad, type="dispatched", unit="ACS-12", at=now_iso(), latitude=35.0844, longitude=-106.6504
    )

    assert response.status_code == 201, response.json()
    position = UnitPosition.objects.get()
    assert position.unit.call_sign == "ACS-12"
    assert (position.latitude, position.longitude) == (Decimal("35.0844"), Decimal("-106.6504"))
    assert position.source == "cad"


def test_an_old_request_without_a_position_is_answered_as_before(cad):
    put_call(cad)
    response = post_event(cad, type="dispatched", unit="ACS-12", at=now_iso())

    assert response.status_code == 201
    assert response.json()["units"][0]["unit"] == "ACS-12"
    assert "latitude" not in response.json()["units"][0]
    assert not UnitPosition.objects.exists()


def test_a_resent_event_keeps_no_second_position(cad):
    put_call(cad)
    body = {"type": "dispatched", "unit": "ACS-12", "at": now_iso(), "latitude": 35.1}
    body["longitude"] = -106.6
    first = post_event(cad, event_id="6f1d1a57-7b53-4c84-9d1c-8f2b9e3f3a11", **body)
    again = post_event(cad, event_id="6f1d1a57-7b53-4c84-9d1c-8f2b9e3f3a11", **body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert UnitPosition.objects.count() == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"latitude": 35.1}, "longitude"),  # the missing half is named
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 35.1, "longitude": "-106.6"}, "longitude"),
    ],
)
def test_a_half_or_out_of_range_position_is_refused(cad, extra, field):
    put_call(cad)
    response = post_event(cad, type="dispatched", unit="ACS-12", at=now_iso(), **extra)

    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert not CallEvent.objects.exists()


def test_a_position_without_a_unit_is_refused(cad):
    put_call(cad)
    post_event(cad, type="dispatched", unit="ACS-12", at=now_iso(2))
    response = post_event(cad, type="cancelled", at=now_iso(), latitude=35.1, longitude=-106.6)

    assert response.status_code == 400
    assert "unit" in response.json()["error"]["fields"]


def test_the_schema_lists_the_optional_position(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    event = schema["components"]["schemas"]["CallEventInput"]

    assert {"latitude", "longitude"} <= set(event["properties"])
    assert "latitude" not in event.get("required", [])
    assert event["properties"]["latitude"]["maximum"] == 90


def test_positions_past_retention_are_pruned_by_the_sweep(settings):
    settings.UNIT_POSITION_RETENTION_HOURS = 12
    unit = Unit.objects.create(call_sign="ACS-40")
    now = timezone.now()
    kept = unit_position_record(
        unit=unit, latitude=Decimal(35), longitude=Decimal(-106), at=now, source="field"
    )
    old = UnitPosition.objects.create(
        unit=unit,
        latitude=35,
        longitude=-106,
        recorded_at=now - timedelta(hours=13),
        source="cad",
    )

    assert retention_expired_copies(dry_run=True)["unit positions"] == 1
    assert retention_expired_copies()["unit positions"] == 1
    assert list(UnitPosition.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not UnitPosition.objects.filter(pk=old.pk).exists()


def test_a_position_already_past_retention_is_not_kept():
    unit = Unit.objects.create(call_sign="ACS-41")
    late = timezone.now() - timedelta(hours=13)

    assert (
        unit_position_record(
            unit=unit, latitude=Decimal(35), longitude=Decimal(-106), at=late, source="field"
        )
        is None
    )


# --- the tablet's position: POST /api/v1/field/units/{call_sign}/position ---------------------


def post_position(client, call_sign="ACS-11", **body):
    body = {"latitude": 35.0853, "longitude": -106.6056, "at": now_iso(), **body}
    return client.post(
        f"/api/v1/field/units/{call_sign}/position",
        json.dumps(body),
        content_type="application/json",
    )


def test_a_responders_tablet_reports_its_units_position_while_in_service(client, responder, unit):
    client.force_login(responder)

    response = post_position(client)

    assert response.status_code == 204
    position = UnitPosition.objects.get()
    assert (position.unit, position.source) == (unit, "field")
    assert position.latitude == Decimal("35.085300")


def test_an_out_of_service_unit_keeps_no_position(client, responder, unit):
    unit.status = "out_of_service"
    unit.save()
    client.force_login(responder)

    response = post_position(client)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "unit_out_of_service"
    assert not UnitPosition.objects.exists()


def test_no_one_reports_the_position_of_a_unit_not_theirs(client, responder, supervisor):
    Unit.objects.create(call_sign="ACS-77", status="available")
    client.force_login(responder)
    assert post_position(client, call_sign="ACS-77").status_code == 404
    client.force_login(supervisor)
    assert post_position(client).status_code == 403
    assert not UnitPosition.objects.exists()
