"""The public transparency page in headless Chromium, on a phone and on a desktop.

Screenshots go to .local/artifacts/ (git-ignored): transparency.png (desktop, whole page) and
transparency-phone.png (a phone's width, first screens).
"""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from cases.services.transparency import transparency_refresh
from tests.factories import CallFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts"
ABQ = ZoneInfo("America/Denver")


@pytest.fixture
def figures():
    """Three months of calls in two districts, enough for figures to be published."""
    for month in (2, 3, 4):
        for i in range(40):
            received = datetime(2026, month, 1 + i % 27, 8 + i % 12, tzinfo=ABQ)
            CallFactory(
                received_at=received,
                status_changed_at=received,
                council_district="2" if i % 3 else "7",
                source="911" if i % 4 else "311",
                dispatched_at=received + timedelta(minutes=2 + i % 5),
                on_scene_at=received + timedelta(minutes=12 + i % 9),
                cleared_at=received + timedelta(minutes=50),
            )
    transparency_refresh(full=True)


def test_the_public_page_in_a_browser(live_server, browser, figures):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = f"{live_server.url}/transparency/?start=2026-02&end=2026-04"

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    failed = []  # the browser's own favicon request aside, every request must succeed
    phone.on(
        "response",
        lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    phone.goto(url)
    assert phone.locator("h1").inner_text() == "How Albuquerque Community Safety is doing"
    # Nothing is wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    chart = phone.locator("#calls-received")
    assert chart.locator("svg.chart").is_visible()
    # The table view opens without any script of ours.
    assert not chart.locator("table").is_visible()
    chart.locator("summary").click()
    assert chart.locator("table").is_visible()
    assert "Apr 2026" in chart.locator("table").inner_text()
    phone.screenshot(path=str(ARTIFACTS / "transparency-phone.png"))

    # The filters are a plain GET form.
    phone.select_option("#f-district", "7")
    phone.get_by_role("button", name="Show", exact=True).click()
    phone.wait_for_url("**district=7**")
    assert "District 7" in phone.locator(".freshness").inner_text()
    assert failed == []

    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    desktop.goto(url)
    desktop.screenshot(path=str(ARTIFACTS / "transparency.png"), full_page=True)
    assert (ARTIFACTS / "transparency.png").stat().st_size > 10_000
