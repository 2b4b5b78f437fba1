"""A case manager's day at the desk (1024-wide tablet and desktop), on the demo's data: first
sign-in with the authenticator set up, the dashboard, a resident found by a misspelt name, the
resident's page (follow-ups, referrals and the timeline first), a referral made from it with
the place, places free and consent shown before sending, a follow-up scheduled and worked from
the dashboard, a likely duplicate refused at Add resident, and an export with dates that have
data."""

import re

import factory
import pytest
from django.utils import timezone

from acs.management.commands.seed_demo import demo_uuid
from cases.models import FollowUp, Resident
from resources.models import Referral, Service, ServiceStatus
from tests.factories import ServiceFactory
from tests.journeys.harness import DESK_TABLET, DESKTOP, Journey, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_case_managers_day(live_server, browser):
    seed_demo()
    marisol = Resident.objects.get(public_id=demo_uuid("resident-2"))
    referrals_before = Referral.objects.filter(resident=marisol).count()

    day = Journey(browser, live_server.url, "case-manager", (DESK_TABLET, DESKTOP))
    day.sign_in("casemanager")
    day.set_up_authenticator()
    day.at(r"/admin/")
    day.shot("dashboard")

    # Find Marisol by a misspelt name (typed into a form: never in the URL).
    day.goto("/admin/cases/resident/")
    day.page.fill("#resident-search input[name=name]", "Marisl Ortga")
    day.page.locator("#resident-search input[type=submit]").click()
    day.page.wait_for_load_state("networkidle")
    assert "Marisl" not in day.page.url
    results = day.page.locator("#result_list")
    assert "Marisol (Marisol Ortega)" in results.inner_text()
    assert "Resident " not in results.inner_text()  # named, not "Resident 1a2b3c4d"
    day.shot("residents-found")
    results.get_by_role("link", name=re.compile("Marisol")).first.click()
    day.at(rf"/admin/cases/resident/{marisol.pk}/change/")
    day.shot("resident-page")
    assert "Marisol" in day.page.locator("#content h2").first.inner_text()
    assert "Marisol" in day.page.locator(".breadcrumbs").inner_text()

    # Refer from the page. A shelter closed for the season is not offered: the picker says
    # so, rather than "No results found".
    Service.objects.filter(name="Winter overnight shelter").update(status=ServiceStatus.INACTIVE)
    search = day.refer_picker("winter overnight")
    assert "Winter overnight shelter (inactive)" in day.refer_hint()
    day.shot("refer-not-offered")
    # Found by a need, place and consent shown before sending.
    search.fill("medicaid")
    option = day.page.locator(".select2-results__option", has_text="Medicaid").first
    option.wait_for()
    day.shot("refer-options")
    option.click()
    preview = day.page.locator("#refer-preview")
    preview.get_by_text(re.compile("consent", re.I)).first.wait_for()
    day.page.fill("#id_refer-reason", "Wants help with her Medicaid renewal.")
    day.shot("refer-picked")
    day.page.locator("#refer-submit").click()
    day.at(rf"/admin/cases/resident/{marisol.pk}/change/#referrals")
    message = day.page.locator(".messagelist").inner_text()
    assert Referral.objects.filter(resident=marisol).count() == referrals_before + 1
    sent = Referral.objects.filter(resident=marisol).latest("created_at")
    assert sent.status == "sent" and sent.created_by.username == "casemanager"
    assert f"Referral to {sent.service.name} ({sent.organization.name}) sent." in message
    assert sent.service.name in day.page.locator("#referrals").inner_text()
    day.shot("referred")

    # The closed shelter, looked up in the directory (read-only for her): found though
    # misspelt and closed, with its status.
    day.goto("/admin/resources/service/")
    day.page.fill("#searchbar", "wintr shleter")
    day.page.locator("#changelist-search input[type=submit]").click()
    day.at(r"/admin/resources/service/\?q=.*")
    row = day.page.locator("#result_list tbody tr").first
    assert "Winter overnight shelter" in row.inner_text() and "Inactive" in row.inner_text()
    day.shot("directory-closed-shelter")
    # A word many services share (a statewide feed's pantries): the second page follows the
    # first, best match first, with no service twice.
    pantries = ServiceFactory.create_batch(60, name=factory.Sequence(lambda n: f"Pantry {n:03d}"))
    day.page.fill("#searchbar", "pantry")
    day.page.locator("#changelist-search input[type=submit]").click()
    day.at(r"/admin/resources/service/\?q=pantry")
    first_page = day.page.locator("#result_list tbody th").all_inner_texts()
    assert len(first_page) == 50
    day.page.locator(".paginator a", has_text="2").first.click()
    day.at(r"/admin/resources/service/\?(.*&)?p=2(&.*)?")
    second_page = day.page.locator("#result_list tbody th").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)
    assert {p.name for p in pantries} <= set(first_page) | set(second_page)
    day.shot("directory-second-page")

    # Her follow-up on Marisol, from the resident's page: a call made, the attempt logged.
    follow_up = FollowUp.objects.filter(resident=marisol, assignee__username="casemanager").first()
    day.goto(f"/admin/cases/resident/{marisol.pk}/change/")
    link = f"#content a[href*='/admin/cases/followup/{follow_up.pk}/change/']"
    day.page.locator(link).first.click()
    day.at(rf"/admin/cases/followup/{follow_up.pk}/change/")
    assert "Marisol" in day.page.locator(".breadcrumbs").inner_text()
    local = timezone.localtime()
    day.page.fill("input[name='attempts-0-at_0']", local.strftime("%Y-%m-%d"))
    day.page.fill("input[name='attempts-0-at_1']", local.strftime("%H:%M:%S"))
    day.page.select_option("select[name='attempts-0-channel']", "phone")
    day.page.select_option("select[name='attempts-0-outcome']", "reached")
    day.shot("follow-up")
    day.page.locator("input[name=_continue]").click()
    day.at(rf"/admin/cases/followup/{follow_up.pk}/change/")
    assert "changed successfully" in day.page.locator(".messagelist").inner_text()
    follow_up.refresh_from_db()
    assert follow_up.attempts_made == 1
    day.goto("/admin/")
    day.shot("dashboard-after")

    # Add resident: the same person again is caught before a second record is made.
    day.goto("/admin/cases/resident/add/")
    day.page.fill("#id_preferred_name", "Marisol")
    day.page.fill("#id_legal_name", "Marisol Ortega")
    day.page.fill("#id_date_of_birth", "1979-03-14")
    day.page.locator("input[name=_save]").click()
    day.page.wait_for_load_state("networkidle")
    assert "may already be recorded" in day.page.locator(".errorlist").first.inner_text()
    day.shot("duplicate-warned")
    assert Resident.objects.filter(legal_name="Marisol Ortega").count() == 1

    # An export of last month to today: dates with data by default.
    day.goto("/admin/cases/exportjob/add/")
    start = day.page.locator("#id_start_date")
    assert start.input_value() != ""
    day.shot("export-form")

    day.sign_out()
    day.finish()
