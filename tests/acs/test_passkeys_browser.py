"""A passkey as the second factor, in headless Chromium with its virtual authenticator.

A supervisor signs in with the password and the TOTP code, adds a passkey from the two-factor
page, signs out, signs in again with the password and the passkey instead of a code, and reaches
the admin. Chromium's WebAuthn domain (DevTools protocol) stands in for the tablet's fingerprint
reader: a real authenticator as far as the browser and allauth's WebAuthn server (fido2) go.

Screenshots go to .local/artifacts/passkey-*.png.
"""

import pytest
from allauth.mfa.models import Authenticator

from acs.roles import Role
from tests.cases.test_admin_browser import ARTIFACTS, totp_code
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(page, field="password"):
    """Press the submit button of the form that holds `field` (the header has a sign-out form)."""
    page.locator(f"form:has([name={field}]) [type=submit]").first.click()


def test_a_supervisor_adds_a_passkey_and_signs_in_with_it(live_server, browser, team):
    supervisor = UserFactory(username="marisol", role=Role.SUPERVISOR, team=team)
    # WebAuthn needs a domain for its relying party, not an IP address.
    base = live_server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.screenshot(path=str(ARTIFACTS / "sign-in.png"), full_page=True)
    assert "sign up" not in page.content().lower()
    page.fill("input[name=login]", "marisol")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    submit(page)
    page.wait_for_url("**/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(supervisor))
    submit(page, "code")
    page.wait_for_url(f"{base}/admin/")

    page.goto(f"{base}/accounts/2fa/")
    page.screenshot(path=str(ARTIFACTS / "passkey-1-two-factor-page.png"), full_page=True)
    page.goto(f"{base}/accounts/2fa/webauthn/add/")
    if "/accounts/reauthenticate/" in page.url:  # allauth asks for the password again
        page.fill("input[name=password]", DEFAULT_PASSWORD)
        submit(page)
        page.wait_for_url("**/2fa/webauthn/add/**")
    page.fill("input[name=name]", "Tablet fingerprint")
    page.screenshot(path=str(ARTIFACTS / "passkey-2-add.png"), full_page=True)
    page.click("#mfa_webauthn_add")
    # allauth goes on to the key list, or to the recovery codes when it makes them.
    page.wait_for_url(lambda url: "/2fa/" in url and "/webauthn/add/" not in url)
    page.screenshot(path=str(ARTIFACTS / "passkey-3-added.png"), full_page=True)
    assert Authenticator.objects.filter(user=supervisor, type="webauthn").count() == 1

    # Sign out, then in again: the password, then the passkey in place of a code.
    page.goto(f"{base}/accounts/logout/")
    page.locator("main form [type=submit], form[action$='/logout/'] [type=submit]").first.click()
    page.wait_for_url("**/accounts/login/**")
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", "marisol")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    submit(page)
    page.wait_for_url("**/2fa/authenticate/**")
    page.screenshot(path=str(ARTIFACTS / "passkey-4-second-step.png"), full_page=True)
    page.click("#mfa_webauthn_authenticate")
    page.wait_for_url(f"{base}/admin/")
    page.screenshot(path=str(ARTIFACTS / "passkey-5-signed-in.png"), full_page=True)
    assert "Log out" in page.content() or "Sign out" in page.content()
    assert problems == []
    context.close()
