"""Case managers, supervisors and admins need a second factor before any personal data."""

import pytest

from acs.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def without_mfa(db):
    return UserFactory(username="new-cm", role=Role.CASE_MANAGER, second_factor=False)


def test_pages_send_staff_without_a_second_factor_to_set_one_up(client, without_mfa):
    client.force_login(without_mfa)
    response = client.get("/admin/cases/resident/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"


def test_the_api_refuses_them_with_a_clear_code(client, without_mfa):
    client.force_login(without_mfa)
    response = client.post(
        "/api/v1/field/residents/search", {"name": "Sunny"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_required"


def test_set_up_sign_out_and_public_pages_stay_open(client, without_mfa):
    client.force_login(without_mfa)
    setup = client.get("/accounts/2fa/totp/activate/")
    # allauth asks for the password again first (a fresh sign-in goes straight through).
    assert setup.status_code == 200 or setup["Location"].startswith("/accounts/reauthenticate/")
    assert client.get("/transparency/").status_code == 200
    assert client.get("/api/hsds/services").status_code == 200


def test_with_a_second_factor_they_get_in(client, case_manager):
    client.force_login(case_manager)
    assert client.get("/admin/cases/resident/").status_code == 200


def test_responders_and_partners_are_not_required(client, responder, partner_a):
    for user in (responder, partner_a):
        client.force_login(user)
        assert client.get("/api/v1/me").status_code == 200


def test_it_can_be_turned_off_for_a_local_demo(client, without_mfa, settings):
    settings.MFA_REQUIRED = False
    client.force_login(without_mfa)
    assert client.get("/admin/cases/resident/").status_code == 200
