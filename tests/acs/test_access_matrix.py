"""The access matrix of shared/DOMAIN.md, cell by cell: every role against every surface, read
and write, allowed and refused (docs/security.md shows the same table).

"ok" means the request is served (2xx, or a 4xx about the input, never about who asks);
"no" means refused because of who asks: 401/403 for the API, a redirect to sign-in or 403 for
pages. A resident's record that exists but is out of reach is a 404, the same as a missing one.
"""

import json
import uuid

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "responder",
    "case_manager",
    "supervisor",
    "admin_user",
    "partner_a",
    "cad_client",
    "outsider",
]
STAFF = {"case_manager", "supervisor", "admin_user"}
FIELD = {"responder", *STAFF}
SIGNED_IN = set(ROLES) - {"anonymous"}
EVERYONE = set(ROLES)

# surface -> (method, path, body, who may)
MATRIX = {
    "who am I": ("get", "/api/v1/me", None, SIGNED_IN),
    "CAD: create a call": (
        "put",
        "/api/v1/cad/calls/T-9",
        {"call_type": "WELFARE", "priority": 3, "source": "911", "received_at": "bad"},
        {"cad_client"},
    ),
    "field: my unit's calls": ("get", "/api/v1/field/calls", None, {"responder"}),
    "field: search residents": (
        "post",
        "/api/v1/field/residents/search",
        {"name": "Sunny"},
        FIELD,
    ),
    "field: refer a resident": ("post", "/api/v1/field/referrals", {}, FIELD),
    "partner: referral feed": ("get", "/api/v1/referrals", None, {"partner_a"}),
    "partner: set capacity": (
        "put",
        f"/api/v1/capacity/{uuid.uuid4()}",
        {"available": 1, "total": 2},
        {"partner_a"},
    ),
    "public: HSDS directory": ("get", "/api/hsds/services", None, EVERYONE),
    "public: transparency": ("get", "/transparency/", None, EVERYONE),
    "partner portal": ("get", "/partners/", None, {"partner_a"}),
    "admin: residents": ("get", "/admin/cases/resident/", None, STAFF),
    "admin: follow-up queue": ("get", "/admin/cases/followup/", None, STAFF),
    "admin: referrals": ("get", "/admin/resources/referral/", None, STAFF),
    "admin: addenda": ("get", "/admin/cases/addendum/", None, STAFF),
    "admin: audit trail": ("get", "/admin/acs/auditevent/", None, {"supervisor", "admin_user"}),
    "admin: API tokens": ("get", "/admin/acs/apitoken/", None, {"admin_user"}),
    # Units' positions and every open call: desk roles only (docs/security.md "Unit positions").
    "board: operations board": ("get", "/board/", None, STAFF),
    "board: live updates": ("get", "/board/data", None, STAFF),
}


def client_for(role, request) -> Client:
    if role == "cad_client":  # a machine client: a bearer token, as CAD sends it
        from acs.roles import Role
        from acs.tokens import token_issue

        _, token = token_issue(role=Role.CAD_INTEGRATION, name="matrix-cad")
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


def refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    if response.status_code == 302:
        return "/login" in response["Location"]
    return False


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", list(MATRIX))
def test_access_matrix(surface, role, request):
    method, path, body, allowed = MATRIX[surface]
    client = client_for(role, request)
    if method == "get":
        response = client.get(path)
    else:
        response = getattr(client, method)(path, json.dumps(body), content_type="application/json")
    if role in allowed:
        assert not refused(response), f"{role} refused on {surface}: {response.status_code}"
        assert response.status_code < 500
    else:
        assert refused(response), f"{role} let into {surface}: {response.status_code}"


def test_every_surface_in_the_matrix_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    for surface in MATRIX:
        assert surface in text, surface
