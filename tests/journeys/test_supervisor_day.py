"""A supervisor's day at the desk (1024-wide tablet and desktop), on the demo's data: first
sign-in with the authenticator set up, the dashboard's queue of addenda, one approved, the team's
unassigned follow-up given to a case manager, the referral picker naming a shelter closed for
now, and a resident's audit trail read from the resident's page."""

import pytest

from acs.management.commands.seed_demo import demo_uuid
from cases.models import Addendum, FollowUp, Resident
from resources.models import Service, ServiceStatus
from responders.models import User
from tests.journeys.harness import DESK_TABLET, DESKTOP, Journey, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisors_day(live_server, browser):
    seed_demo()
    addendum = Addendum.objects.get(text__startswith="Marisol called back")
    marisol = Resident.objects.get(public_id=demo_uuid("resident-2"))
    unassigned = FollowUp.objects.filter(resident=marisol, assignee__isnull=True).first()
    casemanager = User.objects.get(username="casemanager")

    day = Journey(browser, live_server.url, "supervisor", (DESK_TABLET, DESKTOP))
    day.sign_in("supervisor")
    day.set_up_authenticator()
    day.at(r"/admin/")
    queue = day.page.locator("#queue-addenda_to_approve")
    assert "Marisol called back" in queue.inner_text()
    day.shot("dashboard")

    queue.locator(f"a[href='/admin/cases/addendum/{addendum.pk}/change/']").click()
    day.at(rf"/admin/cases/addendum/{addendum.pk}/change/")
    day.shot("addendum")
    day.page.get_by_role("button", name="Approve this addendum").click()
    day.at(r"/admin/")
    assert "Approved" in day.page.locator(".messagelist").inner_text()
    assert "No addendum waits for you." in queue.inner_text()
    addendum.refresh_from_db()
    assert addendum.approved_by.username == "supervisor"

    # The team's unassigned follow-up on Marisol: given to the case manager.
    day.goto(f"/admin/cases/followup/{unassigned.pk}/change/")
    assert "Marisol" in day.page.locator(".breadcrumbs").inner_text()
    day.page.select_option("select[name=assignee]", str(casemanager.pk))
    day.shot("follow-up")
    day.page.locator("input[name=_save]").click()
    day.at(r"/admin/cases/followup/")
    assert "Reassigned to" in day.page.locator(".messagelist").inner_text()
    unassigned.refresh_from_db()
    assert unassigned.assignee == casemanager

    # Who has read Marisol's record: from her page to her audit trail. On the way, the
    # referral picker: a shelter closed for now is named, with why, rather than "No results";
    # the supervisor alone may send without consent, with a reason.
    day.goto(f"/admin/cases/resident/{marisol.pk}/change/")
    Service.objects.filter(name="Winter overnight shelter").update(
        status=ServiceStatus.TEMPORARILY_CLOSED
    )
    day.refer_picker("winter overnigt")
    assert "Winter overnight shelter (temporarily closed)" in day.refer_hint()
    day.shot("refer-not-offered")
    day.page.keyboard.press("Escape")
    assert day.page.locator("#id_refer-consent_override_reason").is_visible()
    day.page.get_by_role("link", name="Audit trail").click()
    day.at(r"/admin/acs/auditevent/")
    assert day.page.locator("#result_list tbody tr").count() > 0
    day.shot("audit-trail")

    day.sign_out()
    day.finish()
