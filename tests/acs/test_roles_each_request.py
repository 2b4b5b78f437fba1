"""A role taken away is taken away at the next request, through every door. A user's roles are
read once per loaded user (responders/models.py, User.role_names): each request loads the
user afresh, so a role removed between two requests (in the admin, by the IdP's sign-in, by a
script) is never answered from an earlier read."""

from __future__ import annotations

import pytest
from django.test import Client

from acs.roles import Role
from acs.tokens import token_issue
from responders.models import User
from tests.cases.test_cad_api import put_call

pytestmark = pytest.mark.django_db

REFUSED = {302, 401, 403, 404}


def take_roles(user: User) -> None:
    """As the admin or a script would: through another instance, not the one signed in."""
    User.groups.through.objects.filter(user_id=user.pk).delete()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("responder", "/field/"),  # the field app's pages
        ("responder", "/api/v1/field/calls"),  # its API, signed in
        ("case_manager", "/admin/cases/resident/"),  # the desk
        ("supervisor", "/board/"),  # the operations board
        ("partner_a", "/partners/"),  # the partner portal
    ],
)
def test_a_role_taken_away_closes_each_signed_in_door_at_the_next_request(request, persona, path):
    user = request.getfixturevalue(persona)
    client = signed_in(user)
    assert client.get(path).status_code == 200

    take_roles(user)

    assert client.get(path).status_code in REFUSED


def test_a_role_taken_away_closes_a_partner_tokens_door_at_the_next_request(agency_a):
    row, token = token_issue(role=Role.PARTNER_USER, name="ehr", organization=agency_a)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/referrals").status_code == 200

    take_roles(row.user)

    assert client.get("/api/v1/referrals").status_code in REFUSED


def test_a_role_taken_away_closes_the_cad_tokens_door_at_the_next_request(db):
    row, token = token_issue(role=Role.CAD_INTEGRATION, name="cad")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert put_call(client).status_code in {200, 201}

    take_roles(row.user)

    assert put_call(client).status_code in REFUSED
