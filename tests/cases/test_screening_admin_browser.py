"""An administrator manages a form in the admin, in headless Chromium: signs in through the real
sign-in page with the TOTP code, imports a FHIR Questionnaire as a new draft, publishes it from
the versions list, and downloads it back as FHIR JSON. Screenshots in
.local/artifacts/screening/admin-*.png."""

import json
from pathlib import Path

import pytest
from django.conf import settings

from acs.roles import Role
from cases.models import FormDefinition, FormVersion
from tests.cases.test_admin_browser import totp_code
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.journeys.harness import replay_migration_data
from tests.workers import restore_role_groups

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / ".local" / "artifacts" / "screening"
QUESTIONNAIRE = {
    "resourceType": "Questionnaire",
    "url": "urn:acs:form:welfare-check",
    "status": "active",
    "title": "Welfare check",
    "item": [
        {"linkId": "safe", "text": "Does the person feel safe where they are?", "type": "boolean"},
        {
            "linkId": "why",
            "text": "What would help?",
            "type": "string",
            "enableWhen": [{"question": "safe", "operator": "=", "answerBoolean": False}],
        },
    ],
}


def test_an_administrator_imports_publishes_and_exports_a_form(live_server, browser, tmp_path):
    restore_role_groups()
    # The shipped forms, back after another test's flush.
    replay_migration_data([("cases.migrations.0037_shipped_forms", "load")])
    admin = UserFactory(username="ana", role=Role.ADMIN)
    upload = tmp_path / "welfare-check.json"
    upload.write_text(json.dumps(QUESTIONNAIRE))
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.set_default_timeout(60_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", "ana")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(admin))
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/admin/")

    # The form definitions, the shipped ones in use; import a new one as a draft.
    page.goto(f"{live_server.url}/admin/cases/formdefinition/")
    assert "Columbia" in page.inner_text("#result_list") or "C-SSRS" in page.inner_text(
        "#result_list"
    )
    page.get_by_role("link", name="Import a FHIR Questionnaire").click()
    page.set_input_files("input[name=questionnaire]", str(upload))
    page.screenshot(path=str(SHOTS / "admin-import.png"), full_page=True)
    page.get_by_role("button", name="Import as a draft").click()
    page.wait_for_url("**/admin/cases/formversion/*/change/")
    assert "Imported as a draft" in page.locator(".messagelist").inner_text()
    version = FormVersion.objects.get(definition__key="welfare-check")
    assert version.status == FormVersion.Status.DRAFT

    # Publish it from the versions list (the admin action).
    page.goto(
        f"{live_server.url}/admin/cases/formversion/?definition__id__exact={version.definition_id}"
    )
    page.locator(f"input[name=_selected_action][value='{version.pk}']").check()
    page.select_option("select[name=action]", "publish")
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    page.screenshot(path=str(SHOTS / "admin-published.png"), full_page=True)
    version.refresh_from_db()
    assert version.status == FormVersion.Status.PUBLISHED
    assert "published" in page.locator(".messagelist").inner_text().lower()

    # Download it back as a FHIR Questionnaire.
    page.goto(f"{live_server.url}/admin/cases/formversion/{version.pk}/change/")
    with page.expect_download() as download:
        page.get_by_role("link", name="FHIR").first.click()
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["resourceType"] == "Questionnaire"
    assert [i["linkId"] for i in exported["item"]] == ["safe", "why"]
    assert FormDefinition.objects.filter(key="welfare-check").exists()
    assert not problems, problems
