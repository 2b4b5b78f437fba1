"""Single sign-on through a SAML 2.0 identity provider (responders/sso.py), against a real one.

Each test signs in through a running SAML IdP (tests/saml_idp.py: pysaml2's IdP, signing with
xmlsec1 under a key made for the test): our AuthnRequest, the IdP's sign-in form, its signed
Response posted back to our ACS URL and checked by python3-saml (signature against the
configured certificate, audience, destination, validity, InResponseTo). The rules are the
OpenID Connect door's (tests/responders/test_sso.py); the browser walk is
tests/responders/test_sso_saml_browser.py.
"""

import logging

import pytest

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from responders.models import User
from tests.acs.test_lockout import WRONG, fresh_ip
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.saml_idp import saml_sign_in

pytestmark = [pytest.mark.django_db]
HOST = {"HTTP_HOST": "localhost"}


def signed_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_without_saml_configured_there_is_no_button_and_no_door(client):
    page = client.get("/accounts/login/", **HOST).content.decode()
    assert "/accounts/saml/" not in page
    assert client.post("/accounts/saml/city/login/", **HOST).status_code == 404
    assert client.get("/accounts/saml/city/metadata/", **HOST).status_code == 404


def test_the_sign_in_page_offers_the_saml_button_and_serves_our_metadata(client, saml):
    page = client.get("/accounts/login/", **HOST).content.decode()
    assert "/accounts/saml/city/login/" in page
    assert "Sign in with City of Albuquerque SAML" in page
    assert 'name="password"' in page
    metadata = client.get("/accounts/saml/city/metadata/", **HOST).content.decode()
    assert 'entityID="http://localhost:8000/accounts/saml/city/metadata/"' in metadata
    assert 'Location="http://localhost/accounts/saml/city/acs/"' in metadata


def test_a_supervisor_signs_in_with_the_role_her_idp_group_maps_to(client, saml):
    response = saml_sign_in(client, saml, "sofia")

    user = signed_in_as(client)
    assert user is not None and user.email == "sofia@city.example"
    assert user.role_names == ["supervisor"] and user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert response["Location"] == "/admin/"
    # The assertion's AuthnContextClassRef is a two-factor one: no local factor is asked for.
    assert client.get("/admin/cases/resident/", **HOST).status_code == 200
    change = AuditEvent.objects.get(action=AuditAction.CHANGE, target_id=user.public_id)
    assert change.detail == {"roles_before": [], "roles_after": ["supervisor"]}
    from allauth.socialaccount.models import SocialAccount

    assert SocialAccount.objects.get(user=user).uid == "city-sofia"  # the persistent NameID


def test_every_mapped_group_gives_its_role(client, saml):
    saml_sign_in(client, saml, "both")
    assert signed_in_as(client).role_names == ["case_manager", "supervisor"]


def test_without_a_two_factor_context_staff_set_up_a_local_factor(client, saml):
    saml_sign_in(client, saml, "carl")  # PasswordProtectedTransport only

    assert signed_in_as(client).role_names == ["case_manager"]
    response = client.get("/admin/cases/resident/", **HOST)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"


def test_mfa_said_in_entras_methods_attribute_counts(client, saml, settings):
    saml_sign_in(client, saml, "erin")  # password context, "multipleauthn" in the attribute
    assert client.get("/admin/cases/resident/", **HOST).status_code == 200
    client.post("/accounts/logout/", **HOST)

    settings.SSO_SAML_MFA_ATTRIBUTE = ""  # not read: a local factor is asked for
    saml_sign_in(client, saml, "erin")
    response = client.get("/admin/cases/resident/", **HOST)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"


def test_a_two_factor_context_counts_only_when_listed(client, saml, settings):
    settings.SSO_SAML_MFA_CONTEXTS = ["urn:example:something-else"]
    saml_sign_in(client, saml, "sofia")
    response = client.get("/admin/cases/resident/", **HOST)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"


def test_someone_in_no_mapped_group_is_refused_and_no_account_is_made(client, saml, caplog):
    with caplog.at_level(logging.WARNING, logger="responders.sso"):
        response = saml_sign_in(client, saml, "nobody")

    assert response.status_code == 403
    assert "not in any group that has access" in response.content.decode()
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="nobody@city.example").exists()
    assert "nobody" not in caplog.text and "no_role" in caplog.text


def test_a_group_removed_at_the_idp_removes_the_role_at_the_next_sign_in(client, saml):
    saml_sign_in(client, saml, "mover")
    user = signed_in_as(client)
    assert user.role_names == ["supervisor"]
    client.post("/accounts/logout/", **HOST)

    saml.set_groups("mover", ["acs-case-managers"])
    saml_sign_in(client, saml, "mover")
    user.refresh_from_db()
    assert signed_in_as(client) == user and user.role_names == ["case_manager"]
    client.post("/accounts/logout/", **HOST)

    saml.set_groups("mover", ["parks"])
    refused = saml_sign_in(client, saml, "mover")
    user.refresh_from_db()
    assert refused.status_code == 403 and signed_in_as(client) is None
    assert user.role_names == [] and not user.is_staff
    assert AuditEvent.objects.filter(
        action=AuditAction.SIGN_IN_FAILED, target_id=user.public_id, detail={"sso": "no_role"}
    ).exists()


def test_a_local_account_locked_by_failed_passwords_cannot_enter_by_saml(
    client, saml, team, settings
):
    settings.SSO_SAML_EMAIL_VERIFIED = True
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    ip = fresh_ip()
    for _ in range(5):
        client.post(
            "/accounts/login/", {"login": local.username, "password": WRONG}, REMOTE_ADDR=ip
        )

    response = saml_sign_in(client, saml, "localsup")

    assert response.status_code == 403 and "locked" in response.content.decode()
    assert signed_in_as(client) is None
    assert AuditEvent.objects.filter(
        action=AuditAction.LOCKED_OUT, target_id=local.public_id, detail={"sso": "locked"}
    ).exists()


def test_a_deactivated_account_cannot_enter_by_saml(client, saml):
    saml_sign_in(client, saml, "sofia")
    user = signed_in_as(client)
    client.post("/accounts/logout/", **HOST)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = saml_sign_in(client, saml, "sofia")

    assert response.status_code == 403 and signed_in_as(client) is None


def test_a_local_account_is_linked_by_email_only_when_the_idps_email_is_trusted(
    client, saml, team, settings
):
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    # SAML has no email_verified: by default an e-mail match is a clash, not a link.
    refused = saml_sign_in(client, saml, "localsup")
    assert refused.status_code == 403 and signed_in_as(client) is None
    assert "signs in with its own password" in refused.content.decode()

    settings.SSO_SAML_EMAIL_VERIFIED = True
    saml_sign_in(client, saml, "localsup")
    assert signed_in_as(client) == local
    client.post("/accounts/logout/", **HOST)

    # Linked: the right local password is not enough any more.
    refused = client.post(
        "/accounts/login/",
        {"login": local.username, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR=fresh_ip(),
        **HOST,
    )
    assert refused.status_code == 200 and signed_in_as(client) is None
    assert "signs in with City of Albuquerque SAML" in refused.content.decode()


def test_a_break_glass_administrator_is_never_taken_over_by_email(client, saml, settings):
    settings.SSO_SAML_EMAIL_VERIFIED = True
    admin = UserFactory(username="breakglass", email="breakglass@example.org", role=Role.ADMIN)

    response = saml_sign_in(client, saml, "breakglass")

    assert response.status_code == 403 and signed_in_as(client) is None
    admin.refresh_from_db()
    assert admin.has_usable_password() and admin.role_names == ["admin"]


@pytest.mark.parametrize("mode", ["unsigned", "wrong_key"])
def test_an_unsigned_or_wrongly_signed_assertion_is_refused(client, saml, mode, caplog):
    saml.mode = mode
    with caplog.at_level(logging.ERROR):
        response = saml_sign_in(client, saml, "sofia")

    assert signed_in_as(client) is None
    assert response.status_code == 401
    assert not User.objects.filter(email="sofia@city.example").exists()
    expected = {
        "unsigned": "The Assertion of the Response is not signed",
        "wrong_key": "Signature validation failed",
    }[mode]
    assert expected in caplog.text


def test_a_response_replayed_or_unasked_for_is_refused(client, saml):
    """An answer to a request we did not make (here: one already used) finds no stashed state."""
    from tests.saml_idp import ACS

    start = client.post("/accounts/saml/city/login/", REMOTE_ADDR=fresh_ip(), **HOST)
    back = saml.sign_in(start["Location"], "sofia")
    back.pop("action")
    first = client.get(client.post(ACS, back, **HOST)["Location"], **HOST)
    assert first["Location"] == "/admin/"
    client.post("/accounts/logout/", **HOST)

    again = client.get(client.post(ACS, back, **HOST)["Location"], **HOST)
    # allauth finds no request of ours waiting for this answer (it was used): refused.
    assert again.status_code == 403 and signed_in_as(client) is None


def test_a_signed_in_partner_cannot_tie_a_saml_identity_to_their_account(client, saml, partner_a):
    from allauth.socialaccount.models import SocialAccount

    from tests.saml_idp import ACS

    client.force_login(partner_a)
    start = client.post(
        "/accounts/saml/city/login/", {"process": "connect"}, REMOTE_ADDR=fresh_ip(), **HOST
    )
    back = saml.sign_in(start["Location"], "sofia")
    back.pop("action")
    response = client.get(client.post(ACS, back, **HOST)["Location"], **HOST)

    assert response.status_code == 403
    partner_a.refresh_from_db()
    assert partner_a.role_names == ["partner_user"] and not partner_a.is_staff
    assert not SocialAccount.objects.filter(user=partner_a).exists()


def test_the_sign_in_pages_let_their_form_lead_on_to_the_saml_idp(client, saml):
    policy = client.get("/accounts/login/", **HOST)["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if "form-action" in d)
    assert form_action.split() == ["form-action", "'self'", saml.base]
    assert saml.base not in client.get("/transparency/", **HOST)["Content-Security-Policy"]


def test_a_saml_set_up_that_cannot_work_fails_the_system_check(settings):
    from responders.sso import check_settings

    settings.SSO_OIDC_ISSUER = ""
    settings.SSO_GROUP_ROLES = {}
    settings.SSO_SAML_IDP_ENTITY_ID = "https://sts.windows.net/tenant/"
    settings.SSO_SAML_IDP_METADATA_URL = settings.SSO_SAML_IDP_SSO_URL = ""
    settings.SSO_SAML_IDP_X509_CERT = ""
    assert [e.id for e in check_settings()] == ["acs.sso.E004", "acs.sso.E005"]
    settings.SSO_GROUP_ROLES = {"acs-supervisors": "supervisor"}
    settings.SSO_SAML_IDP_SSO_URL = "https://login.example.org/saml2"
    settings.SSO_SAML_IDP_X509_CERT = "not a certificate"
    assert [e.id for e in check_settings()] == ["acs.sso.E006"]
    settings.SSO_SAML_IDP_X509_CERT = _certificate_pem()
    assert check_settings() == []
    settings.SSO_SAML_IDP_SSO_URL = settings.SSO_SAML_IDP_X509_CERT = ""
    settings.SSO_SAML_IDP_METADATA_URL = "https://login.example.org/metadata.xml"
    assert check_settings() == []


def _certificate_pem() -> str:
    import tempfile
    from pathlib import Path

    from tests.saml_idp import key_and_cert

    with tempfile.TemporaryDirectory() as home:
        return key_and_cert(Path(home), "check")[2]
