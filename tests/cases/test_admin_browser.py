"""A case manager's morning in headless Chromium: signs in through the real sign-in page with
the TOTP code, lands on the dashboard, opens an overdue follow-up from the queue, logs a
contact attempt, closes it, and sees it gone from the queue.

Screenshots of the dashboard and the residents list, at 1280 and 1024 pixels wide, go to
.local/artifacts/admin-*.png (git-ignored): people and records named as staff speak of them."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from acs.roles import Role
from cases.display import follow_up_label
from cases.models import FollowUp
from tests.factories import DEFAULT_PASSWORD, ResidentFactory, UserFactory
from tests.totp import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(settings.BASE_DIR) / ".local" / "artifacts"


@pytest.fixture
def role_groups(transactional_db):
    """A transactional test may follow another one's flush, which empties the role groups
    the data migrations made (the permissions come back with post_migrate): put back the
    groups, and what a case manager is granted in this story."""
    from django.contrib.auth.models import Group, Permission

    for role in Role:
        Group.objects.get_or_create(name=role.value)
    Group.objects.get(name=Role.CASE_MANAGER).permissions.add(
        *Permission.objects.filter(
            content_type__app_label="cases",
            codename__in=[
                "view_resident",
                "change_resident",
                "view_followup",
                "change_followup",
                "view_contactattempt",
                "add_contactattempt",
            ],
        )
    )


def test_a_case_manager_works_an_overdue_follow_up_from_the_dashboard(
    live_server, browser, role_groups
):
    case_manager = UserFactory(username="dolores", role=Role.CASE_MANAGER)
    now = timezone.now()
    maria = ResidentFactory(
        preferred_name="Sunny", legal_name="Maria Lopez", date_of_birth=date(1984, 3, 2)
    )
    ResidentFactory(preferred_name="", legal_name="Maria Lopez", date_of_birth=date(1991, 7, 9))
    overdue = FollowUp.objects.create(
        resident=maria,
        kind=FollowUp.Kind.PHONE,
        due_at=now - timedelta(hours=3),
        window_ends_at=now + timedelta(days=5),
        assignee=case_manager,
    )
    page = browser.new_page()
    page.set_default_timeout(60_000)  # two shared cores: pages can be slow, not wrong
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 500 else None)

    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", "dolores")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(case_manager))
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/admin/")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    label = follow_up_label(overdue)
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server.url}/admin/")
        page.screenshot(path=str(ARTIFACTS / f"admin-dashboard-{width}.png"), full_page=True)
        page.goto(f"{live_server.url}/admin/cases/resident/")
        rows = page.locator("#result_list").inner_text()
        assert "Sunny (Maria Lopez), b. 1984-03-02" in rows
        assert "Maria Lopez, b. 1991-07-09" in rows
        page.screenshot(path=str(ARTIFACTS / f"admin-residents-{width}.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/")
    queue = page.locator("#queue-my_follow_ups")
    assert label in queue.inner_text()
    assert "Sunny (Maria Lopez), b. 1984-03-02" in queue.inner_text()
    assert "overdue" in queue.inner_text()
    queue.get_by_role("link", name=label).click()
    page.wait_for_url(f"**/admin/cases/followup/{overdue.pk}/change/")

    local = timezone.localtime()
    page.fill("input[name='attempts-0-at_0']", local.strftime("%Y-%m-%d"))
    page.fill("input[name='attempts-0-at_1']", local.strftime("%H:%M:%S"))
    page.select_option("select[name='attempts-0-channel']", "phone")
    page.select_option("select[name='attempts-0-outcome']", "reached")
    page.locator("input[name=_continue]").click()
    page.wait_for_url(f"**/admin/cases/followup/{overdue.pk}/change/")
    overdue.refresh_from_db()
    assert overdue.attempts_made == 1

    page.goto(f"{live_server.url}/admin/cases/followup/")
    page.locator(f"input[name=_selected_action][value='{overdue.pk}']").check()
    page.select_option("select[name=action]", "close_with_outcome")
    page.locator("button[name=index]").click()
    page.select_option("select[name=outcome]", "connected")
    page.locator("input[name=apply]").click()
    assert "1 follow-up(s) closed" in page.locator(".messagelist").inner_text()

    page.goto(f"{live_server.url}/admin/")
    assert label not in page.locator("#queue-my_follow_ups").inner_text()
    assert "Nothing due today." in page.locator("#queue-my_follow_ups").inner_text()
    overdue.refresh_from_db()
    assert (overdue.status, overdue.outcome) == ("closed", "connected")
    assert failed == []


def test_adding_a_resident_who_may_already_be_recorded_warns_first(
    live_server, browser, role_groups
):
    """The admin's Add resident runs the field app's duplicate check: the likely twin is named
    and linked; ticking "Not one of the people listed" creates the record anyway."""
    from django.contrib.auth.models import Group, Permission

    from cases.models import Resident
    from cases.services import resident_create

    case_manager = UserFactory(username="esteban", role=Role.CASE_MANAGER)
    Group.objects.get(name=Role.CASE_MANAGER).permissions.add(
        Permission.objects.get(content_type__app_label="cases", codename="add_resident")
    )
    existing = resident_create(
        actor=case_manager,
        data={"preferred_name": "Sunny", "legal_name": "Sunny Begay"},
        confirm_new=True,
    )
    page = browser.new_page(viewport={"width": 1024, "height": 900})
    page.set_default_timeout(60_000)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )

    page.goto(f"{live_server.url}/accounts/login/?next=/admin/cases/resident/add/")
    page.fill("input[name=login]", "esteban")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(case_manager))
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url("**/admin/cases/resident/add/")

    page.fill("input[name=legal_name]", "Sunny Begay")
    page.locator("input[name=_save]").click()
    warning = page.locator(".errornote, .errorlist.nonfield").first
    warning.wait_for()
    assert "This person may already be recorded" in page.content()
    from cases.display import resident_label

    link = page.get_by_role("link", name=resident_label(existing))
    assert link.get_attribute("href") == f"/admin/cases/resident/{existing.pk}/change/"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-add-resident-duplicate.png"), full_page=True)
    assert Resident.objects.count() == 1

    page.check("input[name=confirm_new]")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/cases/resident/")
    assert Resident.objects.count() == 2
    assert problems == []
