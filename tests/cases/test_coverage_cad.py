"""Issue 21, coverage: CAD's optional `acs_eligible` and `routed_to` on PUT /api/v1/cad/calls,
through the real CAD API with its bearer token; old requests are answered as before; the
new fields are in the OpenAPI schema."""

import json

import pytest
from django.test import Client

from acs.models import AuditEvent
from acs.roles import Role
from acs.tokens import token_issue
from cases.models import Call, EligibilityRule
from tests.cases.test_cad_api import CALL, put_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def cad(db):
    _, token = token_issue(role=Role.CAD_INTEGRATION, name="city-cad")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_old_request_without_the_new_fields_is_taken_as_before(cad):
    response = put_call(cad, body=CALL)

    assert response.status_code == 201
    body = response.json()
    assert body["acs_eligible"] is None
    assert body["routed_to"] == ""
    call = Call.objects.get()
    assert call.acs_eligible is None and call.routed_to == ""
    # The same old request again changes nothing.
    before = call.updated_at
    assert put_call(cad, body=CALL).status_code == 200
    assert Call.objects.get().updated_at == before


def test_cad_sends_its_eligibility_flag_and_where_it_routed_the_call(cad):
    response = put_call(cad, "2026-1", {**CALL, "acs_eligible": True, "routed_to": "police"})

    assert response.status_code == 201
    assert response.json()["acs_eligible"] is True
    assert response.json()["routed_to"] == "police"
    call = Call.objects.get(incident_number="2026-1")
    assert (call.acs_eligible, call.routed_to) == (True, "police")

    # An update that changes them is audited by field name, like any other change.
    response = put_call(cad, "2026-1", {**CALL, "acs_eligible": False, "routed_to": "fire"})
    assert response.status_code == 200
    call.refresh_from_db()
    assert (call.acs_eligible, call.routed_to) == (False, "fire")
    change = AuditEvent.objects.filter(target_id=call.public_id, action="change").get()
    assert change.detail["fields"] == ["acs_eligible", "routed_to"]


@pytest.mark.parametrize(
    "change",
    [{"routed_to": "sheriff"}, {"acs_eligible": "yes"}, {"acs_eligible": 1}, {"routed_to": 3}],
)
def test_bad_values_of_the_new_fields_get_400_naming_the_field(cad, change):
    response = put_call(cad, "2026-2", {**CALL, **change})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(change)
    assert not Call.objects.exists()


def test_the_new_fields_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    text = schema.content.decode()
    if schema["Content-Type"].startswith("application/json"):
        spec = json.loads(text)
    else:
        import yaml

        spec = yaml.safe_load(text)
    request = spec["components"]["schemas"]["CadCallInput"]["properties"]
    assert request["acs_eligible"]["type"] == "boolean"
    assert request["acs_eligible"].get("nullable") is True
    assert "routed_to" in request
    assert "acs_eligible" not in spec["components"]["schemas"]["CadCallInput"].get("required", [])
    output = spec["components"]["schemas"]["CallOutput"]["properties"]
    assert {"acs_eligible", "routed_to"} <= set(output)


def test_an_admin_edits_a_rule_and_its_history_names_who_changed_what(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/cases/eligibilityrule/add/",
        {"call_type": "welfare", "source": "", "priority": "", "active": "on", "note": "SOP 4"},
    )
    assert response.status_code == 302, response.content[:2000]
    rule = EligibilityRule.objects.get()
    assert rule.call_type == "WELFARE" and rule.source == "" and rule.priority is None

    response = client.post(
        f"/admin/cases/eligibilityrule/{rule.pk}/change/",
        {"call_type": "WELFARE", "source": "911", "priority": "", "note": "SOP 4"},
    )
    assert response.status_code == 302
    events = AuditEvent.objects.filter(target_id=rule.public_id).order_by("created_at", "id")
    assert [e.action for e in events] == ["create", "change"]
    assert events[1].actor == admin_user
    assert events[1].detail == {
        "fields": ["active", "source"],
        "before": {"active": True, "source": ""},
        "after": {"active": False, "source": "911"},
    }
    page = client.get(f"/admin/cases/eligibilityrule/{rule.pk}/change/").content.decode()
    assert "History" in page and "admin" in page and "&#x27;911&#x27;" in page
    # Rules are retired, never deleted.
    assert client.get(f"/admin/cases/eligibilityrule/{rule.pk}/delete/").status_code == 403


def test_an_unknown_call_type_is_refused_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/cases/eligibilityrule/add/",
        {"call_type": "NOPE", "source": "", "priority": "", "active": "on"},
    )
    assert response.status_code == 200
    assert "Unknown call type" in response.content.decode()
    assert not EligibilityRule.objects.exists()


def test_only_administrators_edit_rules(client, supervisor):
    client.force_login(supervisor)
    assert client.get("/admin/cases/eligibilityrule/").status_code == 200
    assert client.get("/admin/cases/eligibilityrule/add/").status_code == 403
