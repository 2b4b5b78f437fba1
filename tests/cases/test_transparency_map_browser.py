"""Issue 21 in headless Chromium, as the public sees it (no sign-in): the district map with
its table, a figure chosen for it, and the page in Spanish through its language switch.
Screenshots: .local/artifacts/transparency/ (map.png, map-calls.png, spanish.png,
spanish-table.png, spanish-definitions.png)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.models import EligibilityRule
from cases.services.transparency import transparency_refresh
from tests.cases.test_admin_browser import ARTIFACTS
from tests.factories import CallFactory
from tests.responders.sso_pages import watched_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = ARTIFACTS / "transparency"
ABQ = ZoneInfo("America/Denver")


@pytest.fixture
def page(browser, live_server):
    yield from watched_page(browser, live_server)


@pytest.fixture
def figures():
    """April 2026: eligible calls in six districts, some routed to police, a few calls in a
    seventh (too few to publish)."""
    EligibilityRule.objects.create(call_type="WELFARE")
    plan = (("1", 40, 36), ("2", 30, 15), ("3", 25, 24), ("5", 50, 30), ("7", 20, 10),
            ("9", 35, 33), ("8", 4, 2))  # fmt: skip
    for district, calls, reached in plan:
        for i in range(calls):
            received = datetime(2026, 4, 1 + i % 27, 8 + i % 12, tzinfo=ABQ)
            CallFactory(
                received_at=received,
                status_changed_at=received,
                council_district=district,
                call_type="WELFARE",
                on_scene_at=received + timedelta(minutes=15) if i < reached else None,
                routed_to="" if i < reached else "police",
            )
    transparency_refresh(full=True, now=datetime(2026, 5, 3, tzinfo=ABQ))


def test_the_public_sees_the_district_map_and_the_page_in_spanish(page, live_server, figures):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/transparency/?start=2026-04&end=2026-04")

    heading = page.get_by_role("heading", name="By council district")
    assert heading.is_visible()
    svg = page.locator("svg.district-map")
    assert svg.is_visible()
    assert svg.get_attribute("role") == "img"
    title = svg.locator("title").first.text_content()
    assert title == "Coverage of eligible calls by council district, April 2026"
    # Nine districts drawn. District 5's 60.0% (30 of 50) is the darkest; district 3's 24 of
    # 25 is hatched: its one call routed elsewhere is about fewer than 10 (so are 1, 8, 9).
    assert svg.locator("path").count() == 9
    assert svg.locator("path.m5 > title").all_text_contents() == ["District 5: 60.0%"]
    hidden = svg.locator("path.hidden > title").all_text_contents()
    assert "District 3: fewer than 10" in hidden and len(hidden) == 4
    table = page.locator("table.map-table")
    assert table.is_visible()
    assert "District 5\t60.0%" in table.inner_text()
    assert "District 3\tfewer than 10" in table.inner_text()
    svg.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "map.png"), full_page=False)

    # Another figure on the map, with a plain GET form.
    page.select_option("#f-map", "calls_received")
    page.get_by_role("button", name="Show on the map").click()
    page.wait_for_url("**map=calls_received**")
    assert (
        "Calls received by council district"
        in page.locator("svg.district-map title").first.text_content()
    )
    page.locator("svg.district-map").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "map-calls.png"))

    # The page in Spanish, by its switch; the choices stay.
    page.get_by_role("link", name="Español").click()
    page.wait_for_url("**lang=es**")
    assert page.locator("h1").inner_text() == "Cómo le va a Albuquerque Community Safety"
    assert page.locator("html").get_attribute("lang") in ("es", "en")
    assert page.locator(".transparency").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Por distrito del concejo").is_visible()
    page.select_option("#f-district", "5")
    page.get_by_role("button", name="Mostrar", exact=True).click()
    page.wait_for_url("**district=5**")
    assert "lang=es" in page.url
    assert "Distrito 5" in page.locator(".freshness").inner_text()
    assert "Cobertura de las llamadas elegibles" in page.content()
    page.screenshot(path=str(SHOTS / "spanish.png"), full_page=False)

    # A chart's table in Spanish: headers and months (Django's month names), no English.
    table = page.locator("#calls figure.metric").first.locator("details.table-view")
    table.locator("summary").click()
    assert table.locator("thead th").all_inner_texts() == ["Mes", "Llamadas"]
    assert table.locator("tbody th").all_inner_texts()[-1] == "Abr 2026"
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "spanish-table.png"), full_page=False)

    # Its definition, in Spanish, through the chart's own link.
    page.get_by_role("link", name="Cómo se cuenta «llamadas recibidas»").click()
    page.wait_for_url("**/transparency/definitions/?lang=es#calls-received")
    assert page.locator("h1").inner_text() == "Qué significa cada cifra"
    entry = page.locator("#calls-received")
    assert entry.locator("h3").inner_text() == "Llamadas recibidas"
    assert entry.locator("dt").all_inner_texts() == ["Cuenta", "Mes y distrito", "Se excluye"]
    assert "Toda llamada recibida de CAD" in entry.inner_text()
    body = page.locator(".definitions").inner_text()
    assert "Counts" not in body and "Left out" not in body and "The month" not in body
    page.screenshot(path=str(SHOTS / "spanish-definitions.png"), full_page=False)
    page.get_by_role("link", name="← Volver a las cifras").click()
    page.wait_for_url("**lang=es**")
    assert page.locator("h1").inner_text() == "Cómo le va a Albuquerque Community Safety"
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "How Albuquerque Community Safety is doing"
    assert page.problems == []
