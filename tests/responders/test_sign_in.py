"""Sign-in through django-allauth: username or e-mail, rate-limited, no self sign-up."""

import uuid

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


@pytest.fixture
def client_ip():
    # A documentation-range address of its own per test, so that allauth's per-IP limits
    # (kept in the real cache) never carry over from one test, or one run, to another.
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def sign_in(client, login, password, ip):
    return client.post(LOGIN_URL, {"login": login, "password": password}, REMOTE_ADDR=ip)


def test_staff_sign_in_with_username(client, responder, client_ip):
    response = sign_in(client, "responder", DEFAULT_PASSWORD, client_ip)

    assert response.status_code == 302
    # A responder's day starts in the field app (responders/adapters.py home_for).
    assert response["Location"] == "/field/"
    assert client.get("/", REMOTE_ADDR=client_ip).status_code == 200


def test_each_role_lands_on_its_own_home(
    client, partner_a, outsider, case_manager, supervisor, admin_user, client_ip
):
    from responders.adapters import home_for

    assert sign_in(client, "partner-a", DEFAULT_PASSWORD, client_ip)["Location"] == "/partners/"
    client.logout()
    assert sign_in(client, "outsider", DEFAULT_PASSWORD, client_ip)["Location"] == "/"
    # Desk roles pass their second factor first (tests/acs/test_one_door.py), then land here.
    for desk in (case_manager, supervisor, admin_user):
        assert home_for(desk) == "/admin/"


def test_staff_sign_in_with_email(client, responder, client_ip):
    response = sign_in(client, responder.email, DEFAULT_PASSWORD, client_ip)

    assert response.status_code == 302
    home = client.get("/", REMOTE_ADDR=client_ip)
    assert "Responder" in home.content.decode()


def test_a_wrong_password_is_refused(client, responder, client_ip):
    response = sign_in(client, "responder", "not-the-password", client_ip)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_repeated_failed_sign_ins_lock_the_account_out_for_a_while(client, client_ip):
    username = f"target-{uuid.uuid4().hex[:8]}"
    UserFactory(username=username)

    for _ in range(5):
        response = sign_in(client, username, "wrong-password", client_ip)
        assert "Too many failed login attempts" not in response.content.decode()

    # Even the right password is refused while the limit holds.
    response = sign_in(client, username, DEFAULT_PASSWORD, client_ip)
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_too_many_sign_in_attempts_from_one_address_get_429(client, client_ip):
    statuses = [
        sign_in(client, f"nobody-{n}", "wrong-password", client_ip).status_code for n in range(31)
    ]

    assert 429 in statuses
    assert statuses[0] == 200


def test_nobody_can_sign_up(client, client_ip):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "intruder",
            "email": "i@example.org",
            "password1": "x" * 20,
            "password2": "x" * 20,
        },
        REMOTE_ADDR=client_ip,
    )

    from responders.models import User

    assert not User.objects.filter(username="intruder").exists()
    assert "closed" in response.content.decode().lower()


def test_pages_for_staff_need_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_mfa_is_available_to_staff(client, case_manager, client_ip):
    client.force_login(case_manager)

    response = client.get("/accounts/2fa/", REMOTE_ADDR=client_ip)

    assert response.status_code == 200


def test_the_sign_in_page_does_not_invite_a_sign_up(client):
    page = client.get(LOGIN_URL).content.decode()
    assert "sign up" not in page.lower() and "/accounts/signup/" not in page
    assert "ask your supervisor or administrator for an account" in page
    spanish = client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "pida una cuenta a su supervisor o administrador" in spanish


def test_the_admin_says_what_it_is(client, case_manager):
    client.force_login(case_manager)
    page = client.get("/admin/").content.decode()
    assert "Django administration" not in page and "ACS case management" in page
