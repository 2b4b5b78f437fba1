"""One door: every way in goes through allauth's sign-in, its lockout, audit and second factor.

The ways in: allauth's pages (/accounts/), the city's single sign-on when configured
(/accounts/oidc/sso/, responders/sso.py), Django's admin (/admin/login/, its password change),
the JSON and browsable API with a session, the partner portal (/partners/), the field app
(/field/); machine clients use bearer tokens and have no session (tests/acs/test_issue_token.py).
The second factor is required per session: a session that has not passed it is sent to enter
it, whatever the account owns (acs/mfa.py).
"""

import uuid

import pytest
from django.test import Client

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from tests.acs.test_lockout import WRONG, fresh_ip
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.totp import totp_code, totp_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_with_totp(team):
    return UserFactory(username=f"sup-{uuid.uuid4().hex[:8]}", role=Role.SUPERVISOR, team=team)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_sign_in_page_sends_people_to_the_one_sign_in(client):
    response = client.get("/admin/login/?next=/admin/cases/resident/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fcases%2Fresident%2F"
    # Following the admin's own redirect for a signed-out visitor ends at the same place.
    chain = client.get("/admin/", follow=True).redirect_chain
    assert chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"


def test_the_admin_sign_in_page_never_takes_a_password(client, supervisor_with_totp):
    response = client.post(
        "/admin/login/",
        {
            "username": supervisor_with_totp.username,
            "password": DEFAULT_PASSWORD,
            "next": "/admin/",
        },
        REMOTE_ADDR=fresh_ip(),
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not signed_in(client)
    assert client.get("/admin/acs/auditevent/").status_code == 302
    assert client.get("/admin/cases/resident/").status_code == 302


def test_a_next_address_elsewhere_is_not_followed(client):
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_signed_in_staff_go_on_and_others_are_refused(client, supervisor_with_totp, responder):
    client.force_login(supervisor_with_totp)
    response = client.get("/admin/login/?next=/admin/cases/resident/")
    assert response.status_code == 302 and response["Location"] == "/admin/cases/resident/"
    other = Client()
    other.force_login(responder)
    assert other.get("/admin/login/").status_code == 403


def test_a_locked_account_stays_out_by_every_door(client, supervisor_with_totp):
    ip = fresh_ip()
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"login": supervisor_with_totp.username, "password": WRONG},
            REMOTE_ADDR=ip,
        )
    refused = client.post(
        "/accounts/login/",
        {"login": supervisor_with_totp.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=ip,
    )
    assert "Too many failed login attempts" in refused.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT).exists()
    # The admin's page was the way around the lockout: it takes no password at all now.
    client.post(
        "/admin/login/",
        {"username": supervisor_with_totp.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
    )
    assert not signed_in(client)


def test_wrong_passwords_at_the_admin_page_are_not_even_tried(client, supervisor_with_totp):
    """The admin's page let 30 wrong passwords be tried, unrefused and unaudited: now it reads
    none (Django signals every failed authentication; none happens)."""
    from django.contrib.auth.signals import user_login_failed

    tried = []

    def count(sender, **kwargs):
        tried.append(1)

    user_login_failed.connect(count)
    try:
        for _ in range(30):
            client.post(
                "/admin/login/",
                {"username": supervisor_with_totp.username, "password": WRONG},
                REMOTE_ADDR=fresh_ip(),
            )
    finally:
        user_login_failed.disconnect(count)
    assert tried == []


def test_the_admin_password_change_is_allauths(client, supervisor_with_totp):
    client.force_login(supervisor_with_totp)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"


def test_owning_a_factor_is_not_passing_it(client, supervisor_with_totp):
    """The bypass: a session signed in with a password alone (as the admin's page did) read
    residents and the audit trail because the account *has* an authenticator."""
    assert client.login(username=supervisor_with_totp.username, password=DEFAULT_PASSWORD)
    for path in ("/admin/acs/auditevent/", "/admin/cases/resident/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/reauthenticate/?next="), path
    api = client.post(
        "/api/v1/field/residents/search", {"name": "Sunny"}, content_type="application/json"
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "mfa_required"

    # Entering the factor in this session lets it in.
    response = client.post(
        "/accounts/2fa/reauthenticate/?next=/admin/acs/auditevent/",
        {"code": totp_code(supervisor_with_totp)},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/acs/auditevent/"
    assert client.get("/admin/acs/auditevent/").status_code == 200


def test_a_password_only_sign_in_at_the_real_page_reaches_nothing(client, supervisor_with_totp):
    response = client.post(
        "/accounts/login/",
        {"login": supervisor_with_totp.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
    )
    assert response["Location"].startswith("/accounts/2fa/authenticate/")
    assert not signed_in(client)
    assert client.get("/admin/cases/resident/")["Location"].startswith("/admin/login/")
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_code(supervisor_with_totp)})
    assert response.status_code == 302 and response["Location"] == "/admin/"  # the desk's home
    assert client.get("/admin/cases/resident/").status_code == 200


@pytest.mark.django_db(transaction=True)  # allauth signals the new factor on commit
def test_setting_up_a_factor_passes_it_for_that_session_and_leads_back_to_work(client, team):
    """A new colleague's first sign-in: told why a second factor, not asked for the password
    typed seconds ago, the recovery codes shown without asking again, then a way back to the
    page they were going to (responders/adapters.py, acs/mfa.py)."""
    new = UserFactory(username="new-sup", role=Role.SUPERVISOR, team=team, second_factor=False)
    client.post(
        "/accounts/login/",
        {"login": new.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
    )
    assert signed_in(client)
    assert client.get("/admin/cases/resident/")["Location"] == "/accounts/2fa/"
    index = client.get("/accounts/2fa/")
    assert "needs a second sign-in step" in index.content.decode()
    # A favicon asked for meanwhile is not where the person was going.
    client.get("/favicon.ico", HTTP_SEC_FETCH_DEST="image")
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # no second password prompt
    response = client.post(
        "/accounts/2fa/totp/activate/", {"code": totp_now(page.context["form"].secret)}
    )
    assert response["Location"] == "/accounts/2fa/recovery-codes/"
    codes = client.get(response["Location"])
    assert codes.status_code == 200  # shown without asking again
    assert 'href="/admin/cases/resident/"' in codes.content.decode()
    assert "continue to your work" in codes.content.decode()
    assert client.get("/admin/").status_code == 200
    # On their way: the offer is gone.
    assert "continue to your work" not in client.get("/accounts/2fa/").content.decode()


def test_a_factor_proven_long_ago_is_asked_for_again_before_changing_factors(
    client, supervisor_with_totp
):
    import time

    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    client.force_login(supervisor_with_totp)
    assert client.get("/accounts/2fa/webauthn/add/").status_code == 200  # just proven
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] = time.time() - 3600
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()
    page = client.get("/accounts/2fa/webauthn/add/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/reauthenticate/")


@pytest.mark.parametrize("path", ["/partners/", "/field/", "/admin/", "/api/v1/me"])
def test_every_page_door_leads_to_the_one_sign_in(client, path):
    response = client.get(path, follow=True)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403)
        return
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")


def test_the_city_sign_in_door_keeps_the_lockout_the_audit_and_the_second_factor(client, sso, team):
    """Single sign-on is a door too (tests/responders/test_sso.py has the rest): a locked
    account stays out by it, audited; a session through it that the IdP did not vouch for
    with multi-factor sign-in reaches no personal data before a local second factor."""
    from tests.oidc_idp import sso_sign_in

    locked = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    ip = fresh_ip()
    for _ in range(5):
        client.post("/accounts/login/", {"login": "localsup", "password": WRONG}, REMOTE_ADDR=ip)
    assert sso_sign_in(client, sso, "localsup").status_code == 403
    assert not signed_in(client)
    assert AuditEvent.objects.filter(
        action=AuditAction.LOCKED_OUT, target_id=locked.public_id, detail={"sso": "locked"}
    ).exists()

    sso_sign_in(client, sso, "carl")  # a case manager; the IdP asserts no MFA
    assert signed_in(client)
    assert client.get("/admin/cases/resident/")["Location"] == "/accounts/2fa/"
    api = client.post(
        "/api/v1/field/residents/search", {"name": "Sunny"}, content_type="application/json"
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "mfa_required"
