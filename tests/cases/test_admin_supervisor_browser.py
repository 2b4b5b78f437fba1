"""A supervisor's day in headless Chromium, what a case manager does not do: signs in through
the real sign-in page with the TOTP code; approves one addendum from the dashboard's queue and
rejects another with a reason, each time back on the queue with a message and the addendum
gone; reassigns one of the team's overdue follow-ups to a case manager; reads the audit trail
of one resident from the resident's page.

Screenshots at 1024 and 1440 pixels wide go to .local/artifacts/supervisor-*.png."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from acs.roles import Role
from cases.display import addendum_label, follow_up_label
from cases.models import Addendum, EncounterResident, FollowUp
from tests.cases.helpers import submitted_encounter
from tests.cases.test_admin_browser import totp_code
from tests.factories import DEFAULT_PASSWORD, ResidentFactory, TeamFactory, UnitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPAQUE = re.compile(r"\b(Resident|Encounter|Referral|Addendum|follow-up) [0-9a-f]{8}\b")
ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts"
WIDTHS = (1024, 1440)


@pytest.fixture
def supervisor_grants(transactional_db):
    """What the data migrations grant a supervisor, back after another test's flush."""
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name=Role.SUPERVISOR).permissions.add(
        *Permission.objects.filter(
            content_type__app_label="cases",
            codename__in=[
                "view_call",
                "view_encounter",
                "view_addendum",
                "change_addendum",
                "view_resident",
                "change_resident",
                "view_followup",
                "change_followup",
                "view_contactattempt",
                "add_contactattempt",
            ],
        ),
        *Permission.objects.filter(content_type__app_label="acs", codename="view_auditevent"),
        *Permission.objects.filter(content_type__app_label="resources", codename="view_referral"),
    )


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"supervisor-{name}-{width}.png"), full_page=True)


def test_a_supervisors_day_addenda_team_follow_ups_and_the_audit_trail(
    live_server, browser, supervisor_grants
):
    team = TeamFactory(name="Downtown")
    unit = UnitFactory(call_sign="CT-3", team=team)
    sofia = UserFactory(username="sofia", role=Role.SUPERVISOR, team=team)
    dolores = UserFactory(username="dolores", role=Role.CASE_MANAGER, team=team)
    ramon = UserFactory(username="ramon", role=Role.RESPONDER, team=team)
    maria = ResidentFactory(preferred_name="Sunny", legal_name="Maria Lopez")
    encounter = submitted_encounter(unit, ramon)
    EncounterResident.objects.create(encounter=encounter, resident=maria)
    first = Addendum.objects.create(encounter=encounter, author=ramon, text="Called back: fine.")
    second = Addendum.objects.create(
        encounter=submitted_encounter(unit, ramon), author=ramon, text="Wrong person noted."
    )
    now = timezone.now()
    overdue = FollowUp.objects.create(
        resident=maria,
        kind=FollowUp.Kind.PHONE,
        due_at=now - timedelta(hours=5),
        window_ends_at=now + timedelta(days=5),
        assignee=None,
    )

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.set_default_timeout(60_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", "sofia")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(sofia))
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/admin/")

    # The queue of addenda awaiting approval, oldest first.
    queue = page.locator("#queue-addenda_to_approve")
    assert "(2)" in queue.inner_text()
    shoot(page, "dashboard")

    # Open the first, approve it: back on the queue, with a message, and it is gone.
    assert "“Called back: fine.”" in queue.inner_text()  # told apart by their first words
    queue.locator(f"a[href='/admin/cases/addendum/{first.pk}/change/']").click()
    page.wait_for_url(f"**/admin/cases/addendum/{first.pk}/change/")
    assert "Called back: fine." in page.inner_text("#content")
    shoot(page, "addendum")
    page.get_by_role("button", name="Approve this addendum").click()
    page.wait_for_url(f"{live_server.url}/admin/#queue-addenda_to_approve")
    assert "Approved: Addendum by ramon" in page.locator(".messagelist").inner_text()
    assert "Called back" not in queue.inner_text() and addendum_label(second) in queue.inner_text()
    assert "(1)" in queue.inner_text()

    # Open the second, reject it with a reason.
    queue.locator(f"a[href='/admin/cases/addendum/{second.pk}/change/']").click()
    page.wait_for_url(f"**/admin/cases/addendum/{second.pk}/change/")
    page.get_by_role("button", name="Reject with this reason").click()
    assert page.url.endswith(f"/admin/cases/addendum/{second.pk}/change/")  # a reason is asked
    page.get_by_label("Or reject it, saying why").fill("Belongs to another encounter.")
    page.get_by_role("button", name="Reject with this reason").click()
    page.wait_for_url(f"{live_server.url}/admin/#queue-addenda_to_approve")
    assert "Rejected: Addendum by ramon" in page.locator(".messagelist").inner_text()
    assert "No addendum waits for you." in queue.inner_text()
    shoot(page, "dashboard-after")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.approved_by == sofia and second.rejection_reason == "Belongs to another encounter."

    # The team's overdue follow-ups: reassign one to a case manager.
    team_queue = page.locator("#queue-team_follow_ups")
    assert "overdue" in team_queue.inner_text()
    team_queue.get_by_role("link", name=follow_up_label(overdue)).click()
    page.wait_for_url(f"**/admin/cases/followup/{overdue.pk}/change/")
    page.select_option("select[name=assignee]", str(dolores.pk))
    shoot(page, "follow-up")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/cases/followup/**")
    said = page.locator(".messagelist").inner_text()
    assert "Reassigned to dolores" in said, said
    assert not OPAQUE.search(said), said  # the record named by what and when
    overdue.refresh_from_db()
    assert overdue.assignee == dolores

    # The audit trail of one resident, from the resident's page.
    page.goto(f"{live_server.url}/admin/cases/resident/{maria.pk}/change/")
    page.get_by_role("link", name="Audit trail").click()
    page.wait_for_url(f"**/admin/acs/auditevent/?resident={maria.public_id}")
    rows = page.locator("#result_list").inner_text()
    assert "sofia" in rows and "view" in rows.lower()
    shoot(page, "audit")
    assert problems == []
