"""The desk names people and records as staff speak of them (cases/display.py): residents by
preferred name, legal name and date of birth, referrals by service, partner and resident,
encounters by call, unit and local time, follow-ups by kind, due time and resident. Never by
"Resident a21ff057"-style fragments on a screen; always by them in the stored copies (the
admin's LogEntry.object_repr)."""

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone
from django.utils.html import strip_tags

from acs.record_labels import staff_label
from cases.display import (
    encounter_label,
    follow_up_label,
    referral_label,
    resident_label,
)
from cases.models import Addendum, Encounter, EncounterResident, FollowUp, Resident
from tests.factories import CallFactory, OrganizationFactory, ResidentFactory, UnitFactory
from tests.resources.referral_helpers import referrable_service, referral_in

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
# What the screens used to show: a record's kind and the first 8 hex digits of its public id.
FRAGMENT = re.compile(r"\b(Resident|Encounter|Referral|Addendum|follow-up) [0-9a-f]{8}\b")


def no_fragments(html: str) -> None:
    assert not FRAGMENT.search(html), FRAGMENT.search(html).group(0)


@pytest.fixture
def maria(db):
    return ResidentFactory(
        preferred_name="Sunny", legal_name="Maria Lopez", date_of_birth=date(1984, 3, 2)
    )


@pytest.fixture
def world(case_manager, responder, maria):
    """One of each record about Maria, all on the case manager's dashboard."""
    organization = OrganizationFactory(name="Bernalillo Health")
    service, _ = referrable_service(organization, name="Medicaid enrollment")
    unit = UnitFactory(call_sign="CT-3")
    occurred = datetime(2026, 12, 5, 8, 47, tzinfo=DENVER)
    if timezone.localtime().year != 2026:
        occurred = occurred.replace(year=timezone.localtime().year)
    occurred = min(occurred, timezone.now() - timedelta(hours=1))
    encounter = Encounter.objects.create(
        client_id=uuid.uuid4(),
        unit=unit,
        call=CallFactory(incident_number="26-004512"),
        created_by=responder,
        occurred_at=occurred,
    )
    EncounterResident.objects.create(encounter=encounter, resident=maria)
    follow_up = FollowUp.objects.create(
        resident=maria,
        encounter=encounter,
        kind="phone",
        due_at=timezone.now() - timedelta(hours=2),
        window_ends_at=timezone.now() + timedelta(days=7),
        assignee=case_manager,
    )
    referral = referral_in(
        "sent", service=service, resident=maria, created_by=case_manager, encounter=encounter
    )
    return {"encounter": encounter, "follow_up": follow_up, "referral": referral}


# --- the labels --------------------------------------------------------------------------------


def test_a_resident_is_named_by_preferred_and_legal_name_and_date_of_birth(maria):
    assert resident_label(maria) == "Sunny (Maria Lopez), b. 1984-03-02"
    maria.preferred_name = ""
    assert resident_label(maria) == "Maria Lopez, b. 1984-03-02"
    maria.dob_quality = "approximate"
    assert resident_label(maria) == "Maria Lopez, b. about 1984"


def test_a_resident_nobody_could_name_is_named_by_when_they_were_added():
    nobody = Resident.objects.create()
    added = timezone.localtime(nobody.created_at).date()
    assert resident_label(nobody) == f"Unnamed resident, added {added:%Y-%m-%d}"


def test_records_are_named_by_what_they_are_in_local_time(world):
    encounter = world["encounter"]
    local = timezone.localtime(encounter.occurred_at)
    assert encounter_label(encounter) == (
        f"Call 26-004512, unit CT-3, {local.day} {local:%b %H:%M}"
    )
    assert referral_label(world["referral"]) == ("Medicaid enrollment at Bernalillo Health — Sunny")
    assert follow_up_label(world["follow_up"]).startswith("Phone call due ")
    assert follow_up_label(world["follow_up"]).endswith(" — Sunny")


def test_the_encounter_time_is_albuquerques_not_utc(world):
    encounter = world["encounter"]
    encounter.occurred_at = datetime(2026, 12, 5, 15, 47, tzinfo=ZoneInfo("UTC"))
    label = encounter_label(encounter)
    assert "5 Dec" in label and label.endswith("08:47") and "15:47" not in label


def test_someone_who_may_not_see_every_resident_gets_the_opaque_name(
    maria, case_manager, responder, outsider
):
    assert staff_label(maria, case_manager) == "Sunny (Maria Lopez), b. 1984-03-02"
    for user in (responder, outsider, None):
        assert staff_label(maria, user) == str(maria)
        assert "Lopez" not in staff_label(maria, user)


# --- the admin's screens -----------------------------------------------------------------------


def test_the_dashboard_queues_name_people_and_records(client, case_manager, world):
    client.force_login(case_manager)
    html = client.get("/admin/").content.decode()

    # Read as text: dates and moments are wrapped to keep them on one line.
    queues = strip_tags(html[html.index('id="dashboard"') :])
    assert "Phone call due" in queues
    assert "Sunny (Maria Lopez), b. 1984-03-02" in queues  # the follow-up's and encounter's
    assert "Medicaid enrollment at Bernalillo Health — Sunny" in queues
    assert "Call 26-004512, unit CT-3" in queues
    assert "Answer due" in queues and "Occurred" in queues
    no_fragments(html)


LISTS = {
    "/admin/cases/resident/": ["Sunny (Maria Lopez), b. 1984-03-02", "Added on"],
    "/admin/cases/encounter/": ["Call 26-004512, unit CT-3", "Occurred (local time)"],
    "/admin/cases/followup/": [
        "Phone call due",
        "Sunny (Maria Lopez), b. 1984-03-02",
        "Due (local time)",
    ],
    "/admin/resources/referral/": [
        "Medicaid enrollment at Bernalillo Health — Sunny",
        "Referred on (local time)",
        "Answer due (local time)",
    ],
}


@pytest.mark.parametrize("url", sorted(LISTS))
def test_the_lists_name_their_rows_and_label_their_dates(client, case_manager, world, url):
    client.force_login(case_manager)
    html = client.get(url).content.decode()
    for text in LISTS[url]:
        assert text in strip_tags(html), text
    no_fragments(html)


def test_the_addenda_list_names_the_encounter(client, supervisor, responder, world):
    Addendum.objects.create(encounter=world["encounter"], author=responder, text="Called back")
    client.force_login(supervisor)
    html = client.get("/admin/cases/addendum/").content.decode()
    assert "Addendum by responder to call 26-004512, unit CT-3" in html
    assert "Written (local time)" in html
    no_fragments(html)


def _heading_and_crumb(html: str) -> tuple[str, str, str]:
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    subtitle = re.search(r"<h2>(.*?)</h2>", html, re.S).group(1)
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
    return title, subtitle, crumbs


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("resident", "Sunny (Maria Lopez), b. 1984-03-02"),
        ("encounter", "Call 26-004512, unit CT-3"),
        ("follow_up", "Phone call due"),
        ("referral", "Medicaid enrollment at Bernalillo Health — Sunny"),
    ],
)
def test_a_record_page_names_it_in_heading_and_breadcrumb_not_in_the_title(
    client, case_manager, world, maria, kind, name
):
    urls = {
        "resident": f"/admin/cases/resident/{maria.pk}/change/",
        "encounter": f"/admin/cases/encounter/{world['encounter'].pk}/change/",
        "follow_up": f"/admin/cases/followup/{world['follow_up'].pk}/change/",
        "referral": f"/admin/resources/referral/{world['referral'].pk}/change/",
    }
    client.force_login(case_manager)
    html = client.get(urls[kind]).content.decode()

    title, subtitle, crumbs = _heading_and_crumb(html)
    assert name in subtitle
    assert name in crumbs
    # The document title goes into the browser's history: no name there.
    assert "Maria" not in title and "Sunny" not in title
    no_fragments(html)


def test_a_record_page_names_the_records_it_points_at(client, case_manager, world):
    client.force_login(case_manager)
    html = client.get(f"/admin/resources/referral/{world['referral'].pk}/change/").content.decode()
    assert "Sunny (Maria Lopez), b. 1984-03-02" in html  # the resident field
    assert "Call 26-004512, unit CT-3" in html  # the encounter field
    # Shown, not editable: no select offering every resident or encounter.
    assert 'name="resident"' not in html and 'name="encounter"' not in html
    no_fragments(html)


def test_the_merge_screen_names_both_residents(client, case_manager, maria):
    twin = ResidentFactory(
        preferred_name="", legal_name="Maria Lopez", date_of_birth=maria.date_of_birth
    )
    client.force_login(case_manager)
    html = client.get(f"/admin/cases/resident/merge/{maria.pk}/{twin.pk}/").content.decode()
    assert "Sunny (Maria Lopez), b. 1984-03-02" in html
    assert "Maria Lopez, b. 1984-03-02" in html
    no_fragments(html)


def test_the_admins_stored_copy_of_a_record_stays_opaque(client, case_manager):
    """LogEntry.object_repr is written from __str__: a resident added in the admin is logged
    by opaque id, never by name."""
    from tests.cases.test_admin import _add_form

    client.force_login(case_manager)
    response = client.post(
        "/admin/cases/resident/add/",
        _add_form(preferred_name="Sunny", legal_name="Maria Lopez", confirm_new="on"),
    )
    assert response.status_code == 302

    entry = LogEntry.objects.get()
    assert re.fullmatch(r"Resident [0-9a-f]{8}", entry.object_repr), entry.object_repr
    assert "Sunny" not in entry.change_message and "Lopez" not in entry.change_message
