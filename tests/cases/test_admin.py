"""Case managers in the admin: residents found by trigram search, views audited, merges."""

import uuid
from datetime import date

import pytest
from django.utils import timezone

from acs.models import AuditEvent
from cases.services import encounter_create, resident_create
from tests.cases.helpers import dispatched_call, logged_encounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def marisol(case_manager):
    return resident_create(
        actor=case_manager,
        data={
            "preferred_name": "Marisol",
            "legal_name": "Marisol Ortega",
            "date_of_birth": date(1979, 3, 14),
        },
    )


def test_a_case_manager_finds_a_resident_in_the_admin_despite_a_typo(client, case_manager, marisol):
    client.force_login(case_manager)

    # A POST form: the typed name stays out of the URL (tests/cases/test_admin_query_counts.py
    # and the search tests there cover the rest).
    response = client.post("/admin/cases/resident/search/", {"name": "Marisool"}, follow=True)

    assert response.status_code == 200
    assert "Marisool" not in response.redirect_chain[-1][0]
    assert "Marisol (Marisol Ortega), b. 1979-03-14" in response.content.decode()


def test_opening_a_resident_in_the_admin_is_audited_and_shows_the_timeline(
    client, case_manager, marisol
):
    client.force_login(case_manager)

    response = client.get(f"/admin/cases/resident/{marisol.pk}/change/")

    assert response.status_code == 200
    assert "Record created" in response.content.decode()
    assert AuditEvent.objects.filter(
        actor=case_manager, action="view", target_id=marisol.public_id
    ).exists()


def test_the_resident_timeline_prints_local_time_like_every_other_screen(
    client, case_manager, marisol
):
    """It printed UTC (15:47) where every other screen prints Albuquerque time (08:47)."""
    from datetime import UTC, datetime

    from cases.models import Resident

    Resident.objects.filter(pk=marisol.pk).update(
        created_at=datetime(2026, 6, 2, 15, 47, tzinfo=UTC)
    )
    client.force_login(case_manager)

    page = client.get(f"/admin/cases/resident/{marisol.pk}/change/").content.decode()

    from cases.display import when

    moment = datetime(2026, 6, 2, 15, 47, tzinfo=UTC)
    assert when(moment).endswith("09:47")  # MDT
    assert f'>{when(moment)}</time> <a href="#resident_form">Record created' in page
    # The same moment printed in UTC (a bare "15:47" could be any other time on the page, the
    # clock's own when the test runs at 15:47).
    assert "2 Jun 15:47" not in page


def test_merging_from_the_admin(client, case_manager, marisol):
    twin = resident_create(actor=case_manager, data={"preferred_name": "Mari"}, confirm_new=True)
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/resident/",
        {"action": "merge_into_first_selected", "_selected_action": [marisol.pk, twin.pk]},
    )

    assert response.status_code == 302
    twin.refresh_from_db()
    assert twin.merged_into == marisol


def test_a_responder_cannot_use_the_admin(client, responder, marisol):
    client.force_login(responder)

    response = client.get("/admin/cases/resident/")

    assert response.status_code == 302


def test_the_call_admin_shows_its_timeline(client, supervisor, unit):
    call = dispatched_call(unit)
    client.force_login(supervisor)

    response = client.get(f"/admin/cases/call/{call.pk}/change/")

    assert response.status_code == 200
    assert "on_scene" in response.content.decode()


def test_the_encounter_page_labels_substance_use_as_part_2(client, case_manager, responder, unit):
    encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=None,
        data={"occurred_at": timezone.now(), "needs": ["shelter", "substance_use"]},
        resident_ids=[],
    )
    client.force_login(case_manager)

    page = client.get(f"/admin/cases/encounter/{encounter.pk}/change/").content.decode()

    assert "Shelter, Substance use (42 CFR Part 2)" in page


def test_the_encounter_page_labels_a_narrative_the_responder_flagged_as_part_2(
    client, case_manager, responder, unit
):
    def logged(narrative, flagged):
        encounter = logged_encounter(
            responder, unit, narrative=narrative, narrative_part2=flagged, disposition=""
        )
        return client.get(f"/admin/cases/encounter/{encounter.pk}/change/").content.decode()

    client.force_login(case_manager)

    flagged = logged("Asked about the methadone clinic.\nWarm.", True)
    plain = logged("Cold night; took water.", False)

    assert "42 CFR Part 2: substance-use information." in flagged
    assert "Asked about the methadone clinic.<br>Warm." in flagged
    assert "Cold night; took water." in plain
    assert "42 CFR Part 2" not in plain


def test_the_encounter_page_is_audited_and_the_resident_filter_finds_it(
    client, case_manager, supervisor, responder, unit
):
    marisol = resident_create(actor=responder, data={"preferred_name": "Marisol"})
    encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=None,
        data={"occurred_at": timezone.now()},
        resident_ids=[marisol.public_id],
    )
    client.force_login(case_manager)

    assert client.get(f"/admin/cases/encounter/{encounter.pk}/change/").status_code == 200

    event = AuditEvent.objects.filter(action="view", actor=case_manager).get()
    assert (event.target_type, event.target_id) == ("cases.resident", marisol.public_id)
    assert event.detail == {"encounter": str(encounter.public_id)} and event.reason == "admin"
    client.force_login(supervisor)
    trail = client.get(f"/admin/acs/auditevent/?resident={marisol.public_id}")
    assert str(encounter.public_id) in trail.content.decode()


def test_follow_up_and_referral_pages_are_audited_on_the_resident(
    client, case_manager, responder, agency_a
):
    from datetime import timedelta

    from cases.models import FollowUp
    from tests.factories import ResidentFactory
    from tests.resources.referral_helpers import referrable_service, referral_in

    resident = ResidentFactory()
    follow_up = FollowUp.objects.create(
        resident=resident,
        kind=FollowUp.Kind.PHONE,
        due_at=timezone.now(),
        window_ends_at=timezone.now() + timedelta(days=7),
    )
    referral = referral_in(
        "sent",
        service=referrable_service(agency_a)[0],
        resident=resident,
        created_by=responder,
    )
    client.force_login(case_manager)

    assert client.get(f"/admin/cases/followup/{follow_up.pk}/change/").status_code == 200
    assert client.get(f"/admin/resources/referral/{referral.pk}/change/").status_code == 200
    client.force_login(responder)
    assert client.get(f"/api/v1/field/referrals/{referral.public_id}").status_code == 200

    views = AuditEvent.objects.filter(action="view", target_id=resident.public_id).order_by("id")
    assert [(e.actor, e.reason, e.detail) for e in views] == [
        (case_manager, "admin", {"follow_up": str(follow_up.public_id)}),
        (case_manager, "admin", {"referral": str(referral.public_id)}),
        (responder, "field_api", {"referral": str(referral.public_id)}),
    ]


def test_desk_staff_add_an_addendum_from_the_encounter_page(client, case_manager, responder, unit):
    from cases.models import Addendum

    submitted = logged_encounter(responder, unit, submit=True)
    draft = logged_encounter(responder, unit)
    client.force_login(case_manager)
    page = client.get(f"/admin/cases/encounter/{submitted.pk}/change/").content.decode()
    assert f"/admin/cases/encounter/{submitted.pk}/addendum/" in page
    draft_page = client.get(f"/admin/cases/encounter/{draft.pk}/change/").content.decode()
    assert f"/admin/cases/encounter/{draft.pk}/addendum/" not in draft_page

    response = client.post(
        f"/admin/cases/encounter/{submitted.pk}/addendum/", {"text": "Resident called the desk."}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/cases/encounter/{submitted.pk}/change/"
    addendum = Addendum.objects.get()
    assert (addendum.author, addendum.text, addendum.approved_at) == (
        case_manager,
        "Resident called the desk.",
        None,
    )
    refused = client.post(f"/admin/cases/encounter/{draft.pk}/addendum/", {"text": "x"})
    assert refused.status_code == 200
    assert "Edit the draft instead of adding an addendum." in refused.content.decode()
    assert Addendum.objects.count() == 1


def _add_form(**values):
    from cases.models import Resident

    defaults = {
        name: Resident._meta.get_field(name).default
        for name in ("dob_quality", "preferred_language", "housing_status")
    }
    base = {
        **defaults,
        "preferred_name": "",
        "legal_name": "",
        "aliases": "[]",
        "race_ethnicity": "[]",
        "phone": "",
        "_save": "Save",
    }
    return {**base, **values}


def test_adding_a_likely_duplicate_in_the_admin_warns_and_links_the_record(
    client, case_manager, marisol
):
    """The admin's Add resident took a second record with the same legal name and date of birth
    without a word; it now runs the field app's duplicate check."""
    from cases.models import Resident

    client.force_login(case_manager)
    page = client.get("/admin/cases/resident/add/").content.decode()
    assert "Not one of the people listed" in page

    twin = _add_form(legal_name="Marisol Ortega", date_of_birth="1979-03-14")
    response = client.post("/admin/cases/resident/add/", twin)

    assert response.status_code == 200  # the form again, with the warning
    html = response.content.decode()
    assert "This person may already be recorded" in html
    assert f"/admin/cases/resident/{marisol.pk}/change/" in html
    assert "Marisol (Marisol Ortega), b. 1979-03-14" in html
    assert Resident.objects.count() == 1
    assert AuditEvent.objects.filter(
        actor=case_manager, action="search", target_id=marisol.public_id
    ).exists()

    response = client.post("/admin/cases/resident/add/", {**twin, "confirm_new": "on"})
    assert response.status_code == 302
    assert Resident.objects.count() == 2


def test_adding_someone_new_in_the_admin_is_not_held_up(client, case_manager, marisol):
    from cases.models import Resident

    client.force_login(case_manager)
    response = client.post(
        "/admin/cases/resident/add/",
        _add_form(legal_name="Theodore Blackwood", date_of_birth="1990-01-01"),
    )
    assert response.status_code == 302
    assert Resident.objects.count() == 2
    # The change page has no such box.
    page = client.get(f"/admin/cases/resident/{marisol.pk}/change/").content.decode()
    assert "Not one of the people listed" not in page
