"""Forms on the encounter in the field app (#22), in headless Chromium against the live server:
a responder screens a person with the C-SSRS in a dead zone: questions 3 to 5 appear only
after a yes to question 2, a required question left blank blocks the submission with its
words, a reload keeps the answers, and when the line returns the response reaches the server
once even though the first answer to it is lost, and sets the encounter's risk level.

Screenshots: .local/artifacts/screening/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from acs.roles import Role
from cases.models import Encounter, FormResponse
from tests.factories import TeamFactory, UnitFactory, UserFactory
from tests.journeys.harness import replay_migration_data
from tests.responders.test_field_browser import TABLET, sign_in, wait_for_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / ".local" / "artifacts" / "screening"


@pytest.fixture
def shift(transactional_db):
    # A transactional test may follow a flush, which empties the shipped forms: made again.
    replay_migration_data([("cases.migrations.0037_shipped_forms", "load")])
    team = TeamFactory(name="Behavioral Health Responders")
    unit = UnitFactory(call_sign="ACS-31", team=team)
    responder = UserFactory(username="screening-responder", role=Role.RESPONDER, team=team)
    unit.members.add(responder)
    return unit, responder


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def answer(section, link: str, value: str) -> None:
    section.locator(f"input[data-answer='{link}'][value='{value}']").check()


def test_a_cssrs_screen_taken_offline_reaches_the_server_once_and_sets_the_risk_level(
    live_server, browser, shift
):
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server.url, responder.username)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(
        "caches.open('acs-field-pages').then(c => c.match('/field/encounters/new'))"
        ".then(hit => !!hit)",
        polling=250,
        timeout=20000,
    )
    page.reload()

    context.set_offline(True)
    page.goto(f"{live_server.url}/field/encounters/new?call_type=MNTL")
    page.wait_for_selector("#forms-panel:not([hidden])")
    page.fill("#person-name", "Ana Nueva")
    page.click("#person-new")
    cssrs = page.locator("details[data-form='cssrs-screener']")
    assert "Required for this call" in cssrs.locator("summary").inner_text()
    # The C-SSRS is required on an MNTL call: not begun, it blocks the submission, named.
    page.check("input[name=disposition][value=referred]")
    page.click("button:has-text('Submit encounter')")
    refusal = page.locator("#sync-refusal")
    assert "Fill in the form required for this call:" in refusal.inner_text()
    assert "(C-SSRS) screener" in refusal.inner_text()
    assert page.locator("details.form-section.missing[data-form='cssrs-screener']").count() == 1
    assert page.url.endswith("call_type=MNTL") or "draft=" in page.url
    shot(page, "cssrs-required-form-blocks-submit")
    # The refusal opened the form.
    assert cssrs.get_attribute("open") is not None
    cssrs.locator("select[data-form-person]").select_option(label="Ana Nueva")
    # Questions 3 to 5 are asked only after a yes to question 2.
    q3 = cssrs.locator(".form-item[data-link='cssrs-3']")
    assert q3.is_hidden()
    answer(cssrs, "cssrs-1", "true")
    answer(cssrs, "cssrs-2", "true")
    assert q3.is_visible()
    answer(cssrs, "cssrs-3", "false")
    answer(cssrs, "cssrs-4", "true")
    answer(cssrs, "cssrs-6", "false")
    assert cssrs.locator(".form-item[data-link='cssrs-6a']").is_hidden()
    page.check("input[name=disposition][value=referred]")
    page.wait_for_function("() => location.search.includes('draft=')")
    shot(page, "cssrs-offline-answering")

    # A reload (offline: the kept copy of the page) keeps the answers in the draft.
    page.wait_for_timeout(500)
    page.reload()
    cssrs = page.locator("details[data-form='cssrs-screener']")
    page.wait_for_function(
        "() => document.querySelector(\"input[data-answer='cssrs-4'][value='true']\").checked"
    )
    assert cssrs.locator("select[data-form-person] option:checked").inner_text() == "Ana Nueva"

    # Question 5 is shown and required: the submission is refused, naming it.
    page.click("button:has-text('Submit encounter')")
    refusal = page.locator("#sync-refusal")
    assert "Answer the required questions" in refusal.inner_text()
    assert "Have you started to work out" in refusal.inner_text()
    assert cssrs.locator(".form-item.missing[data-link='cssrs-5']").count() == 1
    shot(page, "cssrs-required-blocks-submit")
    answer(cssrs, "cssrs-5", "false")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "1 encounter waiting to sync")
    assert Encounter.objects.count() == 0 and FormResponse.objects.count() == 0

    # Back online; the first answer to the form's POST is lost on the way back.
    lost = []

    def lose_the_first_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch())
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/field/encounters/*/forms", lose_the_first_answer)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => window.acsField.sync(false).then(() => true)")
    page.evaluate("window.acsField.sync(false)")
    wait_for_status(page, "Everything is synced", timeout=30000)
    shot(page, "cssrs-synced")

    assert lost and lost[0].status == 201
    response = FormResponse.objects.get()
    assert response.version.definition.key == "cssrs-screener"
    assert response.resident.preferred_name == "Ana Nueva"
    assert response.risk_level == "high"
    assert response.answers["cssrs-4"] is True and "cssrs-6a" not in response.answers
    encounter = Encounter.objects.get()
    assert encounter.status == "submitted"
    assert encounter.risk_level == "high" and encounter.risk_level_set_by == responder
    assert problems == []
    context.close()


def test_a_safety_plan_made_on_scene_is_printed_in_spanish_and_texted(live_server, browser, shift):
    from cases.models import Consent, Notification
    from cases.services import consent_record

    _unit, responder = shift
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.url.startswith(live_server.url)
            else None
        ),
    )
    sign_in(page, live_server.url, responder.username)
    page.goto(f"{live_server.url}/field/encounters/new?call_type=SUICTHRT")
    page.wait_for_selector("#forms-panel:not([hidden])")
    page.fill("#person-name", "Rosa Vega")
    page.click("#person-new")
    # The C-SSRS is required on a SUICTHRT call: screened first (nothing endorsed).
    cssrs = page.locator("details[data-form='cssrs-screener']")
    cssrs.locator("summary").click()
    for link in ("cssrs-1", "cssrs-2", "cssrs-6"):
        answer(cssrs, link, "false")
    plan = page.locator("details[data-form='safety-plan']")
    plan.locator("summary").click()
    plan.locator("select[data-form-person]").select_option(label="Rosa Vega")
    plan.locator("select[data-form-language]").select_option("es")
    plan.locator("textarea[data-answer='sp-1']").fill("Cuando dejo de contestar a mi hermana")
    plan.locator("textarea[data-answer='sp-2']").fill("Caminar al río")
    plan.locator("textarea[data-answer='sp-4']").fill("Tía Rosa 505-555-0100")
    page.check("input[name=disposition][value=referred]")
    shot(page, "safety-plan-on-the-encounter")
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "Everything is synced", timeout=30000)

    assert FormResponse.objects.get(version__definition__key="cssrs-screener").risk_level == "low"
    response = FormResponse.objects.get(version__definition__key="safety-plan")
    assert response.language == "es" and response.answers["sp-2"] == "Caminar al río"
    rosa = response.resident
    rosa.phone = "+15055550142"
    rosa.save()
    consent_record(actor=responder, resident=rosa, scope=Consent.Scope.SMS, method="verbal")

    page.goto(f"{live_server.url}/field/encounters/{response.encounter.public_id}/")
    page.click("a:has-text('Their copy (Spanish)')")
    page.wait_for_selector("h1:has-text('Mi plan de seguridad')")
    assert "Paso 2. Cosas que puedo hacer" in page.locator("article").inner_text()
    assert "988" in page.locator("article").inner_text()
    shot(page, "safety-plan-copy-es")
    page.emulate_media(media="print")
    shot(page, "safety-plan-copy-es-print")
    page.emulate_media(media="screen")
    page.click("a:has-text('Volver al encuentro')")
    page.click("button:has-text('Text it to them')")
    page.wait_for_selector(".messages")
    assert "The plan will be texted to them." in page.locator(".messages").inner_text()
    shot(page, "safety-plan-texted")
    assert Notification.objects.filter(template="safety_plan", resident=rosa).count() == 1
    assert problems == []
    context.close()


def test_forms_bound_to_the_team_and_to_the_disposition_are_marked_and_a_required_one_blocks(
    live_server, browser, shift
):
    from cases.models import FormBinding, FormDefinition

    unit, responder = shift
    # Bound to this unit's team (suggested), and required when the encounter is a referral.
    FormBinding.objects.create(
        definition=FormDefinition.objects.get(key="crisis-assessment"), team=unit.team
    )
    # Bound to another team: not marked here.
    FormBinding.objects.create(
        definition=FormDefinition.objects.get(key="cssrs-screener"),
        team=TeamFactory(name="Downtown"),
        required=True,
    )
    FormBinding.objects.create(
        definition=FormDefinition.objects.get(key="safety-plan"),
        disposition="referred",
        required=True,
    )
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server.url, responder.username)
    # Self-initiated (no call, so no call type): only the team and the disposition bind.
    page.goto(f"{live_server.url}/field/encounters/new?unit={unit.call_sign}")
    page.wait_for_selector("#forms-panel:not([hidden])")
    page.fill("#person-name", "Lupe Ortiz")
    page.click("#person-new")
    badge = "summary .badge"
    assessment = page.locator("details[data-form='crisis-assessment']")
    plan = page.locator("details[data-form='safety-plan']")
    cssrs = page.locator("details[data-form='cssrs-screener']")
    page.wait_for_function(
        "s => !document.querySelector(s).hidden",
        arg="details[data-form='crisis-assessment'] summary .badge",
    )
    assert assessment.locator(badge).inner_text() == "For this call"
    assert plan.locator(badge).is_hidden() and cssrs.locator(badge).is_hidden()
    # The disposition binds the safety plan, as required, and unbinds it when changed.
    page.check("input[name=disposition][value=referred]")
    assert plan.locator(badge).inner_text() == "Required for this call"
    # Listed first: the required form, then the suggested one.
    order = page.eval_on_selector_all(
        "#forms-panel details[data-form]", "els => els.map(e => e.dataset.form)"
    )
    assert order[:2] == ["safety-plan", "crisis-assessment"]
    shot(page, "team-and-disposition-bindings")
    page.click("button:has-text('Submit encounter')")
    assert "My safety plan" in page.locator("#sync-refusal").inner_text()
    page.check("input[name=disposition][value=settled_by_contact]")
    assert plan.locator(badge).is_hidden()
    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "Everything is synced", timeout=30000)
    encounter = Encounter.objects.get()
    assert encounter.disposition == "settled_by_contact" and encounter.status == "submitted"
    assert problems == []
    context.close()


def test_a_required_form_recorded_on_an_unfinished_encounter_is_not_asked_for_again(
    live_server, browser, shift
):
    """Begun on another tablet: the encounter and its required safety plan reached the server,
    the submit did not. Opened here from "Unfinished encounters", the form shows the plan as
    recorded and submits without asking for it again (nor sending a second one)."""
    import uuid

    from django.utils import timezone

    from cases.models import FormBinding, FormDefinition
    from cases.screening.services import form_response_submit
    from tests.cases.helpers import logged_encounter

    unit, responder = shift
    plan = FormDefinition.objects.get(key="safety-plan")
    FormBinding.objects.create(definition=plan, team=unit.team, required=True)
    draft = logged_encounter(responder, unit, disposition="settled_by_contact")
    form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=draft,
        version=plan.versions.order_by("-number").first(),
        resident=None,
        answers={"sp-1": "Pacing, not sleeping", "sp-2": "Music, a walk"},
        started_at=timezone.now(),
    )
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server.url, responder.username)
    page.goto(f"{live_server.url}/field/")
    page.click(f"#server-drafts li[data-encounter='{draft.public_id}'] a")
    section = page.locator("details[data-form='safety-plan']")
    page.wait_for_function(
        # (the form's sections are built once the page's script has run: null until then)
        "s => { const b = document.querySelector(s);"
        " return !!b && b.textContent.includes('Recorded on the server'); }",
        arg="details[data-form='safety-plan'] summary .badge",
    )
    shot(page, "unfinished-encounter-form-recorded")
    assert "warn" not in (section.locator("summary .badge").get_attribute("class") or "")

    page.click("button:has-text('Submit encounter')")
    page.wait_for_url(f"{live_server.url}/field/")
    wait_for_status(page, "Everything is synced", timeout=30000)
    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert FormResponse.objects.filter(encounter=draft).count() == 1
    assert Encounter.objects.count() == 1
    assert problems == []
    context.close()
