"""The responder's day in headless Chromium (#17): sign in, the call with what is known at the
address, a status tap taken back with Undo, Clear that shows, at both tablet orientations.
Screenshots: .local/artifacts/field-day-<step>-<orientation>.png."""

from __future__ import annotations

import pytest
from django.utils import timezone

from acs.roles import Role
from cases.models import Call, CallEvent
from cases.services import resident_create
from tests.cases.helpers import dispatched_call, logged_encounter
from tests.factories import TeamFactory, UnitFactory, UserFactory
from tests.responders.test_field_browser import shot, sign_in
from tests.workers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "orientation,viewport",
    [("landscape", {"width": 1280, "height": 800}), ("portrait", {"width": 800, "height": 1280})],
)
def test_a_status_tap_undone_and_a_clear_that_shows(live_server, browser, orientation, viewport):
    team = TeamFactory(name="Street Outreach")
    unit = UnitFactory(call_sign="ACS-21", team=team)
    responder = UserFactory(username="day-responder", role=Role.RESPONDER, team=team)
    unit.members.add(responder)
    flagged = resident_create(
        actor=responder,
        data={"preferred_name": "Tomas", "safety_flags": "Large dog in the yard; ask first."},
        confirm_new=True,
    )
    earlier = dispatched_call(unit, "ACS-26-000100")
    earlier.address = "1 Civic Plaza NW"
    earlier.received_at = timezone.now() - timezone.timedelta(days=12)
    earlier.save()
    logged_encounter(responder, unit, call=earlier, residents=[flagged], submit=True)
    Call.objects.filter(pk=earlier.pk).update(status="cleared")
    earlier.assignments.update(status="cleared")
    call = dispatched_call(unit, "ACS-26-000123", event="en_route")
    call.address = "1 Civic Plaza NW"
    call.notes = "Caller reports a man sleeping in the doorway."
    call.save()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    base = live_server.url
    sign_in(page, base, "day-responder")
    page.click("text=My calls")
    page.click("text=ACS-26-000123")
    page.wait_for_selector("#place-history")
    assert "Large dog in the yard" in page.inner_text("main")
    assert "Tomas" not in page.content()
    shot(page, f"day-call-{orientation}")

    # A tap, confirmed by a toast with Undo; Undo puts the unit back and the server knows.
    page.click("#my-unit button:has-text('On scene')")
    page.wait_for_selector("#toast:not([hidden])")
    assert "On scene" in page.inner_text("#toast")
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "on_scene")
    shot(page, f"day-toast-{orientation}")
    page.click("#toast [data-toast-undo]")
    assert page.inner_text("#my-unit .status") == "En route"
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "en_route")
    assert CallEvent.objects.filter(call=call, type="on_scene", undone_at__isnull=False).exists()

    # Clear: the page says the call has left the current calls, and the list agrees.
    page.click("#my-unit button:has-text('Clear')")
    page.wait_for_selector("#cleared:not([hidden])")
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "cleared")
    shot(page, f"day-cleared-{orientation}")
    page.click("#cleared >> text=Back to my calls")
    assert "ACS-26-000123" not in page.inner_text("main")
    assert problems == []
    context.close()
