"""A partner agency's intake worker's day in the portal, on a phone and at a desk: sign in,
the inbox (cards told apart), a waiting referral accepted and started, another closed with its
outcome, a message to ACS, places free updated, another agency's referral refused, sign out."""

import re
import uuid

import pytest

from resources.models import Referral, ReferralStatus, Service
from resources.services import referral_create
from responders.models import User
from tests.journeys.harness import DESKTOP, PHONE, Journey, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_partner_users_day(live_server, browser):
    seed_demo()
    partner = User.objects.get(username="partner")
    mine = Referral.objects.filter(service__organization=partner.organization)
    waiting = mine.get(status=ReferralStatus.SENT)
    in_progress = mine.get(status=ReferralStatus.IN_PROGRESS)
    other = User.objects.get(username="partner2").organization
    theirs = referral_create(
        actor=User.objects.get(username="casemanager"),
        resident=waiting.resident,
        service=Service.objects.filter(organization=other).first(),
        client_id=uuid.uuid4(),
        reason="Another agency's work.",
        send=False,
    )

    day = Journey(browser, live_server.url, "partner", (PHONE, DESKTOP))
    day.sign_in("partner")
    day.at(r"/partners/.*")
    day.page.get_by_role("heading", name="Referrals").wait_for()
    day.shot("inbox")

    day.page.locator(f"a[href$='/referrals/{waiting.public_id}/']").click()
    day.at(rf"/partners/referrals/{waiting.public_id}/")
    day.shot("waiting-referral")
    day.page.get_by_role("button", name="Accept referral").click()
    day.page.get_by_text("Referral accepted.").wait_for()
    day.page.get_by_role("button", name="Mark as in progress").click()
    day.page.get_by_text("Referral marked as in progress.").wait_for()
    day.page.fill("#note-note", "We have a bed from Monday; please ask her to call us.")
    day.page.get_by_role("button", name="Send message").click()
    day.page.get_by_text("Message sent to ACS.").wait_for()
    day.shot("referral-in-progress")
    waiting.refresh_from_db()
    assert waiting.status == ReferralStatus.IN_PROGRESS

    day.goto(f"/partners/referrals/{in_progress.public_id}/")
    day.page.select_option("#complete-outcome", index=1)
    day.page.get_by_role("button", name="Close with this outcome").click()
    day.page.get_by_text("Referral closed with its outcome.").wait_for()
    in_progress.refresh_from_db()
    assert in_progress.status in {ReferralStatus.COMPLETED, ReferralStatus.NOT_COMPLETED}

    day.goto("/partners/?status=closed")
    day.shot("inbox-closed")
    # The closed referrals of the same service, told apart by their references.
    references = day.page.locator(".referral-item .ref").all_inner_texts()
    assert len(references) >= 5 and len(set(references)) == len(references)
    assert "Spanish" in day.page.locator(".referral-list").inner_text()  # a name, not "es"

    day.page.get_by_role("link", name=re.compile("Capacity")).first.click()
    day.at(r"/partners/capacity/")
    form = day.page.locator("form.capacity-form").first
    form.locator("input[name=available]").fill("3")
    form.locator("input[name=total]").fill("12")
    form.get_by_role("button", name="Update capacity").click()
    day.page.wait_for_load_state("networkidle")
    assert "3 of 12" in day.page.locator(".capacity-now").first.inner_text()
    day.shot("capacity")

    # Another agency's referral does not exist as far as this partner can tell.
    with day.expecting(f"/referrals/{theirs.public_id}/", 404):
        response = day.goto(f"/partners/referrals/{theirs.public_id}/")
    assert response.status == 404

    day.sign_out()
    day.finish()
