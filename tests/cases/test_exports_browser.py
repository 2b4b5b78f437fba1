"""The exports admin in headless Chromium, signed in through the real forms: ask for an
export, watch the page follow the job without any script of ours (a meta refresh, allowed by
the Content-Security-Policy), and download the file."""

import pytest

from cases.exports.models import ExportJob
from cases.exports.services import export_run
from tests.cases.hmis_world import at, met
from tests.factories import DEFAULT_PASSWORD, ResidentFactory
from tests.totp import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


# The secret tests/factories.py gives every staff persona's authenticator.
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
# Runs in every document before its own scripts; the page's policy does not apply to it.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def role_groups(transactional_db):
    from tests.workers import restore_role_groups

    restore_role_groups()


def test_the_export_page_follows_the_job_and_offers_the_download(
    role_groups, live_server, browser, unit, responder, case_manager, settings, tmp_path
):
    settings.EXPORTS_ROOT = tmp_path / "exports"
    people = [ResidentFactory(housing_status="unsheltered") for _ in range(2)]
    for i, person in enumerate(people):
        met(unit, responder, [person], at("2026-03-02", 9 + i))
    page = browser.new_context().new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    errors = []
    # A failed load is caught by its response below; the browser's own favicon request aside.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and "favicon" not in r.url
            else None
        ),
    )
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", case_manager.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    code = totp_now(TOTP_SECRET)
    page.fill("input[name=code]", code)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/admin/")  # the desk's home

    page.goto(live_server.url + "/admin/cases/exportjob/add/")
    page.select_option("select[name=kind]", "residents_csv")
    page.fill("input[name=start_date]", "2026-03-01")
    page.fill("input[name=end_date]", "2026-03-31")
    page.select_option("select[name=redaction]", "deidentified")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/change/")
    job = ExportJob.objects.get()
    assert str(job.public_id) in page.url
    assert "Queued" in page.locator("body").inner_text()
    assert page.locator("progress").count() == 1

    export_run(job_id=job.pk)  # as the worker would
    # The page reloads itself and shows the download link; nobody touched it.
    link = page.get_by_role("link", name="Download")
    link.wait_for(timeout=15_000)
    assert "Done" in page.locator("body").inner_text()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "residents.csv"
    with open(download.path(), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith("resident_id,")
    assert len(lines) == 3
    assert page.evaluate("window.__violations") == []
    assert errors == []
