"""Property-based fuzz of the whole API from its own OpenAPI schema (issue #9).

Schemathesis reads GET /api/schema/ from the live test server and, for every operation, sends
generated requests (valid ones, and deliberately invalid ones) with each role's credentials:
CAD's token, agency A's partner token, signed-in responder, case manager and supervisor (their
second factor done), and no one. Whatever the role and the input, the API must never answer
5xx, and every answer must be one the schema documents (status code, content type, body).

Some of the generated requests use the ids of seeded records (a call, a resident, an encounter,
a consent, a referral, a service at a location), so the fuzz reaches existing objects and their
state machines too, not only the 404 of an unknown id.

The run is bounded and reproducible: few examples per operation, Hypothesis derandomized (the
same cases every run, no example database), no deadline (the shared CI machine is slow).
"""

from __future__ import annotations

import uuid

import pytest
import requests
import schemathesis
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from acs.roles import Role
from acs.tokens import token_issue
from cases import services as case_services
from cases.models import AssignmentStatus, EncounterResident, UnitAssignment
from resources import services as resource_services
from tests.factories import CallFactory
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
ROLES = ["anonymous", "cad", "partner", "responder", "case_manager", "supervisor"]
# Where each role is served; elsewhere it is refused (401/403), which needs fewer examples.
SERVED = {
    "anonymous": (),
    "cad": ("/api/v1/cad/", "/api/v1/me"),
    "partner": ("/api/v1/referrals", "/api/v1/capacity/", "/api/v1/me"),
    "responder": ("/api/v1/field/", "/api/v1/me"),
    "case_manager": ("/api/v1/field/", "/api/v1/me"),
    "supervisor": ("/api/v1/field/", "/api/v1/me"),
}
# Examples per strategy and operation: enough to find the classic failures (see the module
# docstring of tests/acs/test_hostile_input.py for the targeted ones), few enough for CI.
EXAMPLES_SERVED = 4
EXAMPLES_REFUSED = 1


@pytest.fixture
def world(responder, unit, case_manager, supervisor, agency_a):
    """One of each record the API works on, reachable by the roles above."""
    call = CallFactory(incident_number="T-000777")
    UnitAssignment.objects.create(
        call=call, unit=unit, status=AssignmentStatus.DISPATCHED, dispatched_at=timezone.now()
    )
    resident = consenting_resident(agency_a, recorded_by=case_manager)
    consent = resident.consents.get()
    encounter, _ = case_services.encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=call,
        data={},
        resident_ids=[],
    )
    # The unit met the resident (a responder sees only those), as a sync from the field does.
    EncounterResident.objects.create(encounter=encounter, resident=resident)
    service, sal = referrable_service(agency_a)
    referral = resource_services.referral_create(
        actor=case_manager,
        resident=resident,
        service=service,
        service_at_location=sal,
        reason="Needs a bed tonight",
        needs=["shelter"],
        urgency="urgent",
        send=True,
    )
    # Path prefix -> the seeded records' ids for its parameters; an operation takes the first
    # prefix its path starts with, so sub-resources (/submit, /accept, ...) added later are
    # covered too. The longer of two overlapping prefixes comes first.
    resident_id, encounter_id = str(resident.public_id), str(encounter.public_id)
    return [
        ("/api/v1/cad/calls/{incident_number}", {"incident_number": call.incident_number}),
        ("/api/v1/field/units/{call_sign}", {"call_sign": unit.call_sign}),
        (
            "/api/v1/field/residents/{public_id}/consents/{consent_id}",
            {"public_id": resident_id, "consent_id": str(consent.public_id)},
        ),
        ("/api/v1/field/residents/{public_id}", {"public_id": resident_id}),
        ("/api/v1/field/encounters/{public_id}", {"public_id": encounter_id}),
        ("/api/v1/field/referrals/{public_id}", {"public_id": str(referral.public_id)}),
        ("/api/v1/referrals/{public_id}", {"public_id": str(referral.public_id)}),
        (
            "/api/v1/capacity/{service_at_location_id}",
            {"service_at_location_id": str(sal.public_id)},
        ),
    ]


def known_ids(world, path: str) -> dict | None:
    return next((ids for prefix, ids in world if path.startswith(prefix)), None)


def signed_in(user) -> requests.Session:
    """A browser-like session of `user`: session cookie with the second factor done (as after
    allauth's TOTP step, acs/mfa.py) and the CSRF cookie and header a page would send."""
    client = Client()
    client.force_login(user)
    csrf = get_random_string(32)
    http = requests.Session()
    http.cookies.set(settings.SESSION_COOKIE_NAME, client.session.session_key)
    http.cookies.set(settings.CSRF_COOKIE_NAME, csrf)
    http.headers["X-CSRFToken"] = csrf
    return http


def session_for(role: str, request) -> requests.Session:
    if role == "anonymous":
        return requests.Session()
    if role == "cad":
        _, token = token_issue(role=Role.CAD_INTEGRATION, name="fuzz-cad")
    elif role == "partner":
        agency_a = request.getfixturevalue("agency_a")
        _, token = token_issue(role=Role.PARTNER_USER, name="fuzz", organization=agency_a)
    else:
        return signed_in(request.getfixturevalue(role))
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def fuzz_operation(operation, *, http, base_url, known, examples) -> str | None:
    """Run the operation's cases; the failure report (with a curl line) or None."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))

    @given(case=st.one_of(strategies))
    @hypothesis_settings(
        max_examples=examples * len(strategies),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        print_blob=False,
    )
    def check(case):
        case.call_and_validate(base_url=base_url, session=http, checks=CHECKS, timeout=30)

    try:
        check()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a failed check is an exception group: report it, go on
        return f"{operation.label}: {exc}"
    return None


_schemas: dict[str, schemathesis.BaseSchema] = {}


def load_schema(base_url: str):
    """The schema as the live server serves it, fetched once per server (it does not change
    within a run and takes a while to generate)."""
    if base_url not in _schemas:
        _schemas[base_url] = schemathesis.openapi.from_url(f"{base_url}/api/schema/")
    return _schemas[base_url]


def fuzz_as(role: str, request, live_server, world) -> list[str]:
    schema = load_schema(live_server.url)
    http = session_for(role, request)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27, "the schema lost operations"
    for operation in operations:
        served = operation.path.startswith(SERVED[role])
        report = fuzz_operation(
            operation,
            http=http,
            base_url=live_server.url,
            known=known_ids(world, operation.path),
            examples=EXAMPLES_SERVED if served else EXAMPLES_REFUSED,
        )
        if report:
            failures.append(report)
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_no_input_makes_the_api_fail_or_leave_its_schema(role, request, live_server, world):
    # Not under test here, and the fuzz sends more than a partner's quota in a burst.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "PARTNER_API_RATE", "1000000/minute")
        # The live server answers from threads: persistent connections would outlive the test
        # and keep the test database from being dropped at the end of the run.
        patch.setitem(connections.databases["default"], "CONN_MAX_AGE", 0)
        failures = fuzz_as(role, request, live_server, world)
    assert not failures, f"{len(failures)} operation(s) failed as {role}:\n\n" + "\n\n".join(
        failures
    )
