"""The pages people other than responders use pass axe-core's WCAG 2.1 A and AA rules with no
serious or critical violation: the public pages, the partner portal, and the case managers'
own admin pages (the dashboard, the resident page, the merge screen). How axe is loaded:
tests/axe.py; the field app has its own test (tests/responders/test_field_accessibility.py).
"""

from __future__ import annotations

import pytest

from acs.roles import Role
from cases.services import resident_create
from resources import services as referral_services
from tests.axe import violations
from tests.cases.test_admin_browser import ARTIFACTS, role_groups, totp_code  # noqa: F401
from tests.factories import DEFAULT_PASSWORD, OrganizationFactory, UserFactory
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url, user, *, totp=False):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    if totp:
        page.fill("input[name=code]", totp_code(user))
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{base_url}/admin/")  # the desk's home


def audit(page, base_url, paths: dict[str, str], include=None) -> dict[str, list]:
    found = {}
    for name, path in paths.items():
        response = page.goto(f"{base_url}{path}")
        assert response.status < 400, (name, response.status)
        # The resident page's refer picker (select2) is named by admin_refer.js once jQuery's
        # ready handlers have run, which may be after the load event goto waits for.
        page.wait_for_function(
            "() => { const s = document.getElementById('id_refer-service_at_location');"
            " return !s || (s.nextElementSibling && s.nextElementSibling.dataset.named); }"
        )
        found[name] = violations(page, include)
    return found


def test_public_and_partner_pages_pass_wcag_aa(role_groups, live_server, browser):  # noqa: F811
    agency = OrganizationFactory(name="Agency A")
    partner = UserFactory(username="a11y-partner", role=Role.PARTNER_USER, organization=agency)
    desk = UserFactory(username="a11y-desk", role=Role.CASE_MANAGER)
    service, sal = referrable_service(agency)
    referral = referral_services.referral_create(
        actor=desk,
        resident=consenting_resident(agency, recorded_by=desk),
        service=service,
        service_at_location=sal,
        reason="Needs a bed tonight",
        needs=["shelter"],
        send=True,
    )
    # A second referral to the same service: the inbox tells the two apart.
    referral_services.referral_create(
        actor=desk,
        resident=consenting_resident(
            agency, recorded_by=desk, preferred_name="Ana", preferred_language="en"
        ),
        service=service,
        send=True,
    )
    page = browser.new_context(bypass_csp=True).new_page()
    public = audit(
        page,
        live_server.url,
        {"home": "/", "sign-in": "/accounts/login/", "transparency": "/transparency/"},
    )
    sign_in(page, live_server.url, partner)
    portal = audit(
        page,
        live_server.url,
        {
            "inbox": "/partners/",
            "referral": f"/partners/referrals/{referral.public_id}/",
            "capacity": "/partners/capacity/",
            "webhooks": "/partners/webhooks/",
        },
    )

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/partners/")
        cards = page.locator(".referral-item").all_inner_texts()
        assert len(cards) == 2 and cards[0] != cards[1]
        page.screenshot(path=str(ARTIFACTS / f"portal-inbox-{width}.png"), full_page=True)

    assert public == {"home": [], "sign-in": [], "transparency": []}
    assert portal == {"inbox": [], "referral": [], "capacity": [], "webhooks": []}


def test_the_case_managers_own_admin_pages_pass_wcag_aa(
    role_groups,  # noqa: F811
    live_server,
    browser,
):
    desk = UserFactory(username="a11y-case-manager", role=Role.CASE_MANAGER)
    one = resident_create(actor=desk, data={"preferred_name": "Ana"}, confirm_new=True)
    two = resident_create(actor=desk, data={"preferred_name": "Anna"}, confirm_new=True)
    page = browser.new_context(bypass_csp=True).new_page()
    sign_in(page, live_server.url, desk, totp=True)

    # Our templates' part of each page; Django's own admin chrome is Django's to keep.
    found = audit(
        page,
        live_server.url,
        {
            "dashboard": "/admin/",
            "resident": f"/admin/cases/resident/{one.pk}/change/",
            "merge screen": f"/admin/cases/resident/merge/{one.pk}/{two.pk}/",
        },
        include="#content",
    )

    assert found == {"dashboard": [], "resident": [], "merge screen": []}
