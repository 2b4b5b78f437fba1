"""The Content-Security-Policy breaks nothing: real pages in headless Chromium, signed in
through the real forms (the admin with its TOTP code), report no policy violation and no
console error. A screenshot of the filtered audit trail goes to .local/artifacts/."""

from pathlib import Path

import pytest
from django.conf import settings

from acs.audit import audit_record
from acs.roles import Role
from tests.factories import DEFAULT_PASSWORD, OrganizationFactory, UserFactory
from tests.totp import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts"
# The secret tests/factories.py gives every staff persona's authenticator.
TOTP_SECRET = "JBSWY3DPEHPK3PXP"

# Runs in every document before its own scripts; the page's policy does not apply to it.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def role_groups(transactional_db):
    """A transactional test may follow another one's flush, which empties the role groups
    the data migration made: put them back."""
    from django.contrib.auth.models import Group

    for role in Role:
        Group.objects.get_or_create(name=role.value)


class Watched:
    """A browser page that collects policy violations and console errors as it goes."""

    def __init__(self, browser, base_url):
        self.base_url = base_url
        self.page = browser.new_context().new_page()
        self.page.add_init_script(WATCH_VIOLATIONS)
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message):
        # A failed load is reported by _response, with its address.
        if message.type in {"error", "warning"} and "Failed to load resource" not in message.text:
            self.problems.append(f"{self.page.url}: console {message.type}: {message.text}")

    def _response(self, response):
        # The browser asks for /favicon.ico on its own; we serve none.
        if response.status >= 400 and "favicon" not in response.url:
            self.problems.append(f"{response.url}: {response.status}")

    def collect(self):
        for violation in self.page.evaluate("window.__violations || []"):
            self.problems.append(f"{self.page.url}: violation {violation}")

    def goto(self, path):
        response = self.page.goto(self.base_url + path)
        assert response.status < 400, (path, response.status)
        self.collect()
        return response

    def sign_in(self, username):
        self.goto("/accounts/login/")
        self.page.fill("input[name=login]", username)
        self.page.fill("input[name=password]", DEFAULT_PASSWORD)
        self.page.get_by_role("button", name="Sign In").click()
        self.page.wait_for_load_state()
        self.collect()


def test_pages_run_under_the_policy_without_a_single_violation(role_groups, live_server, browser):
    admin = UserFactory(username="csp-admin", role=Role.ADMIN)
    partner = UserFactory(
        username="csp-partner", role=Role.PARTNER_USER, organization=OrganizationFactory()
    )
    audit_record(actor=admin, action="view", target=partner)

    public = Watched(browser, live_server.url)
    public.goto("/accounts/login/")
    public.goto("/transparency/")

    staff = Watched(browser, live_server.url)
    staff.sign_in("csp-admin")
    # allauth's second step: the TOTP code, from the persona's secret.
    assert "/accounts/2fa/authenticate/" in staff.page.url
    staff.page.fill("input[name=code]", totp_now(TOTP_SECRET))
    staff.page.get_by_role("button", name="Sign In").click()
    staff.page.wait_for_url(live_server.url + "/admin/")
    staff.collect()
    staff.goto("/admin/")
    # The API documentation draws its operations offline (Swagger UI served from here).
    staff.goto("/api/docs/")
    staff.page.locator(".opblock").first.wait_for()
    staff.page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
    staff.goto("/admin/cases/resident/add/")
    staff.goto("/admin/acs/auditevent/")
    # The user filter's username search: select2 builds its dropdown under the policy.
    staff.page.locator(".select2-selection").first.click()
    staff.page.locator(".select2-search__field").fill("csp-")
    staff.page.locator(".select2-results__option", has_text="csp-admin").click()
    staff.page.locator("form:has(#filter-actor) button[type=submit]").click()
    staff.page.wait_for_url(f"**actor={admin.public_id}**")
    assert staff.page.locator("#result_list tbody tr").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    staff.page.screenshot(path=str(ARTIFACTS / "audit-trail.png"), full_page=True)
    staff.collect()

    portal = Watched(browser, live_server.url)
    portal.sign_in("csp-partner")
    portal.goto("/partners/")
    portal.goto("/partners/capacity/")

    assert public.problems + staff.problems + portal.problems == []
