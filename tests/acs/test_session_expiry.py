"""Shared tablets: a signed-in session ends after SESSION_IDLE_TIMEOUT without activity.

Time is moved as elsewhere in the suite, by putting the stored moment in the past: here the
session's last-activity stamp (acs/sessions.py), so no test sleeps.
"""

import logging

import pytest
from django.conf import settings
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from acs.sessions import SESSION_KEY
from acs.tokens import token_issue
from tests.acs.test_settings import run_django
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

BACKGROUND = {"HTTP_X_ACS_BACKGROUND": "1"}


def idle_for(client, seconds: float) -> float:
    """Make the session's last activity `seconds` ago; return that moment."""
    session = client.session
    moment = timezone.now().timestamp() - seconds
    session[SESSION_KEY] = moment
    session.save()
    return moment


def last_activity(client) -> float:
    return client.session[SESSION_KEY]


@pytest.fixture
def signed_in(client, responder):
    client.force_login(responder)
    assert client.get("/").status_code == 200  # starts the idle clock
    return client


def test_the_idle_limit_defaults_to_30_minutes_on_top_of_the_absolute_age():
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60


def test_the_idle_limit_is_configured_from_the_environment():
    result = run_django(
        "from django.conf import settings as s; print(s.SESSION_IDLE_TIMEOUT)",
        ACS_ENVIRONMENT="test",
        ACS_SKIP_DOTENV="1",
        SESSION_IDLE_TIMEOUT="900",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["900"]


def test_the_idle_clock_starts_at_sign_in(client, responder):
    response = client.post(
        "/accounts/login/",
        {"login": responder.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="192.0.2.77",
    )

    assert response.status_code == 302
    assert last_activity(client) == pytest.approx(timezone.now().timestamp(), abs=5)


def test_a_session_used_within_the_limit_stays_signed_in_and_the_clock_restarts(signed_in):
    before = idle_for(signed_in, 29 * 60)

    assert signed_in.get("/").status_code == 200
    assert "_auth_user_id" in signed_in.session
    assert last_activity(signed_in) > before + 28 * 60


def test_after_30_idle_minutes_a_page_sends_to_sign_in_with_a_message(signed_in):
    idle_for(signed_in, 31 * 60)

    response = signed_in.get("/admin/cases/resident/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/cases/resident/"
    assert "_auth_user_id" not in signed_in.session
    page = signed_in.get(response["Location"])
    assert "You were signed out after 30 minutes without activity." in page.content.decode()


def test_after_the_idle_limit_the_api_answers_401_in_the_one_error_shape(signed_in):
    idle_for(signed_in, 31 * 60)

    response = signed_in.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "session_expired",
            "message": "You were signed out after 30 minutes without activity.",
            "fields": {},
        }
    }
    assert signed_in.get("/api/v1/me").status_code in {401, 403}  # now simply signed out


def test_background_requests_do_not_count_as_activity(signed_in):
    before = idle_for(signed_in, 20 * 60)

    for _ in range(3):
        assert signed_in.get("/api/v1/me", **BACKGROUND).status_code == 200

    assert last_activity(signed_in) == before
    # The same request without the header is activity.
    assert signed_in.get("/api/v1/me").status_code == 200
    assert last_activity(signed_in) > before + 19 * 60


def test_background_requests_are_refused_once_the_session_is_idle(signed_in):
    idle_for(signed_in, 31 * 60)

    response = signed_in.get("/api/v1/me", **BACKGROUND)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"
    assert "_auth_user_id" not in signed_in.session


def test_a_background_page_request_gets_json_not_a_redirect(signed_in):
    idle_for(signed_in, 31 * 60)

    response = signed_in.get("/", **BACKGROUND)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"


def test_the_idle_sign_out_is_audited_without_personal_data(signed_in, responder, caplog):
    idle_for(signed_in, 45 * 60)

    with caplog.at_level(logging.INFO, logger="acs.sessions"):
        signed_in.get("/")

    event = AuditEvent.objects.get(action=AuditAction.IDLE_SIGN_OUT)
    assert event.actor == responder
    assert event.target_type == "responders.user"
    assert event.target_id == responder.public_id
    assert event.detail == {"idle_seconds": pytest.approx(45 * 60, abs=5), "background": False}
    assert str(responder.public_id) in caplog.text
    assert responder.username not in caplog.text
    assert responder.email not in caplog.text


def test_the_limit_follows_the_setting(signed_in, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    idle_for(signed_in, 6 * 60)

    response = signed_in.get("/api/v1/me")

    assert response.status_code == 401
    assert "after 5 minutes without activity" in response.json()["error"]["message"]


def test_bearer_token_clients_are_not_affected(client, responder):
    row, token = token_issue(role=Role.CAD_INTEGRATION, name="cad-idle")
    # Even a stale session cookie alongside the token is left alone.
    client.force_login(responder)
    client.get("/")
    idle_for(client, 3 * 60 * 60)

    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert response.json()["id"] == str(row.user.public_id)
    assert not AuditEvent.objects.filter(action=AuditAction.IDLE_SIGN_OUT).exists()
