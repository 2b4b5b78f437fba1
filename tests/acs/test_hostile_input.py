"""Hostile input against the real endpoints (issue #9): bodies too large, nested too deep or
badly encoded, NUL characters (PostgreSQL refuses them in text: the classic 500), and
injection strings in every search. The rule: a clean 4xx in the one error shape, or a clean
200 that does not match everything; never a 500.

The schema fuzz (tests/acs/test_api_fuzz.py) covers random input to every operation; these
are the known-nasty inputs it is unlikely to generate, aimed at each surface.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from acs.roles import Role
from acs.tokens import token_issue
from resources import services as resource_services
from tests.factories import (
    OrganizationFactory,
    ResidentFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
)
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db

CALL = {"call_type": "WELFARE", "priority": 3, "source": "911", "received_at": "2026-11-24T10:00Z"}
SEARCH = "/api/v1/field/residents/search"
# SQL and LIKE meta characters, regular-expression and trigram edge cases, Unicode oddities.
INJECTIONS = [
    "' OR '1'='1",
    "'; DROP TABLE cases_resident; --",
    '" OR ""="',
    "%",
    "%%",
    "_",
    "__%__",
    "\\",
    "\\%",
    "*",
    ".*",
    "(a+)+$",
    "[[:alpha:]]",
    "a" * 150,
    "🙂🙂🙂",
    "\u202erosa",  # right-to-left override
    "\u200fRosa\u200e",  # right-to-left and left-to-right marks
    "\uff32\uff4f\uff53\uff41",  # "Rosa" in full-width letters
    "$1 ${x} {{x}} <script>",
]


def assert_error_shape(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert isinstance(error["message"], str) and error["message"]
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in error["fields"].values()
    )
    return error


@pytest.fixture
def field(responder) -> Client:
    client = Client()
    client.force_login(responder)
    return client


@pytest.fixture
def desk(case_manager) -> Client:
    """A case manager, second factor done (acs/mfa.py)."""
    client = Client()
    client.force_login(case_manager)
    return client


@pytest.fixture
def cad(db) -> Client:
    _, token = token_issue(role=Role.CAD_INTEGRATION, name="hostile-cad")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def partner(agency_a) -> Client:
    _, token = token_issue(role=Role.PARTNER_USER, name="hostile", organization=agency_a)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def residents(db):
    return [
        ResidentFactory(preferred_name=name, legal_name=name)
        for name in ("Rosa Martinez", "John Smith", "Maria Lopez")
    ]


def post_raw(client, path, body: bytes, content_type="application/json", **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


# --- bodies too large -------------------------------------------------------------------------


def test_a_cad_body_over_the_api_limit_is_refused_with_413(cad):
    body = json.dumps({**CALL, "notes": "x" * (settings.API_MAX_BODY_BYTES + 1)})
    response = cad.generic("PUT", "/api/v1/cad/calls/T-1", body, content_type="application/json")

    assert assert_error_shape(response, 413)["code"] == "payload_too_large"


def test_a_field_body_over_djangos_upload_limit_is_refused_with_413(field, residents):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = post_raw(field, SEARCH, body.encode())

    assert assert_error_shape(response, 413)["code"] == "payload_too_large"


def test_an_oversized_form_body_is_refused_in_the_error_shape_not_djangos_page(responder):
    # The CSRF check of a signed-in request reads a form body for the token: the API takes
    # JSON only, so the form is refused (415) before Django would read (or refuse) it.
    client = Client(enforce_csrf_checks=True)
    client.force_login(responder)
    client.cookies[settings.CSRF_COOKIE_NAME] = "x" * 32
    body = b"name=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = post_raw(client, SEARCH, body, content_type="application/x-www-form-urlencoded")

    assert_error_shape(response, 415)


def test_a_partner_body_over_the_api_limit_is_refused_with_413(partner):
    body = json.dumps({"note": "x" * (settings.API_MAX_BODY_BYTES + 1)})

    response = post_raw(
        partner, "/api/v1/referrals/00000000-0000-0000-0000-000000000000/notes", body.encode()
    )

    assert_error_shape(response, 413, 404)


# --- nesting and encodings ------------------------------------------------------------------


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_recursion_error(field, depth):
    body = ("[" * depth + "]" * depth).encode()

    response = post_raw(field, SEARCH, body)

    assert assert_error_shape(response, 400)["code"] == "parse_error"


def test_deeply_nested_json_to_cad_is_refused(cad):
    depth = 5_000  # well under the body limit, far over any sane nesting
    body = '{"call_type": ' + "[" * depth + "]" * depth + "}"

    response = cad.generic("PUT", "/api/v1/cad/calls/T-1", body, content_type="application/json")

    assert_error_shape(response, 400)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"name": "\xff\xfe\xfa"}', "application/json"),  # not UTF-8 at all
        (b'{"name": "\xc3\x28"}', "application/json"),  # a broken two-byte sequence
        ('{"name": "Rosa"}'.encode("utf-16"), "application/json; charset=utf-8"),
        ('{"name": "Rosa"}'.encode("utf-16-le"), "application/json"),
        (b'{"name": "Rosa"', "application/json"),  # truncated
        (b"\x00\x00\x00", "application/json"),
        (b"name=Rosa", "text/plain"),
    ],
)
def test_badly_encoded_bodies_are_a_4xx_in_the_error_shape(field, residents, body, content_type):
    response = post_raw(field, SEARCH, body, content_type=content_type)

    assert_error_shape(response, 400, 415)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", SEARCH, {"name": "Ro\u0000sa"}),
        ("post", "/api/v1/field/residents", {"preferred_name": "Ro\u0000sa", "confirm_new": True}),
        ("put", "/api/v1/cad/calls/T-2", {**CALL, "notes": "a\u0000b"}),
        ("put", "/api/v1/cad/calls/T-2", {**CALL, "call_type": "\u0000"}),
    ],
)
def test_nul_characters_in_strings_are_a_400(field, cad, residents, method, path, body):
    client = cad if "/cad/" in path else field
    response = getattr(client, method)(path, json.dumps(body), content_type="application/json")

    assert_error_shape(response, 400)


def test_nul_characters_in_partner_writes_are_a_400(partner, agency_a, case_manager):
    service, sal = referrable_service(agency_a)
    referral = resource_services.referral_create(
        actor=case_manager,
        resident=consenting_resident(agency_a, recorded_by=case_manager),
        service=service,
        service_at_location=sal,
        reason="Needs a bed tonight",
        needs=["shelter"],
        send=True,
    )
    path = f"/api/v1/referrals/{referral.public_id}"

    note = partner.post(f"{path}/notes", {"note": "x\u0000"}, content_type="application/json")
    key = partner.post(
        f"{path}/accept", {}, content_type="application/json", HTTP_IDEMPOTENCY_KEY="a\u0000b"
    )
    decline = partner.post(f"{path}/decline", {"reason": "\u0000"}, content_type="application/json")

    assert_error_shape(note, 400)
    assert_error_shape(key, 400)
    assert_error_shape(decline, 400)


# --- injection strings in searches ------------------------------------------------------------


@pytest.mark.parametrize("name", INJECTIONS)
def test_resident_search_treats_meta_characters_as_text(field, residents, name):
    response = field.post(SEARCH, {"name": name}, content_type="application/json")

    assert response.status_code == 200
    found = {row["id"] for row in response.json()["results"]}
    assert len(found) < len(residents)


def test_a_resident_search_too_long_is_a_400(field, residents):
    response = field.post(SEARCH, {"name": "a" * 151}, content_type="application/json")

    assert "name" in assert_error_shape(response, 400)["fields"]


@pytest.fixture
def directory(db):
    # Names chosen so that no injection string is, as plain text, similar to them.
    return [
        ServiceAtLocationFactory(
            service=ServiceFactory(
                name=name, description=name, organization=OrganizationFactory(name=org)
            )
        )
        for name, org in (("Night Shelter", "Westside Trust"), ("Food Pantry", "Northside Help"))
    ]


@pytest.mark.parametrize("search", INJECTIONS)
def test_directory_search_treats_meta_characters_as_text(client, directory, search):
    for path in ("/api/hsds/services", "/api/hsds/service_at_locations"):
        response = client.get(path, {"search": search})

        assert response.status_code in (200, 400), (path, response.status_code)
        if response.status_code == 200:
            assert response.json()["total_items"] < len(directory)
        else:
            assert_error_shape(response, 400)


@pytest.mark.parametrize(
    "query",
    [
        {"search": "a\u0000b"},
        {"search": "x" * 5000},
        {"page": "-1"},
        {"page": "99999999999999999999999"},
        {"per_page": "0"},
        {"modified_after": "garbage"},
        {"modified_after": "9999-99-99T99:99:99Z"},
        {"taxonomy_term_id": "not-a-uuid,%"},
        {"organization_id": "' OR 1=1"},
        {"latitude": "nan", "longitude": "nan"},
        {"latitude": "inf", "longitude": "-inf", "radius_km": "1e308"},
        {"latitude": "35.08", "longitude": "-106.65", "radius_km": "-5"},
        {"latitude": "35.08", "longitude": "-106.65", "radius_km": "1e308"},
        {"open_at": "garbage"},
        {"open_at": "0001-01-01T00:00:00Z"},
        {"language": "\u0000"},
        {"postcode": "%", "proximity": "99999999999"},
        {"accepts_referrals": "maybe"},
    ],
)
def test_directory_query_garbage_is_a_clean_400_or_200(client, directory, query):
    # The field app's directory search is this endpoint with a point and filters.
    response = client.get("/api/hsds/service_at_locations", query)

    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert_error_shape(response, 400)


@pytest.mark.parametrize(
    "query",
    [
        {"updated_since": "garbage"},
        {"updated_since": "2026-13-45T00:00:00Z"},
        {"updated_since": "0000-01-01T00:00:00Z"},
        {"updated_since": "9999-12-31T23:59:59+99:00"},
        {"updated_since": "\u0000"},
        {"status": "' OR 1=1 --"},
        {"status": "%"},
        {"cursor": "garbage"},
        {"cursor": "%00"},
        {"page_size": "-1"},
        {"page_size": "99999999999999999999"},
    ],
)
def test_partner_feed_filters_refuse_garbage_cleanly(partner, query):
    response = partner.get("/api/v1/referrals", query)

    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code != 200:
        assert_error_shape(response, 400, 404)


@pytest.mark.parametrize(
    "incident_number",
    ["' OR 1=1 --", "%25", "a" * 500, "\u202e123", "T-1%00", "T-1%0A", "🙂"],
)
def test_cad_incident_numbers_that_are_injections_are_refused(cad, incident_number):
    response = cad.put(
        f"/api/v1/cad/calls/{incident_number}", json.dumps(CALL), content_type="application/json"
    )

    assert_error_shape(response, 400, 404)


@pytest.mark.parametrize(
    "query",
    [
        {"start": "garbage"},
        {"start": "0000-00"},
        {"start": "9999-12", "end": "0001-01"},
        {"start": "2026-02", "end": "2026-01"},
        {"start": "\u0000"},
        {"district": "' OR 1=1 --"},
        {"district": "\u0000"},
        {"district": "%"},
    ],
)
@pytest.mark.parametrize(
    "path", ["/transparency/", "/transparency/metrics.json", "/transparency/metrics.csv"]
)
def test_transparency_query_garbage_is_a_clean_answer(client, path, query):
    response = client.get(path, query)

    # The page shows the form's errors (HTML); the data endpoints answer in the error shape.
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400 and path.endswith(".json"):
        assert_error_shape(response, 400)


@pytest.mark.parametrize(
    "query",
    [
        {"status": "garbage"},
        {"status": "\u0000"},
        {"page": "-1"},
        {"page": "\u0000"},
        {"page": "99999999999999999999"},
        {"status": "' OR 1=1 --", "page": "%"},
    ],
)
def test_partner_portal_query_garbage_is_a_clean_200(partner_a, query):
    client = Client()
    client.force_login(partner_a)

    response = client.get("/partners/", query)

    assert response.status_code == 200


def test_desk_can_search_with_hostile_input_too(desk, residents):
    """The same search as a case manager (who may see every resident): still no match-all."""
    for name in ("%", "_", "' OR '1'='1"):
        response = desk.post(SEARCH, {"name": name}, content_type="application/json")
        assert response.status_code == 200
        assert len(response.json()["results"]) < len(residents)


def test_unknown_api_paths_answer_in_the_error_shape(field):
    for path in ("/api/v1/field/residents/not-a-uuid", "/api/v1/nowhere", "/api/hsds/x/y/z"):
        assert assert_error_shape(field.get(path), 404)["code"] == "not_found"
