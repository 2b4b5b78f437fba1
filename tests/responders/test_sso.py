"""Single sign-on through the city's identity provider (responders/sso.py), against a real one.

Each test signs in through a running OpenID Connect provider (tests/oidc_idp.py: the OpenID
Certified node-oidc-provider, our accounts and groups in it): the button's POST, the IdP's
sign-in page, its redirect back, the code exchanged for tokens over HTTP, the ID token's
signature checked against the IdP's keys. The browser walk is tests/responders/test_sso_browser.py.
"""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from acs.sessions import SESSION_KEY
from responders.models import User
from tests.acs.test_lockout import WRONG, fresh_ip
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.oidc_idp import sso_sign_in

pytestmark = [pytest.mark.django_db]

# The IdP's accounts and the SSO_GROUP_ROLES under test are in tests/oidc_idp.py; the `sso`
# fixture (tests/conftest.py) configures SSO against the running IdP.


def signed_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_without_sso_configured_there_is_no_button_and_no_door(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    page = client.get("/accounts/login/").content.decode()
    assert "/accounts/oidc/" not in page
    assert client.post("/accounts/oidc/sso/login/").status_code == 404


def test_the_sign_in_page_offers_the_city_button_when_configured(client, sso):
    page = client.get("/accounts/login/").content.decode()
    assert "/accounts/oidc/sso/login/" in page
    assert "City of Albuquerque" in page
    assert 'name="password"' in page  # local accounts (partners, break-glass) keep their form


def test_a_supervisor_signs_in_with_the_role_her_idp_group_maps_to(client, sso):
    response = sso_sign_in(client, sso, "sofia")

    user = signed_in_as(client)
    assert user is not None and user.email == "sofia@city.example"
    assert user.role_names == ["supervisor"] and user.is_staff and not user.is_superuser
    assert not user.has_usable_password()  # nothing local to guess
    assert response["Location"] == "/admin/"  # the desk's home
    # The IdP asserted multi-factor sign-in (amr "mfa"): no local factor is asked for.
    assert client.get("/admin/").status_code == 200
    change = AuditEvent.objects.get(action=AuditAction.CHANGE, target_id=user.public_id)
    assert change.detail == {"roles_before": [], "roles_after": ["supervisor"]}


def test_every_mapped_group_gives_its_role(client, sso):
    sso_sign_in(client, sso, "both")
    assert signed_in_as(client).role_names == ["case_manager", "supervisor"]


def test_without_the_idps_mfa_claim_staff_set_up_a_local_factor(client, sso):
    sso_sign_in(client, sso, "carl")

    user = signed_in_as(client)
    assert user.role_names == ["case_manager"]
    response = client.get("/admin/cases/resident/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"


def test_someone_in_no_mapped_group_is_refused_and_no_account_is_made(client, sso, caplog):
    with caplog.at_level(logging.WARNING, logger="responders.sso"):
        response = sso_sign_in(client, sso, "nobody")

    assert response.status_code == 403
    assert "not in any group that has access" in response.content.decode()
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="nobody@city.example").exists()
    assert "nobody" not in caplog.text and "no_role" in caplog.text


def test_a_group_removed_at_the_idp_removes_the_role_at_the_next_sign_in(client, sso):
    sso_sign_in(client, sso, "mover")
    user = signed_in_as(client)
    assert user.role_names == ["supervisor"]
    client.post("/accounts/logout/")

    sso.set_groups("mover", ["acs-case-managers"])
    sso_sign_in(client, sso, "mover")
    user.refresh_from_db()
    assert signed_in_as(client) == user
    assert user.role_names == ["case_manager"] and user.is_staff
    client.post("/accounts/logout/")

    sso.set_groups("mover", ["parks"])
    refused = sso_sign_in(client, sso, "mover")
    user.refresh_from_db()
    assert refused.status_code == 403 and signed_in_as(client) is None
    assert user.role_names == [] and not user.is_staff
    assert AuditEvent.objects.filter(
        action=AuditAction.SIGN_IN_FAILED, target_id=user.public_id, detail={"sso": "no_role"}
    ).exists()


def test_a_local_account_locked_by_failed_passwords_cannot_enter_by_sso(client, sso, team):
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    ip = fresh_ip()
    for _ in range(5):
        client.post(
            "/accounts/login/", {"login": local.username, "password": WRONG}, REMOTE_ADDR=ip
        )

    response = sso_sign_in(client, sso, "localsup")

    assert response.status_code == 403
    assert "locked" in response.content.decode()
    assert signed_in_as(client) is None
    assert AuditEvent.objects.filter(
        action=AuditAction.LOCKED_OUT, target_id=local.public_id, detail={"sso": "locked"}
    ).exists()


def test_a_deactivated_account_cannot_enter_by_sso(client, sso):
    sso_sign_in(client, sso, "sofia")
    user = signed_in_as(client)
    client.post("/accounts/logout/")
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = sso_sign_in(client, sso, "sofia")

    assert response.status_code == 403 and signed_in_as(client) is None


def test_a_local_account_with_the_same_email_is_linked_and_then_signs_in_only_by_sso(
    client, sso, team
):
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    sso_sign_in(client, sso, "localsup")
    assert signed_in_as(client) == local
    client.post("/accounts/logout/")

    # SSO_FORBID_LOCAL_PASSWORD (on by default): the right password is not enough now.
    refused = client.post(
        "/accounts/login/",
        {"login": local.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
    )
    assert refused.status_code == 200 and signed_in_as(client) is None
    assert "signs in with City of Albuquerque" in refused.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.SIGN_IN_FAILED,
        target_id=local.public_id,
        detail={"sso": "local_password_forbidden"},
    ).exists()


def test_linked_staff_may_keep_their_password_when_the_setting_allows(client, sso, team, settings):
    settings.SSO_FORBID_LOCAL_PASSWORD = False
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    sso_sign_in(client, sso, "localsup")
    client.post("/accounts/logout/")
    response = client.post(
        "/accounts/login/",
        {"login": local.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
    )
    assert response.status_code == 302  # on to the second factor


def test_a_break_glass_administrator_is_never_taken_over_by_email(client, sso):
    admin = UserFactory(username="breakglass", email="breakglass@example.org", role=Role.ADMIN)

    response = sso_sign_in(client, sso, "breakglass")

    assert response.status_code == 403 and signed_in_as(client) is None
    assert "signs in with its own password" in response.content.decode()
    admin.refresh_from_db()
    assert admin.has_usable_password() and admin.role_names == ["admin"]
    # ... and still signs in locally (then its second factor).
    response = client.post(
        "/accounts/login/",
        {"login": "breakglass", "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
    )
    assert response["Location"].startswith("/accounts/2fa/authenticate/")


def test_an_sso_session_ends_after_the_idle_limit_like_any_other(client, sso):
    sso_sign_in(client, sso, "sofia")
    user = signed_in_as(client)
    assert client.get("/admin/").status_code == 200
    session = client.session
    session[SESSION_KEY] -= 31 * 60
    session.save()

    response = client.get("/admin/")

    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert signed_in_as(client) is None
    assert AuditEvent.objects.filter(
        action=AuditAction.IDLE_SIGN_OUT, target_id=user.public_id
    ).exists()


def test_a_wrong_password_at_the_idp_never_reaches_us(sso):
    from django.test import Client

    start = Client().post("/accounts/oidc/sso/login/", REMOTE_ADDR=fresh_ip())
    with pytest.raises(AssertionError, match="refused the sign-in"):
        sso.sign_in(start["Location"], "sofia", password="not-it")


def test_roles_the_idp_may_not_give_are_a_configuration_error(settings):
    from responders.sso import roles_for

    settings.SSO_GROUP_ROLES = {"city-partners": "partner_user"}
    with pytest.raises(ImproperlyConfigured):
        roles_for(["city-partners"])
    settings.SSO_GROUP_ROLES = {"x": "superhero"}
    with pytest.raises(ImproperlyConfigured):
        roles_for(["x"])


def test_a_signed_in_partner_cannot_tie_a_city_identity_to_their_account(client, sso, partner_a):
    client.force_login(partner_a)
    start = client.post("/accounts/oidc/sso/login/", {"process": "connect"}, REMOTE_ADDR=fresh_ip())
    back = sso.sign_in(start["Location"], "sofia")
    from urllib.parse import parse_qs, urlparse

    parsed = urlparse(back)
    query = {key: values[0] for key, values in parse_qs(parsed.query).items()}
    response = client.get(parsed.path, query)

    assert response.status_code == 403
    partner_a.refresh_from_db()
    assert partner_a.role_names == ["partner_user"] and not partner_a.is_staff
    from allauth.socialaccount.models import SocialAccount

    assert not SocialAccount.objects.filter(user=partner_a).exists()


def test_staff_cannot_unlink_their_city_identity_themselves(client, sso, team, settings):
    from allauth.socialaccount.models import SocialAccount

    # A linked account that still has a password (allauth itself keeps the last way in of
    # an account without one).
    settings.SSO_FORBID_LOCAL_PASSWORD = False
    UserFactory(username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team)
    sso_sign_in(client, sso, "localsup")
    account = SocialAccount.objects.get(user=signed_in_as(client))
    response = client.post("/accounts/3rdparty/", {"account": account.pk})
    assert SocialAccount.objects.filter(pk=account.pk).exists()
    assert "removed by an administrator" in str(response.context["form"].errors)


def test_the_sign_in_pages_let_their_form_lead_on_to_the_idp_and_nowhere_else(
    client, sso, settings
):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if "form-action" in d)
    assert form_action.split() == ["form-action", "'self'", sso.issuer]
    assert sso.issuer not in client.get("/transparency/")["Content-Security-Policy"]
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    assert "127.0.0.1" not in client.get("/accounts/login/")["Content-Security-Policy"]


def test_a_single_sign_on_set_up_that_cannot_work_fails_the_system_check(settings):
    from responders.sso import check_settings

    settings.SSO_OIDC_ISSUER = ""
    settings.SSO_GROUP_ROLES = {}
    assert check_settings() == []
    settings.SSO_OIDC_ISSUER = "https://login.example.org/realms/city"
    settings.SSO_OIDC_CLIENT_ID = settings.SSO_OIDC_CLIENT_SECRET = ""
    settings.SSO_GROUP_ROLES = {"city-partners": "partner_user"}
    assert [e.id for e in check_settings()] == ["acs.sso.E001", "acs.sso.E002"]
    settings.SSO_GROUP_ROLES = {}
    settings.SSO_OIDC_CLIENT_ID = settings.SSO_OIDC_CLIENT_SECRET = "x"
    assert [e.id for e in check_settings()] == ["acs.sso.E003"]


def test_an_idp_username_taken_by_a_local_account_gets_a_free_one(client, sso, partner_a):
    """allauth's auto sign-up gives the new account a free username (checked here because a
    clash must never reach, or be, the partner's account)."""
    partner_a.username = "carl"  # a partner user who happens to share the name
    partner_a.save(update_fields=["username"])

    sso_sign_in(client, sso, "carl")

    user = signed_in_as(client)
    assert user is not None and user != partner_a and user.username != "carl"
    assert user.email == "carl@city.example" and user.role_names == ["case_manager"]
    partner_a.refresh_from_db()
    assert partner_a.role_names == ["partner_user"]


def test_the_admin_has_no_second_place_for_idp_secrets_but_shows_the_links():
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from django.contrib import admin

    assert not admin.site.is_registered(SocialApp)
    assert not admin.site.is_registered(SocialToken)
    assert admin.site.is_registered(SocialAccount)


def test_refused_sso_sign_ins_are_counted_for_monitoring(client, sso, team, settings):
    from tests.acs.metrics_scrape import TOKEN, scrape, value

    settings.METRICS_TOKEN = TOKEN
    failed = value(scrape(client), "acs_signin_failures_total", outcome="failed")
    locked = value(scrape(client), "acs_signin_failures_total", outcome="locked_out")
    UserFactory(username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team)
    ip = fresh_ip()
    for _ in range(5):
        client.post("/accounts/login/", {"login": "localsup", "password": WRONG}, REMOTE_ADDR=ip)

    sso_sign_in(client, sso, "nobody")
    sso_sign_in(client, sso, "localsup")

    samples = scrape(client)
    assert value(samples, "acs_signin_failures_total", outcome="failed") == failed + 5 + 1
    assert value(samples, "acs_signin_failures_total", outcome="locked_out") == locked + 1
