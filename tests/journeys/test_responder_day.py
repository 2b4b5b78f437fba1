"""A responder's shift in the field app (a tablet held upright, and a laptop in the vehicle),
on the demo's data: sign in, home with the unit and its call, the call page with what is known
at the address, a mistaken status tap taken back, an encounter with a resident found by a
misspelt name and a referral picked from the services that meet the needs ticked (a shelter
closed for the season named with why, in the picker and on the resources screen), "Sent.", the
encounter's page with everything recorded on it, the call cleared, sign out."""

import pytest

from acs.management.commands.seed_demo import demo_uuid
from cases.models import Call, CallEvent, Encounter, Resident
from resources.models import Referral, Service, ServiceStatus
from tests.journeys.harness import DESKTOP, FIELD_TABLET, Journey, seed_demo
from tests.workers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_responders_shift(live_server, browser):
    seed_demo()
    call = Call.objects.get(incident_number="ACS-DEMO-0001")
    sunny = Resident.objects.get(public_id=demo_uuid("resident-1"))

    day = Journey(browser, live_server.url, "responder", (FIELD_TABLET, DESKTOP))
    day.sign_in("responder")
    day.at(r"/field/")
    assert "ACS-11" in day.page.inner_text("main")
    day.shot("home")

    day.page.click("text=My calls")
    day.page.click(f"text={call.incident_number}")
    day.page.wait_for_selector("#call-status")
    assert day.page.inner_text("#call-status") == "On scene"
    day.shot("call")

    # A mistaken tap, taken back: the toast offers Undo, the server hears both.
    day.page.click("#my-unit button:has-text('Transporting')")
    day.page.wait_for_selector("#toast:not([hidden])")
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "transporting")
    day.shot("status-toast")
    day.page.click("#toast [data-toast-undo]")
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "on_scene")
    assert CallEvent.objects.filter(
        call=call, type="transporting", undone_at__isnull=False
    ).exists()

    # The encounter: Sunny found by a misspelt name, shelter needed, a place picked.
    day.page.click("text=Log an encounter")
    day.page.wait_for_selector("#people:not([hidden])")
    day.page.fill("#person-name", "Sunie")
    day.page.click("#person-search")
    day.page.locator("#person-results button:has-text('Add')").first.click()
    person = day.page.locator("#people-list li.person").first
    day.page.check("input[name=needs][value=shelter]")
    options = person.locator("[data-referral-options] li.option")
    options.first.wait_for()
    assert " free" in options.first.inner_text()  # places free, shown before choosing
    day.shot("referral-picker")
    # The shelter asked for by name is closed for the season: the picker says so, rather
    # than only "No service matches".
    Service.objects.filter(name="Winter overnight shelter").update(
        status=ServiceStatus.TEMPORARILY_CLOSED
    )
    person.locator("[data-referral-search]").fill("winter overnigt")
    not_offered = person.locator("[data-referral-options] li.not-offered")
    not_offered.wait_for()
    assert "Winter overnight shelter (temporarily closed)" in not_offered.inner_text()
    day.shot("referral-not-offered")
    person.locator("[data-referral-search]").fill("")
    options.first.wait_for()
    options.first.locator("input[type=radio]").check()
    day.page.check("input[name=disposition][value=referred]")
    day.page.fill("#narrative", "Cold night; asked for a bed.")
    day.shot("encounter-form")
    day.page.click("button:has-text('Submit encounter')")
    day.at(r"/field/")
    assert "Sent." in day.page.inner_text("#main")
    day.shot("sent")
    encounter = Encounter.objects.filter(call=call, status="submitted").latest("created_at")
    assert Referral.objects.filter(encounter=encounter, resident=sunny).exists()

    day.page.click("nav >> text=My encounters")
    day.page.click(f"a[href='/field/encounters/{encounter.public_id}/']")
    recorded = day.page.inner_text("main")
    assert "Sunny" in recorded
    assert day.page.locator("section:has(#referrals-h)").count() == 1
    day.shot("encounter-page")

    # The call is done: Clear shows, and the call leaves the list.
    day.goto(f"/field/calls/{call.public_id}/")
    day.page.click("#my-unit button:has-text('Clear')")
    day.page.wait_for_selector("#cleared:not([hidden])")
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "cleared")
    day.shot("cleared")
    day.page.click("#cleared >> text=Back to my calls")
    assert call.incident_number not in day.page.inner_text("main")

    # Resources nearby, searched by name: the closed shelter is named, with why.
    day.page.click("nav >> text=Resources")
    day.at(r"/field/resources/")
    day.page.fill("#q", "winter overnight shelter")
    day.page.click("#resource-search button[type=submit]")
    day.at(r"/field/resources/")
    left_out = day.page.locator("#resource-list li.left-out")
    assert "Winter overnight shelter (temporarily closed)" in left_out.inner_text()
    day.shot("resources-not-listed")

    # End of the shift on a shared tablet: nothing is left unsent, so no question is asked.
    day.page.click("#sign-out button")
    day.at(r"/accounts/login/.*")
    day.finish()
