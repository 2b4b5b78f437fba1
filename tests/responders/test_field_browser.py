"""The field app in headless Chromium (Debian's package, driven by Playwright) against the live
server: a responder's whole job online, and three encounters logged in a dead zone that reach
the server exactly once each when the connection returns.

Screenshots of the main screens at tablet size go to .local/artifacts/ (git-ignored):
field-<screen>-landscape.png and field-encounter-portrait.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from acs.roles import Role
from cases.models import Consent, Encounter, FollowUp, Resident, UnitAssignment
from cases.services import resident_create
from resources.models import Referral
from tests.cases.helpers import dispatched_call
from tests.factories import (
    DEFAULT_PASSWORD,
    CapacityFactory,
    ServiceAtLocationFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
)
from tests.workers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts"
TABLET = {"width": 1280, "height": 800}
TABLET_PORTRAIT = {"width": 800, "height": 1280}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shift(transactional_db):
    team = TeamFactory(name="Street Outreach")
    unit = UnitFactory(call_sign="ACS-21", team=team)
    responder = UserFactory(username="field-responder", role=Role.RESPONDER, team=team)
    unit.members.add(responder)
    return unit, responder


@pytest.fixture
def directory(transactional_db):
    sal = ServiceAtLocationFactory(service__name="Westside Emergency Housing")
    sal.service.accepts_referrals = True
    sal.service.save()
    CapacityFactory(service_at_location=sal, available=6, total=40)
    return sal


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next=/field/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/field/")


def status_line(page) -> str:
    return page.locator("#sync").inner_text()


def wait_for_status(page, text: str, timeout: float = 20000) -> None:
    page.wait_for_function(
        "t => document.getElementById('sync').textContent.includes(t)", arg=text, timeout=timeout
    )


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => el.offsetParent !== null)
  .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML)"""

# Touch targets: every visible button, every control and every link styled as a button.
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, .button, .tile, .chip, select, input[type=text], input[type=search], textarea')]
  .filter(el => el.offsetParent !== null)
  .filter(el => { const r = el.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
  .map(el => el.outerHTML.slice(0, 80))"""


def check_accessible(page) -> None:
    """Every control has a label, and every target is at least 44 px both ways."""
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(SMALL_TARGETS) == []


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"field-{name}.png"), full_page=True)


def test_a_responders_shift_online(live_server, browser, shift, directory):
    unit, responder = shift
    call = dispatched_call(unit, "ACS-26-000123", event="dispatched")
    call.address = "1 Civic Plaza NW"
    call.latitude, call.longitude = 35.0853, -106.6498
    call.notes = "Caller reports a man sleeping in the doorway, not responding to staff."
    call.save()
    maria = resident_create(
        actor=UserFactory(username="desk", role=Role.CASE_MANAGER),
        data={"preferred_name": "Maria Lopez", "date_of_birth": "1980-04-02"},
        confirm_new=True,
    )
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    # Every request succeeds (the browser's own favicon request aside).
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and "favicon" not in r.url
            else None
        ),
    )

    sign_in(page, live_server.url, responder.username)
    assert "ACS-21" in page.locator("main").inner_text()
    wait_for_status(page, "Everything is synced")
    shot(page, "home-landscape")
    check_accessible(page)

    # My calls, then the call: notes, map link, and the unit's moves.
    page.click("nav >> text=My calls")
    assert "ACS-26-000123" in page.locator("#call-rows").inner_text()
    shot(page, "calls-landscape")
    page.click("#call-rows a")
    assert "not responding to staff" in page.locator("main").inner_text()
    assert page.locator("a[href^='geo:35.085']").count() == 1
    page.click("button:has-text('En route')")
    wait_for_status(page, "Everything is synced")
    page.click("button:has-text('On scene')")
    wait_for_status(page, "last synced")
    assert wait_until(
        lambda: UnitAssignment.objects.filter(call=call, unit=unit, status="on_scene").exists(),
        timeout=20,
    )
    shot(page, "call-landscape")
    check_accessible(page)

    # The encounter: find Maria, capture consent, refer her, pick from lists, submit.
    page.click("text=Log an encounter")
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#person-name", "maria lopes")
    page.click("#person-search")
    page.wait_for_selector("#person-results li")
    assert "Likely the same person" in page.locator("#person-results").inner_text()
    page.click("#person-results button:has-text('Add')")
    person = page.locator("#people-list li").first
    person.locator("[data-consent-scope]").select_option("share_partners")
    person.locator("[data-living-situation]").select_option("unsheltered")
    person.locator(f"[data-referral-options] input[value='{directory.public_id}']").check()
    person.locator("[data-follow-up-kind]").select_option("in_person")
    person.locator("[data-follow-up-due]").fill("2026-12-01")
    page.check("input[name=needs][value=shelter]")
    page.check("input[name=needs][value=food]")
    page.check("input[name=services_on_scene][value=water]")
    page.check("input[name=risk_level][value=low]")
    page.check("input[name=disposition][value=referred]")
    page.fill("#narrative", "Woke him gently; he asked for a bed tonight.")
    shot(page, "encounter-landscape")
    check_accessible(page)
    page.set_viewport_size(TABLET_PORTRAIT)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET_PORTRAIT["width"]
    shot(page, "encounter-portrait")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    check_accessible(page)
    page.set_viewport_size(TABLET)
    # Without a disposition, the refusal names the field in words, beside the form.
    page.evaluate(
        "document.querySelectorAll('input[name=disposition]').forEach(i => i.checked = false)"
    )
    page.click("button:has-text('Submit encounter')")
    refusal = page.locator("#sync-refusal")
    refusal.wait_for()
    assert refusal.inner_text() == "Disposition: choose one before submitting."
    page.check("input[name=disposition][value=referred]")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "Everything is synced")
    # Online, the word is "Sent", not "it will be sent when the connection allows".
    assert "Sent." in page.locator("#main").inner_text()
    assert "Saved on this tablet" not in page.locator("#main").inner_text()

    encounter = Encounter.objects.get(call=call)
    assert encounter.status == "submitted"
    assert encounter.needs == ["shelter", "food"]
    assert encounter.services_on_scene == ["water"]
    assert encounter.disposition == "referred" and encounter.risk_level == "low"
    assert list(encounter.residents.all()) == [maria]
    assert encounter.people.get(resident=maria).living_situation == "unsheltered"
    consent = Consent.objects.get(resident=maria, encounter=encounter)
    assert (consent.scope, consent.method) == ("share_partners", "verbal")
    referral = Referral.objects.get(resident=maria)
    assert referral.encounter == encounter and referral.status == "sent"
    assert referral.service == directory.service
    follow_up = FollowUp.objects.get(resident=maria)
    assert (follow_up.encounter, follow_up.kind) == (encounter, "in_person")
    assert timezone.localtime(follow_up.due_at).date().isoformat() == "2026-12-01"

    # Resources nearby: places free, with the figure.
    page.click("nav >> text=Resources")
    page.check("input[name=has_capacity]")
    page.click("button:has-text('Search')")
    text = page.locator("main").inner_text()
    assert "Westside Emergency Housing" in text and "6 of 40 beds free" in text
    shot(page, "resources-landscape")
    check_accessible(page)

    # Maria's history, from the encounter form: what the responder may see, with the
    # referral's live status.
    page.goto(f"{live_server.url}/field/encounters/new")
    page.fill("#person-name", "Maria Lopez")
    page.click("#person-search")
    page.click("#person-results button:has-text('Add')")
    page.click("#people-list a:has-text('History')")
    page.wait_for_url(f"**/field/residents/{maria.public_id}/")
    assert "Westside Emergency Housing" in page.locator("main").inner_text()
    assert errors == []
    context.close()


def fill_encounter(page, n: int) -> None:
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#anonymous_people", str(n))
    page.check("input[name=needs][value=food]")
    if n % 2:
        page.check("input[name=needs][value=shelter]")
    page.check("input[name=services_on_scene][value=water]")
    page.check("input[name=disposition][value=settled_by_contact]")
    if n == 3:
        page.check("input[name=ems_requested]")
    page.fill("#transport_destination", f"Place {n}")
    page.fill("#narrative", f"Offline encounter number {n}: water given, talked it through.")
    if n == 2:
        page.check("input[name=narrative_part2]")


def test_three_encounters_logged_offline_reach_the_server_exactly_once(live_server, browser, shift):
    unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    # The service worker installs and keeps the app shell.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "caches.open('acs-field-pages').then(c => c.match('/field/encounters/new'))"
        ".then(hit => !!hit)",
        polling=250,
        timeout=20000,
    )
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")
    started = timezone.now()

    context.set_offline(True)
    for n in (1, 2, 3):
        page.goto(f"{live_server.url}/field/encounters/new")
        fill_encounter(page, n)
        page.click("button:has-text('Submit encounter')")
        page.wait_for_url(f"{live_server.url}/field/")
        wait_for_status(page, "Offline")
        assert "Saved on this tablet" in page.locator("#main").inner_text()
    assert "3 encounters waiting to sync" in status_line(page)

    page.reload()  # offline: the kept copy of the page, and the queue is still there
    wait_for_status(page, "3 encounters waiting to sync")
    page.wait_for_function("() => document.querySelectorAll('#pending-list li').length === 3")
    shot(page, "home-offline-landscape")
    assert Encounter.objects.count() == 0

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for_status(page, "Everything is synced", timeout=30000)
    # Ask for more rounds: nothing is sent twice.
    page.evaluate("window.acsField.sync(false)")
    page.reload()
    wait_for_status(page, "Everything is synced")

    encounters = list(Encounter.objects.order_by("anonymous_people"))
    assert len(encounters) == 3
    assert len({e.client_id for e in encounters}) == 3
    for n, encounter in zip((1, 2, 3), encounters, strict=True):
        assert encounter.status == "submitted"
        assert encounter.unit == unit and encounter.created_by == responder
        assert encounter.anonymous_people == n
        assert encounter.needs == (["shelter", "food"] if n % 2 else ["food"])
        assert encounter.services_on_scene == ["water"]
        assert encounter.disposition == "settled_by_contact"
        assert encounter.ems_requested is (n == 3) and encounter.police_requested is False
        assert encounter.transport_destination == f"Place {n}"
        assert encounter.narrative_part2 is (n == 2)
        assert encounter.narrative == (
            f"Offline encounter number {n}: water given, talked it through."
        )
        # When it happened on the tablet, not when it reached the server.
        assert (
            started - timezone.timedelta(minutes=2)
            <= encounter.occurred_at
            <= started + (timezone.timedelta(minutes=5))
        )
    context.close()


def test_a_draft_survives_a_reload_and_sign_out_clears_the_tablet(live_server, browser, shift):
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#narrative", "Half-written note")
    page.check("input[name=needs][value=medical]")
    page.check("input[name=narrative_part2]")
    page.wait_for_url("**/field/encounters/new?draft=*")

    page.reload()
    page.wait_for_function("() => document.getElementById('narrative').value.length > 0")
    assert page.input_value("#narrative") == "Half-written note"
    assert page.is_checked("input[name=needs][value=medical]")
    assert page.is_checked("input[name=narrative_part2]")

    page.goto(f"{live_server.url}/field/")
    page.wait_for_selector("#pending-list li")
    assert page.locator("#pending-list li").count() == 1
    page.click("#sign-out button")
    page.wait_for_url("**/accounts/login/**")
    leftovers = page.evaluate(
        "Promise.all([indexedDB.databases(), caches.keys()])"
        ".then(([dbs, keys]) => dbs.map(d => d.name).concat(keys))"
    )
    assert leftovers == []
    assert Encounter.objects.count() == 0
    context.close()


def test_a_refused_submission_is_shown_fixed_and_sent_once(live_server, browser, shift):
    """A person added as new who looks like someone on record: the server refuses the new
    record (possible duplicate), the tablet keeps the encounter and says why, the responder
    confirms it is someone else, and it goes through once."""
    _unit, responder = shift
    resident_create(
        actor=UserFactory(username="desk", role=Role.CASE_MANAGER),
        data={"preferred_name": "Jon Begay", "date_of_birth": "1975-06-01"},
        confirm_new=True,
    )
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#person-name", "John Begay")
    page.fill("#person-dob", "1975-06-01")
    page.click("#person-new")
    page.check("input[name=disposition][value=settled_by_contact]")
    page.fill("#narrative", "Kept after a refusal")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "1 refused: open to fix")
    why = page.locator("#pending-list").inner_text()
    assert "may already be on record: Jon Begay 1975-06-01" in why
    assert Encounter.objects.count() == 0

    page.click("#pending-list a:has-text('Open to fix')")
    page.wait_for_selector("#sync-refusal:not([hidden])")
    person = page.locator("#people-list li.refused")
    assert person.count() == 1
    assert page.input_value("#narrative") == "Kept after a refusal"
    person.locator("[data-confirm-new]").check()
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "Everything is synced")

    encounter = Encounter.objects.get()
    assert encounter.narrative == "Kept after a refusal" and encounter.status == "submitted"
    assert [r.preferred_name for r in encounter.residents.all()] == ["John Begay"]
    assert stored_on_tablet(page) == {"drafts": 0, "outbox": 0}
    context.close()


def test_leaving_the_form_after_submitting_saves_no_draft_back(live_server, browser, shift):
    """The form saves its draft when the page is left (pagehide); once the encounter is
    submitted into the outbox, leaving must not write the draft back (the tablet would list
    an encounter already sent as a draft to finish). The send is held, so the page is still
    the form when it is left."""
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    held = []

    def hold_posts(route):
        if route.request.method == "POST":
            held.append(route)  # never answered: the outbox keeps the item
        else:
            route.continue_()

    page.route("**/api/v1/field/**", hold_posts)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    page.check("input[name=disposition][value=settled_by_contact]")
    page.fill("#narrative", "Left right after submitting")
    page.click("button:has-text('Submit encounter')")
    # Submitted into the outbox (the draft deleted, the flash set), the send under way.
    page.wait_for_function("() => sessionStorage.getItem('acs-flash') !== null")
    page.evaluate("window.dispatchEvent(new Event('pagehide'))")
    page.wait_for_url(f"{live_server.url}/field/")
    assert held  # the send was still waiting when the page was left
    assert stored_on_tablet(page) == {"drafts": 0, "outbox": 1}
    context.close()


def stored_on_tablet(page) -> dict:
    """How many drafts and outbox items the field app's IndexedDB holds."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const name = "acs-field-" + (document.body.dataset.user || "anonymous");
            const open = indexedDB.open(name);
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                const tx = db.transaction(["drafts", "outbox"]);
                const counts = {};
                for (const store of ["drafts", "outbox"]) {
                    const req = tx.objectStore(store).count();
                    req.onsuccess = () => { counts[store] = req.result; };
                }
                tx.oncomplete = () => { db.close(); resolve(counts); };
            };
        })"""
    )


def test_a_new_person_whose_answer_was_lost_is_created_once(live_server, browser, shift):
    """The resident record is made but its answer never reaches the tablet (the line dropped):
    the retry carries the same client_id and gets that record back, instead of being refused
    as a duplicate of it or making a second one."""
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    lost = []

    def lose_the_first_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch())  # the server makes the record...
            route.abort("connectionreset")  # ...and the tablet never hears of it
        else:
            route.continue_()

    page.route("**/api/v1/field/residents", lose_the_first_answer)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#person-name", "Ana Nueva")
    page.click("#person-new")
    page.check("input[name=disposition][value=settled_by_contact]")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    page.wait_for_function("() => document.querySelectorAll('#pending-list li').length === 1")
    assert lost and lost[0].status == 201
    assert Resident.objects.filter(preferred_name="Ana Nueva").count() == 1
    assert Encounter.objects.count() == 0

    page.evaluate("window.acsField.sync(false)")
    wait_for_status(page, "Everything is synced", timeout=30000)

    resident = Resident.objects.get(preferred_name="Ana Nueva")
    assert resident.client_id is not None
    assert list(Encounter.objects.get().residents.all()) == [resident]
    context.close()


def test_a_consent_whose_first_request_was_held_up_is_recorded_once(live_server, browser, shift):
    """The consent's first request hangs on a bad line: the tablet hears nothing and sends it
    again, and then the first one reaches the server after all. Both carry the consent's
    client_id, kept with the queued item, so the server records one consent and answers the
    late request with it instead of recording a twin."""
    _unit, responder = shift
    maria = resident_create(
        actor=UserFactory(username="desk", role=Role.CASE_MANAGER),
        data={"preferred_name": "Maria Lopez"},
        confirm_new=True,
    )
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    held = []

    def hold_up_the_first(route):
        if route.request.method == "POST" and not held:
            held.append(route.request)  # kept, to reach the server late
            route.abort("timedout")  # the tablet never hears of it
        else:
            route.continue_()

    page.route("**/api/v1/field/residents/*/consents", hold_up_the_first)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    page.fill("#person-name", "Maria Lopez")
    page.click("#person-search")
    page.click("#person-results button:has-text('Add')")
    page.locator("#people-list li").first.locator("[data-consent-scope]").select_option(
        "share_partners"
    )
    page.check("input[name=disposition][value=settled_by_contact]")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    page.wait_for_function("() => document.querySelectorAll('#pending-list li').length === 1")
    assert held and not Consent.objects.exists()

    page.evaluate("window.acsField.sync(false)")
    wait_for_status(page, "Everything is synced", timeout=30000)
    consent = Consent.objects.get(resident=maria)
    replay = {"content-type", "accept", "x-csrftoken"}
    late = page.request.post(
        held[0].url,
        data=held[0].post_data,
        headers={k: v for k, v in held[0].headers.items() if k.lower() in replay},
    )

    assert late.status == 200 and late.json()["id"] == str(consent.public_id)
    assert Consent.objects.count() == 1
    assert consent.client_id is not None and consent.encounter == Encounter.objects.get()
    context.close()


def test_a_narrative_that_mentions_substance_use_prompts_the_part_2_box(
    live_server, browser, shift
):
    """A hint, not a decision: the box stays as the responder leaves it."""
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    page.goto(f"{live_server.url}/field/encounters/new")
    page.wait_for_selector("#people:not([hidden])")
    hint = page.locator("#part2-hint")

    page.fill("#narrative", "Talked through the method for finding a bed.")
    assert hint.is_hidden()
    page.fill("#narrative", "He asked where the detox on Second Street is.")
    assert hint.is_visible()
    assert not page.is_checked("input[name=narrative_part2]")
    page.check("input[name=narrative_part2]")
    assert hint.is_hidden()
    page.uncheck("input[name=narrative_part2]")
    page.fill("#narrative", "Dijo que usa heroína a veces.")
    assert hint.is_visible()
    context.close()


def test_after_the_idle_limit_the_tablet_drops_the_pages_it_kept(live_server, browser, shift):
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    page.wait_for_function(
        "() => caches.open('acs-field-pages').then(c => c.match('/field/calls/')).then(Boolean)",
        polling=250,
        timeout=20000,
    )
    # The last touch was longer ago than the server's idle limit.
    page.evaluate(
        "s => localStorage.setItem('acs-field-activity', String(Date.now() - (s + 60) * 1000))",
        settings.SESSION_IDLE_TIMEOUT,
    )
    # Off to sign-in, which (the server's session here being fresh) sends a responder on to
    # the field app, whose script keeps pages again for that fresh session: so the test
    # records the deletion itself rather than racing the next page.
    context.add_init_script(
        """if (window.caches) { const drop = caches.delete.bind(caches);
        caches.delete = (name) => drop(name).then((done) => {
          localStorage.setItem('dropped-' + name, String(done)); return done; }); }"""
    )
    page.goto(f"{live_server.url}/field/calls/")
    page.wait_for_url(lambda url: "/field/calls/" not in url)
    assert page.evaluate("() => localStorage.getItem('dropped-acs-field-pages')") == "true"
    context.close()


def test_a_tap_made_while_the_tablet_is_sending_goes_out_when_that_round_ends(
    live_server, browser, shift
):
    """On scene tapped while En route is still on its way (a slow line): the tap goes out as
    soon as that round of sending ends, not at the next timed round 20 s later (dispatch saw
    the unit arrive late, and a tap seemed lost)."""
    unit, responder = shift
    call = dispatched_call(unit, "ACS-26-000124", event="dispatched")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    held = []

    def hold_the_first(route):
        if route.request.method == "POST" and not held:
            held.append(route)  # answered below: the round is still sending meanwhile
        else:
            route.continue_()

    page.route("**/api/v1/field/units/*/status", hold_the_first)
    page.goto(f"{live_server.url}/field/calls/")
    page.click("#call-rows a")
    wait_for_status(page, "Everything is synced")  # the page's script is running
    page.click("button:has-text('En route')")
    for _ in range(100):  # Playwright hands the route over while it waits
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "En route was sent by the page's script"
    page.click("button:has-text('On scene')")
    page.wait_for_timeout(500)
    held[0].continue_()

    on_scene = UnitAssignment.objects.filter(call=call, unit=unit, status="on_scene")
    for _ in range(40):  # 8 s: well before the next timed round (every 20 s)
        if on_scene.exists():
            break
        page.wait_for_timeout(200)
    assert on_scene.exists()
    context.close()


def test_my_calls_update_without_a_reload(live_server, browser, shift, settings):
    settings.FIELD_CALLS_REFRESH_SECONDS = 1
    unit, responder = shift
    dispatched_call(unit, "ACS-26-000500", event="dispatched")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    page.goto(f"{live_server.url}/field/calls/")
    assert "ACS-26-000500" in page.locator("#call-rows").inner_text()

    # CAD dispatches the unit to another call while the screen is open.
    dispatched_call(unit, "ACS-26-000501", event="dispatched")

    page.wait_for_selector("#call-rows >> text=ACS-26-000501", timeout=10000)
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    context.close()


def test_a_status_tap_shows_at_once_in_one_vocabulary_in_english_and_spanish(
    live_server, browser, shift
):
    """The badge said "Available" while the buttons said "In service", stayed in English in
    Spanish, and did not change when a button was tapped."""
    unit, responder = shift
    for language, available, out in (
        ("en-US", "Available", "Out of service"),
        ("es-ES", "Disponible", "Fuera de servicio"),
    ):
        unit.status = "available"
        unit.save(update_fields=["status"])
        context = browser.new_context(viewport=TABLET, locale=language)
        page = context.new_page()
        sign_in(page, live_server.url, responder.username)
        badge = page.locator(".unit .status")
        buttons = page.locator(".unit button")
        assert badge.inner_text() == available
        assert buttons.all_inner_texts() == [available, out]
        page.click(f".unit button:has-text('{out}')")
        page.wait_for_function(
            "t => document.querySelector('.unit .status').textContent === t", arg=out
        )
        shot(page, f"home-status-{language}")
        wait_for_status(
            page, "Everything is synced" if language == "en-US" else "Todo está sincronizado"
        )
        unit.refresh_from_db()
        assert unit.status == "out_of_service"
        context.close()
