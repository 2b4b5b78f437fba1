"""Referring from the resident's page in headless Chromium, as a case manager and as a
supervisor: open the resident, find a service through the searchable picker (a typo, a
need), see its place, places free and whether the consent covers the partner, refer, and see
the referral listed; then a refused referral, its reason shown beside the form and the form
as typed. No 4xx/5xx answer and no console error on the way.

Screenshots at 1280 and 1024 px go to .local/artifacts/ (git-ignored)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from acs.roles import Role
from cases.models import Consent
from resources.models import Referral, Taxonomy
from resources.services import capacity_update
from tests.factories import (
    AddressFactory,
    AttributeFactory,
    OrganizationFactory,
    ResidentFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts"

# What the data migrations grant the desk roles on this page (a transactional test may follow
# another one's flush, which empties the groups: put back what this story needs).
DESK_GRANTS = {
    "cases": [
        "view_resident",
        "change_resident",
        "view_followup",
        "change_followup",
        "view_encounter",
    ],
    "resources": ["view_referral", "change_referral", "view_referralevent"],
}


@pytest.fixture
def desk_groups(transactional_db):
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        Group.objects.get_or_create(name=role.value)
    for role in (Role.CASE_MANAGER, Role.SUPERVISOR):
        group = Group.objects.get(name=role)
        for app_label, codenames in DESK_GRANTS.items():
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


@pytest.fixture
def places(desk_groups):
    """A night shelter with beds free, and a detox that is full."""
    needs = Taxonomy.objects.create(name="Needs")  # the seeded one may be flushed away
    haven = OrganizationFactory(name="Casa de Paz")
    shelter = ServiceFactory(
        organization=haven, name="Overnight emergency shelter", accepts_referrals=True
    )
    shelter_here = ServiceAtLocationFactory(service=shelter, location__name="Casa de Paz")
    AddressFactory(location=shelter_here.location, address_1="415 Tijeras Ave NW")
    capacity_update(service_at_location=shelter_here, available=12, total=40)

    crisis = OrganizationFactory(name="Rio Grande Crisis Center")
    detox = ServiceFactory(organization=crisis, name="Crisis stabilization", accepts_referrals=True)
    AttributeFactory(
        service=detox,
        taxonomy_term=TaxonomyTermFactory(taxonomy=needs, code="detox-term", name="Detox"),
    )
    detox_here = ServiceAtLocationFactory(service=detox, location__name="Crisis Center")
    AddressFactory(location=detox_here.location, address_1="2600 Marble Ave NE")
    capacity_update(service_at_location=detox_here, available=0, total=16)
    return {"shelter": shelter_here, "detox": detox_here, "haven": haven}


def signed_in_page(browser, live_server, user, width):
    """A browser page with the user's session (force_login counts the second factor)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(60_000)  # two shared cores: pages can be slow, not wrong
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    return page, problems


def pick(page, typed: str, option: str, screenshot: str = "") -> None:
    """Type into the select2 picker and choose the option that starts with `option`."""
    page.locator("#refer .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    choice = page.locator(".select2-results__option", has_text=option).first
    choice.wait_for()
    if screenshot:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / screenshot))
    choice.click()


@pytest.mark.parametrize(
    ("role", "username", "width"),
    [(Role.CASE_MANAGER, "dolores", 1280), (Role.SUPERVISOR, "teodoro", 1024)],
)
def test_a_desk_user_picks_a_service_sees_capacity_and_consent_and_refers(
    live_server, browser, places, role, username, width
):
    user = UserFactory(username=username, role=role)
    resident = ResidentFactory(preferred_name="Sunny")
    Consent.objects.create(
        resident=resident,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=places["haven"],
        method=Consent.Method.VERBAL,
        recorded_by=user,
    )
    page, problems = signed_in_page(browser, live_server, user, width)

    page.goto(f"{live_server.url}/admin/cases/resident/{resident.pk}/change/")
    assert "No active referrals." in page.locator("#referrals").inner_text()
    # A typo still finds it.
    pick(page, "shleter", "Overnight emergency shelter", f"admin-refer-options-{width}.png")
    preview = page.locator("#refer-preview")
    preview.get_by_text("12 of 40 beds free").wait_for()
    text = preview.inner_text()
    assert "Casa de Paz · 415 Tijeras Ave NW, Albuquerque" in text
    assert "Consent on file to share with this partner." in text
    page.fill("#id_refer-reason", "Needs a bed tonight.")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-refer-picked-{width}.png"), full_page=True)

    page.locator("#refer-submit").click()
    page.wait_for_url(f"**/admin/cases/resident/{resident.pk}/change/#referrals")
    assert "Referral to Overnight emergency shelter (Casa de Paz) sent." in (
        page.locator(".messagelist").inner_text()
    )
    listed = page.locator("#referrals").inner_text()
    assert "Overnight emergency shelter" in listed and "Sent" in listed
    referral = Referral.objects.get(resident=resident)
    assert (referral.status, referral.created_by) == ("sent", user)
    page.screenshot(path=str(ARTIFACTS / f"admin-refer-sent-{width}.png"), full_page=True)
    assert problems == []


def test_a_refused_referral_says_why_beside_the_form_and_keeps_what_was_typed(
    live_server, browser, places
):
    user = UserFactory(username="dolores", role=Role.CASE_MANAGER)
    resident = ResidentFactory(preferred_name="Sunny")
    page, problems = signed_in_page(browser, live_server, user, 1280)

    page.goto(f"{live_server.url}/admin/cases/resident/{resident.pk}/change/")
    pick(page, "detox", "Crisis stabilization")  # found by the need
    preview = page.locator("#refer-preview")
    preview.get_by_text("0 of 16 beds free").wait_for()
    assert "No places free" in preview.inner_text()
    assert "No consent to share with this partner" in preview.inner_text()
    page.select_option("#id_refer-urgency", "urgent")
    page.fill("#id_refer-reason", "Asked for detox after the call.")
    page.locator("#refer-submit").click()

    refusal = page.locator("#refer .refer-refused")
    refusal.wait_for()
    assert "has not consented to share with this partner" in refusal.inner_text()
    assert page.input_value("#id_refer-reason") == "Asked for detox after the call."
    assert page.input_value("#id_refer-urgency") == "urgent"
    assert "Crisis stabilization" in page.locator("#refer .select2-selection").inner_text()
    assert "0 of 16 beds free" in page.locator("#refer-preview").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-refer-refused-1280.png"), full_page=True)
    assert not Referral.objects.exists()
    assert problems == []
