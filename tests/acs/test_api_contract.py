"""The OpenAPI schema and the API agree on the requests the schema fuzz found them disagreeing
on (issue #16): a request the schema allows is taken (a 2xx, or a 404/409 when the records it
names are out of reach or in another state, never a 400) and answered as the schema says; a
request the schema forbids is refused with a 400.

Each row is one disagreement, as the fuzz met it: the schema's verdict comes from schemathesis
reading GET /api/schema/ (the same reading the fuzz in tests/acs/test_api_fuzz.py makes), the
API's from sending the request, in process, with the role's credentials.
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from acs.wsgi import application
from tests.acs.api_callers import credentials_for, known_ids

pytestmark = pytest.mark.django_db

AT = "2026-11-24T21:05:00-07:00"
CALL = {"call_type": "WELFARE", "priority": 3, "source": "911", "received_at": AT}
EVENT = {"event_id": "9b2f4d1e-0c6a-4f3e-9d7b-5a8c1e2f3a4b", "at": AT}
STRANGER = "00000000-0000-4000-8000-000000000000"
ADDENDA = "POST /api/v1/field/encounters/{public_id}/addenda"
CAD_CALL = "PUT /api/v1/cad/calls/{incident_number}"
CAD_EVENTS = "POST /api/v1/cad/calls/{incident_number}/events"
SEARCH = "POST /api/v1/field/residents/search"
UNIT_STATUS = "POST /api/v1/field/units/{call_sign}/status"
CONSENTS = "POST /api/v1/field/residents/{public_id}/consents"
RESIDENT = "PATCH /api/v1/field/residents/{public_id}"
ENCOUNTER = "PATCH /api/v1/field/encounters/{public_id}"
NOTES = "POST /api/v1/referrals/{public_id}/notes"
FEED = "GET /api/v1/referrals"

# (role, operation, the request's parts, whether the schema allows it). In a body, "$call" is
# the seeded call's id and "$agency" agency A's.
ROWS = [
    # Blank text the schema let through (DRF trims, then refuses blank).
    ("responder", ADDENDA, {"body": {"text": ""}}, False),
    ("responder", ADDENDA, {"body": {"text": " \t"}}, False),
    ("responder", ADDENDA, {"body": {"text": "Seen again at noon"}}, True),  # a draft: 409
    (
        "responder",
        "POST /api/v1/field/encounters",
        {"body": {"client_id": str(uuid.UUID(int=1)), "unit": ""}},
        False,
    ),
    ("cad", CAD_CALL, {"body": {**CALL, "call_type": ""}}, False),
    ("case_manager", RESIDENT, {"body": {"aliases": ["Ro", ""]}}, False),
    ("case_manager", RESIDENT, {"body": {"aliases": ["Ro"]}}, True),
    # NUL characters, which PostgreSQL cannot store.
    ("case_manager", RESIDENT, {"body": {"race_ethnicity": ["a\u0000"]}}, False),
    (
        "case_manager",
        "POST /api/v1/field/referrals",
        {
            "body": {
                "client_id": str(uuid.UUID(int=2)),
                "resident": STRANGER,
                "service": STRANGER,
                "consent_override_reason": "T\u0000",
            }
        },
        False,
    ),
    # Values beyond the field's type: the known call types (in any case), call signs,
    # incident numbers, coordinates at any precision.
    ("cad", CAD_CALL, {"body": {**CALL, "call_type": "NOTACODE"}}, False),
    ("cad", CAD_CALL, {"body": {**CALL, "call_type": " welfare "}}, True),
    ("cad", CAD_EVENTS, {"body": {**EVENT, "type": "cleared", "unit": "!!"}}, False),
    ("cad", CAD_CALL, {"path_parameters": {"incident_number": "T 1"}, "body": CALL}, False),
    (
        "cad",
        CAD_CALL,
        {"body": {**CALL, "location": {"latitude": 35.08449123, "longitude": 102.798109379}}},
        True,
    ),
    # Only the JSON type the schema names, and its length as sent.
    ("responder", ENCOUNTER, {"body": {"ems_requested": 0}}, False),
    ("responder", ENCOUNTER, {"body": {"anonymous_people": "2"}}, False),
    ("responder", "POST /api/v1/field/residents", {"body": {"client_id": 0}}, False),
    ("partner", NOTES, {"body": {"note": 5}}, False),
    ("cad", CAD_CALL, {"body": {**CALL, "call_type": "VAG" + "\u0085" * 30}}, False),
    ("partner", FEED, {"query": {"page_size": "null"}}, False),
    ("partner", FEED, {"query": {"page_size": 500}}, True),  # 200 of them
    # Rules across fields.
    ("cad", CAD_CALL, {"body": {**CALL, "location": {"latitude": 35.1}}}, False),
    ("cad", CAD_EVENTS, {"body": {**EVENT, "type": "transporting", "unit": ""}}, False),
    ("cad", CAD_EVENTS, {"body": {**EVENT, "type": "cleared", "unit": ""}}, True),
    ("responder", UNIT_STATUS, {"body": {**EVENT, "status": "cleared"}}, False),
    ("responder", UNIT_STATUS, {"body": {**EVENT, "status": "available", "call": "$call"}}, False),
    ("responder", UNIT_STATUS, {"body": {**EVENT, "status": "available"}}, True),  # 200
    ("responder", UNIT_STATUS, {"body": {**EVENT, "status": "en_route", "call": "$call"}}, True),
    ("case_manager", CONSENTS, {"body": {"scope": "substance_use", "method": "verbal"}}, False),
    (
        "case_manager",
        CONSENTS,
        {"body": {"scope": "share_named_partner", "method": "verbal"}},
        False,
    ),
    (
        "case_manager",
        CONSENTS,
        {"body": {"scope": "sms", "method": "verbal", "organization": "$agency"}},
        False,
    ),
    ("case_manager", CONSENTS, {"body": {"scope": "sms", "method": "verbal"}}, True),
    # The empty search, with a body or without one.
    ("responder", SEARCH, {"body": {}}, False),
    ("responder", SEARCH, {}, False),
    ("responder", SEARCH, {"body": {"name": "  ", "date_of_birth": None}}, False),
    ("responder", SEARCH, {"body": {"date_of_birth": "1990-01-01"}}, True),
    ("responder", SEARCH, {"body": {"name": "Rosa"}}, True),
    # Idempotency-Key: visible ASCII only, as resources/partners/api/idempotency.py says.
    ("partner", NOTES, {"headers": {"Idempotency-Key": "a b"}, "body": {"note": "Hi"}}, False),
    (
        "partner",
        NOTES,
        {"headers": {"Idempotency-Key": "caf\u00e9"}, "body": {"note": "Hi"}},
        False,
    ),
    (
        "partner",
        NOTES,
        {"headers": {"Idempotency-Key": str(uuid.UUID(int=3))}, "body": {"note": "Hi"}},
        True,
    ),
    # The partner feed's filters: an empty one is refused, not read as no filter.
    ("partner", FEED, {"query": {"status": ""}}, False),
    ("partner", FEED, {"query": {"updated_since": ""}}, False),
    ("partner", FEED, {"query": {"status": "0"}}, False),
    ("partner", FEED, {"query": {"status": "draft"}}, False),
    ("partner", FEED, {"query": {"status": "sent, accepted"}}, True),
    # Well-formed requests about records out of reach or in another state: a 404 or a 409.
    ("responder", ENCOUNTER, {"body": {"living_situations": {"rosa": "sheltered"}}}, True),
    ("responder", ENCOUNTER, {"body": {"residents": [STRANGER]}}, True),
    ("responder", "POST /api/v1/field/encounters/{public_id}/submit", {}, True),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    """Read once: the schema does not change within the run."""
    with django_db_blocker.unblock(), in_process():
        return schemathesis.openapi.from_wsgi("/api/schema/", application)


@contextlib.contextmanager
def in_process():
    """Requests handled in the test's own thread keep its database connection open (and so
    its transaction), as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def schema_allows(operation, case) -> bool:
    """The schema's verdict on the request, as schemathesis reads the schema."""
    for container, parameters in (
        (case.path_parameters, operation.path_parameters),
        (case.query, operation.query),
        (case.headers, operation.headers),
    ):
        for parameter in parameters:
            if parameter.name.lower() == "authorization":
                continue  # the role's credentials, sent with every request
            if parameter.name in (container or {}):
                if not parameter.is_valid(container[parameter.name]):
                    return False
            elif parameter.is_required:
                return False
    if case.body is NOT_SET:
        return not any(body.is_required for body in operation.body)
    return any(body.is_valid(case.body) for body in operation.body)


@pytest.mark.parametrize(
    ("role", "label", "parts", "allowed"),
    ROWS,
    ids=[f"{label.split()[1]}-{i}" for i, (_, label, _, _) in enumerate(ROWS)],
)
def test_the_schema_and_the_api_agree(role, label, parts, allowed, schema, request, api_world):
    operation = schema.find_operation_by_label(label)
    parts = dict(parts)
    path_parameters = {
        **(known_ids(api_world, operation.path) or {}),
        **parts.pop("path_parameters", {}),
    }
    body = parts.pop("body", NOT_SET)
    if isinstance(body, dict):
        seeded = {
            "$call": lambda: seeded_call_id(api_world),
            "$agency": lambda: str(request.getfixturevalue("agency_a").public_id),
        }
        body = {k: seeded[v]() if str(v) in seeded else v for k, v in body.items()}
    case = operation.Case(path_parameters=path_parameters, body=body, **parts)

    assert schema_allows(operation, case) is allowed
    with in_process():
        response = case.call(**as_sent(credentials_for(role, request)))
    if allowed:
        assert response.status_code not in (400, 422) and response.status_code < 500, (
            response.status_code,
            response.text,
        )
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )
    else:
        assert response.status_code == 400, (response.status_code, response.text)
        assert set(response.json()) == {"error"}


def as_sent(credentials: dict[str, str]) -> dict:
    """Credentials as the in-process (WSGI) client takes them: cookies apart."""
    headers = dict(credentials)
    cookie = headers.pop("Cookie", "")
    cookies = dict(part.split("=", 1) for part in cookie.split("; ") if part)
    return {"headers": headers, "cookies": cookies}


def seeded_call_id(api_world) -> str:
    from cases.models import Call

    return str(Call.objects.get(incident_number=api_world[0][1]["incident_number"]).public_id)
