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


def _seed_needs_taxonomy():
    """The "ACS needs" terms, as their data migration makes them (a transactional test's
    flush removes migrated rows)."""
    import importlib

    from django.apps import apps

    importlib.import_module("resources.migrations.0005_acs_needs_taxonomy").forwards(apps, None)


def _walk_setup():
    from cases.models import Consent
    from cases.services import consent_record
    from tests.factories import (
        AddressFactory,
        AttributeFactory,
        CapacityFactory,
        ServiceAtLocationFactory,
        TaxonomyTermFactory,
    )

    _seed_needs_taxonomy()
    team = TeamFactory(name="Street Outreach")
    unit = UnitFactory(call_sign="ACS-21", team=team)
    responder = UserFactory(username="day-responder", role=Role.RESPONDER, team=team)
    unit.members.add(responder)
    desk = UserFactory(username="desk", role=Role.CASE_MANAGER)
    places = {}
    for name, code, free, total, street in (
        ("Westside Emergency Housing", "shelter-emergency", 6, 40, "1200 Coors Blvd NW"),
        ("Eastside Family Shelter", "shelter-family", 0, 20, "8 Juan Tabo Blvd NE"),
        ("Roadrunner Pantry", "food-pantry", 12, 50, "2 Food Way SE"),
    ):
        sal = ServiceAtLocationFactory(service__name=name, location__name=f"{name.split()[0]} site")
        sal.service.accepts_referrals = True
        sal.service.save()
        AddressFactory(location=sal.location, address_1=street)
        AttributeFactory(service=sal.service, taxonomy_term=TaxonomyTermFactory(code=code))
        CapacityFactory(service_at_location=sal, available=free, total=total)
        places[name] = sal
    maria = resident_create(
        actor=desk,
        data={"preferred_name": "Maria Lopez"},
        confirm_new=True,
    )
    consent_record(
        actor=desk,
        resident=maria,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=places["Westside Emergency Housing"].service.organization,
        method=Consent.Method.WRITTEN,
    )
    return unit, responder, maria, places


# Chromium's report of a request made while the test holds the tablet offline (a position
# ping or a sync that happened to fall in that window): it cannot happen otherwise.
OFFLINE = "net::ERR_INTERNET_DISCONNECTED"


def _watch(page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and OFFLINE not in m.text else None,
    )
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def _shot_at(page, locator, name: str) -> None:
    """A full-page screenshot from the top (the sticky bar where it belongs) and one of the
    part under test, at the size a responder sees it."""
    from tests.responders.test_field_browser import ARTIFACTS

    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)
    locator.screenshot(path=str(ARTIFACTS / f"field-{name}-detail.png"))


def _option(page, name):
    return page.locator("#people-list li.person [data-referral-options] li", has_text=name)


@pytest.mark.parametrize(
    "orientation,viewport",
    [("landscape", {"width": 1280, "height": 800}), ("portrait", {"width": 800, "height": 1280})],
)
def test_from_the_call_to_a_referral_picked_and_the_encounters_page(
    live_server, browser, orientation, viewport
):
    from cases.models import Encounter, FollowUp
    from resources import services as referral_services
    from resources.models import Referral

    unit, _responder, maria, places = _walk_setup()
    call = dispatched_call(unit, "ACS-26-000123", event="en_route")
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems = _watch(page)
    base = live_server.url
    sign_in(page, base, "day-responder")
    page.click("text=My calls")
    page.click("text=ACS-26-000123")

    # The line under the title follows the tap at once: in a dead zone too, before the
    # server has heard of it (and without a reload).
    assert page.inner_text("#call-status") == "En route"
    context.set_offline(True)
    page.click("#my-unit button:has-text('On scene')")
    page.wait_for_function(
        "() => document.getElementById('call-status').textContent === 'On scene'", timeout=2000
    )
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert Call.objects.get(pk=call.pk).status == "en_route"
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    assert wait_until(lambda: Call.objects.get(pk=call.pk).status == "on_scene")

    # The encounter: Maria found by search, needs ticked, a referral picked.
    page.click("text=Log an encounter")
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#person-name", "maria lopes")
    page.click("#person-search")
    page.click("#person-results button:has-text('Add')")
    person = page.locator("#people-list li.person").first
    page.check("input[name=needs][value=shelter]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-referral-options] li.option').length === 2"
    )
    west = _option(page, "Westside Emergency Housing")
    east = _option(page, "Eastside Family Shelter")
    assert _option(page, "Roadrunner Pantry").count() == 0
    # Place, places free (a full place shown as full, still a choice), and consent on file.
    west.get_by_text("Consent on file for this partner").wait_for()
    assert "Westside site · 1200 Coors Blvd NW, Albuquerque" in west.inner_text()
    assert "6 of 40 beds free" in west.inner_text()
    assert "Full: 0 of 20 beds free" in east.inner_text()
    assert "No consent for this partner" in east.inner_text()
    assert east.locator("input[type=radio]").is_enabled()
    assert "Places free as of" in person.locator("[data-referral-as-of]").inner_text()
    _shot_at(page, person, f"day-picker-{orientation}")

    # Typing narrows (typo-tolerant, the directory's search); consent given now shows.
    person.locator("[data-referral-search]").fill("westsde")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-referral-options] li.option').length === 1"
    )
    person.locator("[data-consent-scope]").select_option("share_partners")
    west.get_by_text("Consent given now: partners in general").wait_for()
    west.locator("input[type=radio]").check()
    assert (
        "Chosen: Westside Emergency Housing"
        in person.locator("[data-referral-chosen]").inner_text()
    )
    person.locator("[data-follow-up-kind]").select_option("phone")
    page.check("input[name=disposition][value=referred]")
    page.fill("#narrative", "Asked for a bed tonight.")
    _shot_at(page, person, f"day-encounter-{orientation}")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{base}/field/")
    assert "Sent." in page.inner_text("#main")

    encounter = Encounter.objects.get(call=call)
    assert encounter.status == "submitted"
    referral = Referral.objects.get(resident=maria)
    assert referral.status == "sent" and referral.encounter == encounter
    assert referral.service_at_location == places["Westside Emergency Housing"]
    referral_services.referral_accept(
        actor=UserFactory(
            username="partner",
            role=Role.PARTNER_USER,
            organization=referral.organization,
        ),
        referral=referral,
    )
    follow_up = FollowUp.objects.get(encounter=encounter, resident=maria, kind="phone")

    # The encounter's page: the person, the consent, the referral's live status, the follow-up.
    page.click("nav >> text=My encounters")
    page.click(f"a[href='/field/encounters/{encounter.public_id}/']")
    main = page.inner_text("main")
    assert "Maria Lopez" in main
    consents = page.inner_text("section:has(#consents-h)")
    assert "Maria Lopez" in consents and "active" in consents
    referrals = page.inner_text("section:has(#referrals-h)")
    assert "Westside Emergency Housing" in referrals and "Accepted" in referrals
    follow_ups = page.inner_text("section:has(#followups-h)")
    assert follow_up.get_kind_display() in follow_ups
    shot(page, f"day-encounter-page-{orientation}")
    assert problems == []
    context.close()


def test_offline_the_picker_filters_the_kept_directory_and_says_as_of_when(live_server, browser):
    _walk_setup()
    context = browser.new_context(viewport={"width": 800, "height": 1280})
    page = context.new_page()
    sign_in(page, live_server.url, "day-responder")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "caches.open('acs-field-pages').then(c => c.match('/field/directory.json')).then(Boolean)",
        polling=250,
        timeout=20000,
    )
    context.set_offline(True)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    # A person added as new with consent ticked on the same form.
    page.fill("#person-name", "Ana Nueva")
    page.click("#person-new")
    person = page.locator("#people-list li.person").first
    page.check("input[name=needs][value=food]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-referral-options] li.option').length === 1"
    )
    pantry = _option(page, "Roadrunner Pantry")
    assert "12 of 50 beds free" in pantry.inner_text()
    assert "No consent for this partner" in pantry.inner_text()
    assert (
        "Offline: services and places free as of the last sync"
        in person.locator("[data-referral-as-of]").inner_text()
    )
    person.locator("[data-consent-scope]").select_option("share_named_partner")
    pantry.get_by_text("Consent given now names this partner").wait_for()
    person.locator("[data-referral-search]").fill("pantry 2 food")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-referral-options] li.option').length === 1"
    )
    person.locator("[data-referral-search]").fill("nothing like it")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-referral-options] li.option').length === 0"
    )
    person.locator("[data-referral-search]").fill("")
    pantry.locator("input[type=radio]").check()
    _shot_at(page, person, "day-picker-offline-portrait")
    context.close()


def test_an_unfinished_encounter_from_the_server_opens_and_is_submitted_once(live_server, browser):
    from cases.models import Encounter

    unit, responder, _maria, _places = _walk_setup()
    call = dispatched_call(unit, "ACS-26-000200", event="on_scene")
    tomas = resident_create(actor=responder, data={"preferred_name": "Tomas"}, confirm_new=True)
    draft = logged_encounter(
        responder,
        unit,
        call=call,
        residents=[tomas],
        disposition="",
        needs=["food"],
        narrative="Begun on the other tablet.",
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    sign_in(page, live_server.url, "day-responder")
    row = page.locator(f"#server-drafts li[data-client-id='{draft.client_id}']")
    assert "ACS-26-000200" in row.inner_text()
    shot(page, "day-home-unfinished-landscape")
    row.locator("a:has-text('Open')").click()
    page.wait_for_function("() => document.getElementById('narrative').value.length > 0")
    assert page.input_value("#narrative") == "Begun on the other tablet."
    assert page.is_checked("input[name=needs][value=food]")
    assert "Tomas" in page.inner_text("#people-list")
    assert "Unfinished encounter opened" in page.inner_text("#draft-state")
    page.check("input[name=disposition][value=settled_by_contact]")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    assert "Sent." in page.inner_text("#main")
    assert page.locator("#server-drafts").count() == 0

    assert Encounter.objects.count() == 1
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.disposition == "settled_by_contact"
    assert list(draft.residents.all()) == [tomas]
    assert problems == []
    context.close()
