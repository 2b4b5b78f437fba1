"""Property-based fuzz of the whole API from its own OpenAPI schema (issues #9, #16).

Schemathesis reads GET /api/schema/ from the live test server and, for every operation, sends
generated requests (valid ones, and deliberately invalid ones) with each role's credentials:
CAD's token, agency A's partner token, signed-in responder, case manager, supervisor and
administrator (their second factor done), and no one. Every check schemathesis has applies:
whatever the role and the input, the API never answers 5xx, every answer is one the schema
documents (status code, content type, headers, body), a request the schema allows is not
refused as invalid, one it forbids is not accepted, and so on. So the schema tells the truth
about what the API takes (acs/openapi.py states the rules beyond the fields' types).

Some of the generated requests use the ids of seeded records (a call, a resident, an encounter,
a consent, a referral, a service at a location), so the fuzz reaches existing objects and their
state machines too, not only the 404 of an unknown id. The stateful run follows the schema's
links instead: the id one response returns goes into the next request (a resident created,
then read, changed, given a consent that is then revoked; a referral listed, then accepted,
started, completed).

The run is bounded and reproducible: few examples per operation, Hypothesis derandomized (the
same cases every run, no example database), no deadline (the shared CI machine is slow).
"""

from __future__ import annotations

import contextlib
import itertools
import re

import pytest
import schemathesis
from django.db import connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    ensure_resource_availability,
    positive_data_acceptance,
)

from tests.acs.api_callers import credentials_for, known_ids

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ["anonymous", "cad", "partner", "responder", "case_manager", "supervisor", "admin"]
# Where each role is served; elsewhere it is refused (401/403), which needs fewer examples.
SERVED = {
    "anonymous": (),
    "cad": ("/api/v1/cad/", "/api/v1/me"),
    "partner": ("/api/v1/referrals", "/api/v1/capacity/", "/api/v1/me"),
    "responder": ("/api/v1/field/", "/api/v1/me"),
    "case_manager": ("/api/v1/field/", "/api/v1/me"),
    "supervisor": ("/api/v1/field/", "/api/v1/me"),
    "admin": ("/api/v1/field/", "/api/v1/me"),
}
# The few rules no JSON Schema can state (one value against another, or against the clock),
# which the operation's schema says in words: a 400 that names only these fields is a refusal
# the schema announced, not a valid request refused.
UNSTATABLE = {
    "PUT /api/v1/capacity/{service_at_location_id}": {"available"},
    "POST /api/v1/field/residents/{public_id}/consents": {"expires_at"},
    # Whether a phone number can exist is libphonenumber's numbering plans, not a pattern (the
    # schema says so in words: acs/phones.py).
    "POST /api/v1/field/residents": {"phone"},
    "PATCH /api/v1/field/residents/{public_id}": {"phone"},
}
# Examples per strategy and operation: enough to find the classic failures (see the module
# docstring of tests/acs/test_hostile_input.py for the targeted ones), few enough for CI.
EXAMPLES_SERVED = 4
EXAMPLES_REFUSED = 1


def positive_data_accepted(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for the rules listed in UNSTATABLE and an
    Idempotency-Key sent before with another request (422): a key's uniqueness is the
    client's to keep, and the fuzz draws the same short keys again."""
    if response.status_code in (400, 422):
        error = response.json()["error"]
        if error["code"] == "idempotency_key_reused":
            return None
        fields = set(error["fields"])
        if fields and fields <= UNSTATABLE.get(case.operation.label, set()):
            return None
    return positive_data_acceptance(ctx, response, case)


def created_record_available(ctx, response, case):
    """schemathesis's ensure_resource_availability (a record just created is found by the next
    request that names it in its URL), for 404s about the URL's record: a 404 that names an
    input in `fields` is about a record the body named (acs.errors.NotFound)."""
    if response.status_code == 404 and response.json()["error"]["fields"]:
        return None
    return ensure_resource_availability(ctx, response, case)


# Every check schemathesis has, two of them narrowed as their docstrings say.
CHECKS = {
    "excluded_checks": [positive_data_acceptance, ensure_resource_availability],
    "additional_checks": [positive_data_accepted, created_record_available],
}


def fuzz_operation(operation, *, headers, base_url, known, examples) -> str | None:
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
        case.call_and_validate(base_url=base_url, headers=headers, timeout=30, **CHECKS)

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
    within a run and takes a while to generate). The credentials are the role's, never
    generated ones: a made-up session cookie would only sign the role out."""
    if base_url not in _schemas:
        config = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
        _schemas[base_url] = schemathesis.openapi.from_url(f"{base_url}/api/schema/", config=config)
    return _schemas[base_url]


def fuzz_as(role: str, request, live_server, api_world) -> list[str]:
    schema = load_schema(live_server.url)
    headers = credentials_for(role, request)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27, "the schema lost operations"
    for operation in operations:
        served = operation.path.startswith(SERVED[role])
        report = fuzz_operation(
            operation,
            headers=headers,
            base_url=live_server.url,
            known=known_ids(api_world, operation.path),
            examples=EXAMPLES_SERVED if served else EXAMPLES_REFUSED,
        )
        if report:
            failures.append(report)
    return failures


@pytest.fixture
def one_connection_per_request():
    """The live server answers from threads: persistent connections would outlive the test
    and keep the test database from being dropped at the end of the run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(connections.databases["default"], "CONN_MAX_AGE", 0)
        yield


@pytest.mark.parametrize("role", ROLES)
def test_no_input_makes_the_api_fail_or_leave_its_schema(
    role, request, live_server, api_world, one_connection_per_request
):
    failures = fuzz_as(role, request, live_server, api_world)

    assert not failures, f"{len(failures)} operation(s) failed as {role}:\n\n" + "\n\n".join(
        failures
    )


# Scenarios per role, and calls per scenario: the links are few and short.
SCENARIOS = 12
STEPS = 6


@pytest.mark.parametrize("role", ROLES)
def test_linked_operations_keep_to_the_schema(
    role, request, live_server, api_world, one_connection_per_request
):
    """Scenarios that follow the schema's links through what the role may do (a role refused
    everywhere tries everything), the first request of every other scenario on the seeded
    records."""
    schema = load_schema(live_server.url)
    if SERVED[role]:
        served = "|".join(re.escape(prefix) for prefix in SERVED[role])
        schema = schema.include(path_regex=f"^(?:{served})")
    headers = credentials_for(role, request)
    roots = itertools.count()
    scenarios, failures = [], {}

    class AsRole(schema.as_state_machine()):
        def step(self, input):
            case = input.case
            known = known_ids(api_world, case.path)
            positive = case.meta is None or not case.meta.generation.mode.is_negative
            if input.transition is None and known and positive and next(roots) % 2:
                case.path_parameters = {**(case.path_parameters or {}), **known}
            return super().step(input)

        def get_call_kwargs(self, case):
            return {"headers": headers, "base_url": live_server.url, "timeout": 30}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(
                    response,
                    headers=headers,
                    transport_kwargs=kwargs,
                    recorder=self.recorder,
                    **CHECKS,
                )
            except FailureGroup as exc:
                failures.setdefault(case.operation.label, str(exc))
                raise

        def teardown(self):
            scenarios.append(self)
            super().teardown()

    # The records the links lead to are new each time, so Hypothesis cannot replay a scenario
    # draw for draw: it gives up on the run with Flaky. Like schemathesis's own runner, judge
    # what ran by the failures seen, and go on with the scenarios left.
    for _ in range(SCENARIOS):
        if failures or len(scenarios) >= SCENARIOS:
            break
        with contextlib.suppress(Flaky, FailureGroup):
            AsRole.run(
                settings=hypothesis_settings(
                    max_examples=SCENARIOS - len(scenarios),
                    stateful_step_count=STEPS,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.generate],
                    print_blob=False,
                )
            )

    assert not failures, f"{len(failures)} operation(s) failed as {role}:\n\n" + "\n\n".join(
        f"{label}: {report}" for label, report in failures.items()
    )
