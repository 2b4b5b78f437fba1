"""SAML single sign-on in headless Chromium, against a real SAML identity provider.

The browser clicks "Sign in with City of Albuquerque SAML" on our sign-in page, is sent to the
IdP with our AuthnRequest (tests/saml_idp.py: pysaml2's IdP), signs in on the IdP's page, and
the IdP's page posts its signed Response back to our ACS URL: a supervisor lands in the admin
with the role her IdP group maps to; someone in no mapped group, a locked account, and an
unsigned or wrongly signed answer are refused.

Screenshots go to .local/artifacts/sso/ (saml-*).
"""

import pytest

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from responders.models import User
from tests.acs.test_lockout import WRONG, fresh_ip
from tests.factories import UserFactory
from tests.responders.sso_pages import SHOTS, watched_page
from tests.saml_idp import PASSWORD, SamlIdp, configure_saml

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDP_NAME = "City of Albuquerque SAML"


@pytest.fixture
def idp(live_server, settings, client):
    running = SamlIdp()
    # Our metadata as the live server serves it (its ACS URL is the live server's).
    configure_saml(running, settings, client, host=live_server.url.split("://", 1)[1])
    yield running
    running.stop()


@pytest.fixture
def page(browser, live_server):
    yield from watched_page(browser, live_server)


def sign_in_at_the_city(page, base, idp, login, shot, *, next_path=""):
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.screenshot(path=str(SHOTS / f"saml-{shot}-1-sign-in-page.png"), full_page=True)
    page.get_by_role("button", name=f"Sign in with {IDP_NAME}").click()
    page.wait_for_url(f"{idp.sso_url}?**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(SHOTS / f"saml-{shot}-2-at-the-idp.png"), full_page=True)
    page.get_by_role("button", name="Sign in at the city").click()
    page.wait_for_url(f"{base}/**")
    page.wait_for_load_state()


def refusals_only(page, base):
    """The refusal pages answer 403 / 401 on purpose; nothing else may have gone wrong."""
    return [p for p in page.problems if "/accounts/saml/city/acs/finish/" not in p]


def test_a_supervisor_signs_in_through_saml_and_lands_in_the_admin(live_server, idp, page):
    base = live_server.url
    sign_in_at_the_city(page, base, idp, "sofia", "supervisor", next_path="/admin/cases/resident/")

    page.wait_for_url(f"{base}/admin/cases/resident/")
    page.screenshot(path=str(SHOTS / "saml-supervisor-3-admin.png"), full_page=True)
    user = User.objects.get(email="sofia@city.example")
    assert user.role_names == [Role.SUPERVISOR.value] and user.is_staff
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE, target_id=user.public_id).exists()
    assert page.problems == []


def test_someone_in_no_mapped_group_is_refused_with_a_reason(live_server, idp, page):
    base = live_server.url
    sign_in_at_the_city(page, base, idp, "nobody", "no-group")

    assert "not in any group that has access" in page.locator("#sso-refused").inner_text()
    page.screenshot(path=str(SHOTS / "saml-no-group-3-refused.png"), full_page=True)
    assert not User.objects.filter(email="nobody@city.example").exists()
    page.goto(f"{base}/admin/")
    page.wait_for_url(f"{base}/accounts/login/**")
    assert refusals_only(page, base) == []


def test_a_locked_account_is_refused_at_the_saml_door_too(
    live_server, idp, page, client, team, settings
):
    base = live_server.url
    settings.SSO_SAML_EMAIL_VERIFIED = True
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    ip = fresh_ip()
    for _ in range(5):
        client.post("/accounts/login/", {"login": "localsup", "password": WRONG}, REMOTE_ADDR=ip)

    sign_in_at_the_city(page, base, idp, "localsup", "locked")

    assert "locked" in page.locator("#sso-refused").inner_text()
    page.screenshot(path=str(SHOTS / "saml-locked-3-refused.png"), full_page=True)
    assert AuditEvent.objects.filter(
        action=AuditAction.LOCKED_OUT, target_id=local.public_id, detail={"sso": "locked"}
    ).exists()
    assert refusals_only(page, base) == []


@pytest.mark.parametrize("mode", ["unsigned", "wrong_key"])
def test_an_unsigned_or_wrongly_signed_answer_is_refused(live_server, idp, page, mode):
    base = live_server.url
    idp.mode = mode
    sign_in_at_the_city(page, base, idp, "sofia", mode)

    page.wait_for_url(f"{base}/accounts/saml/city/acs/finish/")
    page.screenshot(path=str(SHOTS / f"saml-{mode}-3-refused.png"), full_page=True)
    assert "Third-Party Login Failure" in page.content()
    assert not User.objects.filter(email="sofia@city.example").exists()
    page.goto(f"{base}/admin/")
    page.wait_for_url(f"{base}/accounts/login/**")
    assert refusals_only(page, base) == []
