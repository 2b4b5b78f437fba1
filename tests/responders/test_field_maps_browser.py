"""Maps in the field app, in headless Chromium as a responder: the call page shows the place on
a map with directions, Resources nearby shows its places on a map beside the list (distances in
miles, the city's unit), and offline (or without the map library) each map gives way to its
address or list, never a blank box. Screenshots: .local/artifacts/field-maps/."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from acs.roles import Role
from tests.cases.helpers import dispatched_call
from tests.cases.test_board_browser import page_for
from tests.factories import (
    AddressFactory,
    CapacityFactory,
    ServiceAtLocationFactory,
    TeamFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / ".local" / "artifacts" / "field-maps"


@pytest.fixture
def shift(transactional_db):
    team = TeamFactory(name="Community Responders")
    unit = UnitFactory(call_sign="ACS-61", team=team)
    responder = UserFactory(username="maps-responder", role=Role.RESPONDER, team=team)
    unit.members.add(responder)
    call = dispatched_call(unit, "M-0001", event="dispatched")
    call.address = "500 Marquette Ave NW"
    call.latitude, call.longitude = Decimal("35.087000"), Decimal("-106.651000")
    call.save()
    for name, lat, lng in (
        ("Westside shelter", "35.100000", "-106.700000"),
        ("Downtown clinic", "35.084000", "-106.650000"),
    ):
        sal = ServiceAtLocationFactory(
            service__name=name, location__latitude=lat, location__longitude=lng
        )
        AddressFactory(location=sal.location)
        CapacityFactory(service_at_location=sal, available=3, total=10)
    return responder, call


@pytest.mark.parametrize("tiles", ["local", "none"])
def test_the_call_page_maps_the_place_with_directions_and_degrades_offline(
    live_server, browser, shift, settings, tiles
):
    settings.TILE_URL = "/static/board/tile.png" if tiles == "local" else ""
    responder, call = shift
    page = page_for(browser, live_server, responder, width=1024)
    page.goto(f"{live_server.url}/field/calls/{call.public_id}/")
    page.wait_for_selector(".field-map.acs-map-ready path.mark")
    assert page.locator(".field-map path.mark").count() == 1
    directions = page.locator("#directions").get_attribute("href")
    assert "35.087000" in directions and "-106.651000" in directions
    page.locator(".field-map").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"call-{tiles}-online.png"))

    page.context.set_offline(True)
    page.wait_for_selector(".field-map.acs-map-offline")
    assert page.locator(".field-map .leaflet-pane").count() == 0
    assert page.locator(".field-map .acs-map-fallback").is_visible()
    assert page.locator(".address", has_text="500 Marquette Ave NW").is_visible()
    page.screenshot(path=str(SHOTS / f"call-{tiles}-offline.png"))
    page.context.set_offline(False)
    page.wait_for_selector(".field-map.acs-map-ready path.mark")
    assert page.problems == []


def test_resources_nearby_has_a_map_beside_the_list_in_miles_and_degrades_offline(
    live_server, browser, shift
):
    responder, _ = shift
    page = page_for(browser, live_server, responder, width=1024)
    page.goto(f"{live_server.url}/field/resources/?lat=35.0844&lon=-106.6504")
    page.wait_for_selector(".field-map.acs-map-ready path.mark")
    items = page.locator("#resource-list .resource[data-lat]")
    assert items.count() == 2
    # Two places and "you are here".
    assert page.locator(".field-map path.mark").count() == 3
    distances = page.locator("#resource-list .distance").all_inner_texts()
    assert distances and all(d.endswith(" mi") for d in distances), distances
    page.locator(".field-map path.mark[data-label='Westside shelter']").click()
    selected = page.locator("#resource-list .resource.selected")
    assert selected.count() == 1 and "Westside shelter" in selected.inner_text()
    page.screenshot(path=str(SHOTS / "resources-online.png"), full_page=True)

    page.context.set_offline(True)
    page.wait_for_selector(".field-map.acs-map-offline")
    assert page.locator(".field-map .acs-map-fallback").is_visible()
    assert items.first.is_visible()
    page.screenshot(path=str(SHOTS / "resources-offline.png"), full_page=True)
    page.context.set_offline(False)
    assert page.problems == []


def test_without_the_map_library_the_call_page_shows_its_address_not_a_blank_box(
    live_server, browser, shift
):
    responder, call = shift
    page = page_for(browser, live_server, responder, width=1024)
    page.route("**/vendor/leaflet/leaflet.js", lambda route: route.abort())
    page.goto(f"{live_server.url}/field/calls/{call.public_id}/")
    page.wait_for_selector(".field-map.acs-map-offline")
    assert page.locator(".field-map .acs-map-fallback").is_visible()
    assert page.locator("#directions").is_visible()
    page.screenshot(path=str(SHOTS / "call-no-library.png"))


def test_the_tablet_shares_its_position_while_in_service_says_so_and_can_pause(
    live_server, browser, shift
):
    from django.test import Client

    from responders.models import UnitPosition
    from tests.workers import wait_until

    responder, _ = shift
    client = Client()
    client.force_login(responder)
    context = browser.new_context(
        viewport={"width": 1024, "height": 800},
        geolocation={"latitude": 35.0911, "longitude": -106.6402},
        permissions=["geolocation"],
    )
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
    page.set_default_timeout(60_000)
    page.goto(f"{live_server.url}/field/")
    banner = page.locator("#position-sharing")
    banner.wait_for()
    assert "ACS-61" in banner.inner_text() and "shared with dispatch" in banner.inner_text()
    wait_until(lambda: UnitPosition.objects.filter(source="field").exists(), timeout=20)
    position = UnitPosition.objects.get(source="field")
    assert position.unit.call_sign == "ACS-61"
    assert float(position.latitude) == pytest.approx(35.0911)
    page.screenshot(path=str(SHOTS / "position-sharing.png"))

    banner.locator("button").click()
    assert banner.get_attribute("data-state") == "paused"
    assert "paused" in banner.inner_text()
    page.reload()  # paused stays paused on this tablet: nothing more is sent
    page.locator("#position-sharing[data-state=paused]").wait_for()
    page.wait_for_timeout(1500)
    assert UnitPosition.objects.filter(source="field").count() == 1
    page.screenshot(path=str(SHOTS / "position-paused.png"))
    context.close()
