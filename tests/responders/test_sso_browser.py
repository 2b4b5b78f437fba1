"""Single sign-on in headless Chromium, against a real identity provider.

The browser clicks "Sign in with City of Albuquerque" on our sign-in page, signs in on the
IdP's own page (tests/idp/server.mjs: node-oidc-provider, OpenID Certified), and comes back:
a supervisor lands in the admin with the role her IdP group maps to; someone in no mapped
group, and a locked account, are refused with a page saying why; an SSO session ends after
the idle limit like any other. Every refusal and role change is audited.

Screenshots go to .local/artifacts/sso/.
"""

import pytest
from django.contrib.sessions.backends.db import SessionStore

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from acs.sessions import SESSION_KEY
from responders.models import User
from tests.acs.test_lockout import WRONG, fresh_ip
from tests.axe import violations
from tests.factories import UserFactory
from tests.oidc_idp import ACCOUNTS, CALLBACK, PASSWORD, Idp, configure
from tests.responders.sso_pages import SHOTS, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDP_NAME = "City of Albuquerque"


@pytest.fixture
def idp(live_server, settings):
    running = Idp(accounts=ACCOUNTS, redirect_uris=[f"{live_server.url}{CALLBACK}"])
    configure(running, settings)
    yield running
    running.stop()


@pytest.fixture
def page(browser, live_server):
    yield from watched_page(browser, live_server)


def sign_in_at_the_city(page, base, idp, login, shot, *, next_path=""):
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.screenshot(path=str(SHOTS / f"{shot}-1-sign-in-page.png"), full_page=True)
    page.get_by_role("button", name=f"Sign in with {IDP_NAME}").click()
    page.wait_for_url(f"{idp.issuer}/interaction/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(SHOTS / f"{shot}-2-at-the-idp.png"), full_page=True)
    page.get_by_role("button", name="Sign in at the city").click()
    page.wait_for_url(f"{base}/**")
    page.wait_for_load_state()


def test_a_supervisor_signs_in_at_the_city_and_lands_in_the_admin(live_server, idp, page):
    base = live_server.url
    sign_in_at_the_city(page, base, idp, "sofia", "supervisor", next_path="/admin/cases/resident/")

    page.wait_for_url(f"{base}/admin/cases/resident/")
    page.screenshot(path=str(SHOTS / "supervisor-3-admin.png"), full_page=True)
    user = User.objects.get(email="sofia@city.example")
    assert user.role_names == [Role.SUPERVISOR.value] and user.is_staff
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE, target_id=user.public_id).exists()
    page.goto(f"{base}/admin/")
    assert "Case management desk" in page.title()
    page.screenshot(path=str(SHOTS / "supervisor-4-admin-home.png"), full_page=True)

    # Idle for longer than the limit: the next page is the sign-in page, with why.
    cookie = next(c for c in page.context.cookies(base) if c["name"] == "sessionid")
    session_key = cookie["value"]
    session = SessionStore(session_key=session_key)
    session[SESSION_KEY] -= 31 * 60
    session.save()
    page.goto(f"{base}/admin/")
    page.wait_for_url(f"{base}/accounts/login/**")
    assert "signed out after 30 minutes without activity" in page.content()
    page.screenshot(path=str(SHOTS / "supervisor-5-idle-signed-out.png"), full_page=True)
    assert AuditEvent.objects.filter(
        action=AuditAction.IDLE_SIGN_OUT, target_id=user.public_id
    ).exists()
    assert page.problems == []


def test_someone_in_no_mapped_group_is_refused_with_a_reason(live_server, idp, page):
    base = live_server.url
    sign_in_at_the_city(page, base, idp, "nobody", "no-group")

    assert "not in any group that has access" in page.locator("#sso-refused").inner_text()
    page.screenshot(path=str(SHOTS / "no-group-3-refused.png"), full_page=True)
    assert not User.objects.filter(email="nobody@city.example").exists()
    page.goto(f"{base}/admin/")
    page.wait_for_url(f"{base}/accounts/login/**")
    # The refusal page answers 403 on purpose; nothing else went wrong.
    assert [p for p in page.problems if not p.startswith(f"403 {base}{CALLBACK}")] == []


def test_a_locked_account_is_refused_at_the_city_door_too(live_server, idp, page, client, team):
    base = live_server.url
    local = UserFactory(
        username="localsup", email="localsup@example.org", role=Role.SUPERVISOR, team=team
    )
    ip = fresh_ip()
    for _ in range(5):
        client.post("/accounts/login/", {"login": "localsup", "password": WRONG}, REMOTE_ADDR=ip)

    sign_in_at_the_city(page, base, idp, "localsup", "locked")

    assert "locked" in page.locator("#sso-refused").inner_text()
    page.screenshot(path=str(SHOTS / "locked-3-refused.png"), full_page=True)
    assert AuditEvent.objects.filter(
        action=AuditAction.LOCKED_OUT, target_id=local.public_id, detail={"sso": "locked"}
    ).exists()
    page.goto(f"{base}/admin/")
    page.wait_for_url(f"{base}/accounts/login/**")
    assert [p for p in page.problems if not p.startswith(f"403 {base}{CALLBACK}")] == []


def test_the_sign_in_page_with_the_city_button_and_the_refusal_pass_wcag_aa(
    live_server, idp, browser
):
    """axe-core (tests/axe.py) in a context that lets it in past the pages' CSP; the walk
    itself, under the real policy, is in the tests above."""
    base = live_server.url
    context = browser.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{base}/accounts/login/")
        assert violations(page) == []
        sign_in_at_the_city(page, base, idp, "nobody", "axe")
        page.locator("#sso-refused").wait_for()
        assert violations(page) == []
    finally:
        context.close()
