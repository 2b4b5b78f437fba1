import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.helpers import dispatched_call
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


def test_a_responder_sees_the_calls_their_unit_works_and_no_others(client, responder, unit):
    mine = dispatched_call(unit)
    dispatched_call(UnitFactory(call_sign="ACS-90"))
    client.force_login(responder)

    response = client.get("/api/v1/field/calls")

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [str(mine.public_id)]


def test_cleared_calls_leave_the_list(client, responder, unit):
    dispatched_call(unit, event="on_scene")
    from cases.models import UnitAssignment

    UnitAssignment.objects.update(status="cleared")
    client.force_login(responder)

    assert client.get("/api/v1/field/calls").json()["results"] == []


def test_the_calls_list_costs_the_same_queries_for_one_call_or_twenty(client, responder, unit):
    client.force_login(responder)
    dispatched_call(unit)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/field/calls")
    for _ in range(19):
        dispatched_call(unit)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get("/api/v1/field/calls")

    assert len(response.json()["results"]) == 20
    assert len(twenty) == len(one)


def test_cad_and_partners_have_no_field_calls(client, partner_a):
    client.force_login(partner_a)

    assert client.get("/api/v1/field/calls").status_code == 403
