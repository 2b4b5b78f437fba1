"""With object storage (EXPORTS_STORAGE=s3), the exports admin in headless Chromium: the case
manager signs in through the real forms, opens a finished export and clicks Download; the
browser follows the presigned link to the local S3 server and saves the file under its name,
with no error and no Content-Security-Policy violation. Screenshot in
.local/artifacts/exports-s3-download.png."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from cases.exports.services import export_request, export_run
from tests.cases.hmis_world import END, START, at, met
from tests.cases.test_exports_browser import (  # noqa: F401 (role_groups: a fixture)
    TOTP_SECRET,
    WATCH_VIOLATIONS,
    role_groups,
)
from tests.cases.test_exports_s3 import bucket, s3_endpoint  # noqa: F401
from tests.factories import DEFAULT_PASSWORD, ResidentFactory
from tests.totp import totp_now

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ARTIFACTS = Path(django_settings.BASE_DIR) / ".local" / "artifacts"


def sign_in(page, live_server, user):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", user.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", totp_now(TOTP_SECRET))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(live_server.url + "/admin/")


def test_download_from_the_bucket_through_the_admin(
    role_groups,  # noqa: F811
    live_server,
    browser,
    unit,
    responder,
    case_manager,
    bucket,  # noqa: F811
    s3_endpoint,  # noqa: F811
):
    for i, person in enumerate(ResidentFactory() for _ in range(2)):
        met(unit, responder, [person], at("2026-03-02", 9 + i))
    job = export_request(
        actor=case_manager,
        kind="residents_csv",
        start_date=START,
        end_date=END,
        redaction="deidentified",
    )
    export_run(job_id=job.pk)
    page = browser.new_context(accept_downloads=True).new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    errors, seen = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: seen.append((r.status, r.url)))
    sign_in(page, live_server, case_manager)

    page.goto(f"{live_server.url}/admin/cases/exportjob/{job.public_id}/change/")
    link = page.get_by_role("link", name="Download")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exports-s3-download.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    download = info.value

    assert download.suggested_filename == "residents.csv"
    assert download.url.startswith(f"{s3_endpoint}/acs-exports-test/exports/{job.public_id}/")
    assert "X-Amz-Signature=" in download.url
    with open(download.path(), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith("resident_id,") and len(lines) == 3
    assert [s for s in seen if s[0] >= 400 and "favicon" not in s[1]] == []
    assert [e for e in errors if "favicon" not in e] == []
    assert page.evaluate("window.__violations") == []
