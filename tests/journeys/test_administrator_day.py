"""An administrator's day in the admin: first sign-in with the authenticator set up, the
dashboard, a new case manager added with one Roles field, a partner agency's API token issued
and shown once, a closed service found in the directory by a misspelt search and reopened from
the list (back on the search after saving), the audit trail
read, the API documentation (offline); then the new case
manager signs in for the first time and lands on their own dashboard."""

import pytest

from acs.models import ApiToken
from resources.models import Service, ServiceStatus
from responders.models import User
from tests.journeys.harness import DESK_TABLET, DESKTOP, Journey, seed_demo
from tests.totp import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-passphrase-42"


def test_an_administrators_day(live_server, browser):
    seed_demo()
    agency = User.objects.get(username="partner2").organization

    day = Journey(browser, live_server.url, "administrator", (DESK_TABLET, DESKTOP))
    day.sign_in("admin")
    day.set_up_authenticator()
    day.at(r"/admin/")
    day.page.locator("#content .queue, #content-main").first.wait_for()
    day.shot("dashboard")

    # A new colleague: one Roles field, which also lets her into the admin.
    day.goto("/admin/responders/user/add/")
    day.page.fill("#id_username", "dbaca")
    day.page.fill("#id_first_name", "Dolores")
    day.page.fill("#id_last_name", "Baca")
    day.page.fill("#id_email", "dbaca@example.org")
    day.page.fill("#id_password1", PASSWORD)
    day.page.fill("#id_password2", PASSWORD)
    day.page.get_by_label("Case manager").check()
    day.shot("add-user")
    day.page.locator("input[name=_save]").click()
    # Django opens the new account's page, to finish its details.
    day.at(r"/admin/responders/user/\d+/change/")
    day.page.get_by_text("was added successfully").wait_for()
    day.goto("/admin/responders/user/")
    row = day.page.locator("#result_list tr", has_text="dbaca")
    assert "Case manager" in row.inner_text()
    day.shot("users")

    # A partner agency's API token: shown once.
    day.goto("/admin/acs/apitoken/")
    day.page.get_by_role("link", name="Issue a token").click()
    day.at(r"/admin/acs/apitoken/issue/")
    day.page.select_option("#id_kind", "partner")
    day.page.locator("#id_organization + .select2").click()
    day.page.locator(".select2-search__field").fill(agency.name[:6])
    day.page.locator(".select2-results__option", has_text=agency.name).click()
    day.page.fill("#id_name", "westside-ehr")
    day.page.locator("form input[type=submit], form button[type=submit]").last.click()
    token = day.page.locator("#issued-token").input_value()
    assert token.startswith("acs_")
    day.shot("token-issued")
    issued = ApiToken.objects.get(name="westside-ehr")
    assert issued.user.organization == agency

    # The directory: a shelter closed for the season is still found by the list's search,
    # misspelt, so it can be reopened in November (the field app lists open ones only).
    Service.objects.filter(name="Winter overnight shelter").update(status=ServiceStatus.INACTIVE)
    day.goto("/admin/resources/service/")
    day.page.fill("#searchbar", "wintr shleter")
    day.page.locator("#changelist-search input[type=submit]").click()
    day.at(r"/admin/resources/service/\?q=.*")
    row = day.page.locator("#result_list tbody tr").first
    assert "Winter overnight shelter" in row.inner_text()
    day.shot("directory-search-closed-service")
    # November: she reopens it from the list, and saving brings her back to her search.
    row.locator("th a").click()
    day.at(r"/admin/resources/service/\d+/change/")
    assert "_changelist_filters=q%3Dwintr" in day.page.url
    day.page.select_option("#id_status", "active")
    day.page.locator("input[name=_save]").click()
    day.at(r"/admin/resources/service/")
    assert "q=wintr" in day.page.url
    day.page.get_by_text("was changed successfully").wait_for()
    assert (
        "Winter overnight shelter" in day.page.locator("#result_list tbody tr").first.inner_text()
    )
    assert Service.objects.get(name="Winter overnight shelter").status == ServiceStatus.ACTIVE
    day.shot("directory-service-reopened")

    day.goto("/admin/acs/auditevent/")
    assert day.page.locator("#result_list tbody tr").count() > 0
    day.shot("audit-trail")

    day.goto("/api/docs/")
    day.page.locator(".opblock").first.wait_for()
    day.shot("api-docs")
    day.sign_out()

    # The new colleague's first sign-in: her own authenticator, then her dashboard.
    day.goto("/accounts/login/")
    day.page.fill("input[name=login]", "dbaca")
    day.page.fill("input[name=password]", PASSWORD)
    day.page.locator("form button[type=submit]").first.click()
    secret = day.set_up_authenticator()
    day.at(r"/admin/")
    day.shot("new-case-manager-dashboard")
    day.sign_out()

    # And the next morning: password, then the code from her app.
    day.goto("/accounts/login/")
    day.page.fill("input[name=login]", "dbaca")
    day.page.fill("input[name=password]", PASSWORD)
    day.page.locator("form button[type=submit]").first.click()
    day.at(r"/accounts/2fa/authenticate/.*")
    day.page.fill("input[name=code]", totp_now(secret))
    day.page.locator("form:has(input[name=code]) button[type=submit]").click()
    day.at(r"/admin/")
    day.finish()
