"""Exports: who may ask and download, what each redaction level drops, Part 2 kept out, and
audit events. The job itself is in test_exports_jobs.py, the admin pages in
test_exports_admin.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from acs.errors import DomainError, Forbidden
from acs.models import AuditEvent
from cases.exports.models import ExportJob, export_storage
from cases.exports.services import (
    export_download_open,
    exports_cleanup_expired,
)
from tests.cases.export_helpers import ask, built
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- who may export --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "admin_user"])
def test_case_managers_supervisors_and_admins_may_export(request, persona, exports_dir):
    job = ask(request.getfixturevalue(persona))

    assert job.status == "queued"


@pytest.mark.parametrize("persona", ["responder", "partner_a", "cad_client", "outsider"])
def test_responders_partners_and_others_may_not_export(request, persona, exports_dir):
    with pytest.raises(Forbidden):
        ask(request.getfixturevalue(persona))
    assert not ExportJob.objects.exists()


def test_a_range_must_be_in_order_and_not_in_the_future(case_manager, exports_dir):
    with pytest.raises(DomainError) as backwards:
        ask(case_manager, start_date=date(2026, 3, 1), end_date=date(2026, 2, 1))
    assert "end_date" in backwards.value.fields
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(DomainError) as future:
        ask(case_manager, start_date=tomorrow, end_date=tomorrow)
    assert "start_date" in future.value.fields


def test_the_hmis_export_is_full_only(case_manager, exports_dir):
    with pytest.raises(DomainError) as refused:
        ask(case_manager, kind="hmis_csv", redaction="deidentified")
    assert "redaction" in refused.value.fields


def test_a_case_manager_may_not_export_part_2_data(case_manager, exports_dir):
    with pytest.raises(Forbidden):
        ask(case_manager, kind="encounters_csv", redaction="full", include_part2=True)


def test_part_2_data_needs_a_full_export(supervisor, exports_dir):
    with pytest.raises(DomainError) as refused:
        ask(supervisor, kind="encounters_csv", redaction="deidentified", include_part2=True)
    assert "include_part2" in refused.value.fields


# --- redaction ---------------------------------------------------------------------------------


def test_a_full_residents_export_has_names_and_says_who_was_merged(case, case_manager, exports_dir):
    _, rows = built(case_manager, redaction="full")

    by_id = {r["resident_id"]: r for r in rows}
    ana, tiny = by_id[str(case["ana"].public_id)], by_id[str(case["tiny"].public_id)]
    assert ana["legal_name"] == "Ana Maria Lopez"
    # Text that begins with "+" carries an apostrophe, so no spreadsheet runs it (or turns
    # the number into 15055550111).
    assert ana["phone"] == "'+15055550111"
    assert ana["date_of_birth"] == "1980-05-02"
    assert ana["encounters_in_range"] == "2"  # not the one before the range, not the draft
    assert (ana["first_encounter"], ana["last_encounter"]) == ("2026-01-10", "2026-03-01")
    # One row per person: the twin is counted in Tiny's row, not listed as someone else.
    assert len(rows) == 2
    assert tiny["merged_records"] == "1"
    assert tiny["encounters_in_range"] == "3"


def test_no_direct_identifiers_drops_names_birth_dates_and_contact_details(
    case, case_manager, exports_dir
):
    _, rows = built(case_manager, redaction="no_direct_identifiers")

    header = set(rows[0])
    for dropped in ("preferred_name", "legal_name", "aliases", "date_of_birth", "phone", "email"):
        assert dropped not in header
    assert {"where_to_find_me", "safety_flags"}.isdisjoint(header)
    text = str(rows)
    assert "Ana" not in text and "Lopez" not in text and "1980-05-02" not in text
    # The public id stays, so a case manager can find the record again.
    assert {r["resident_id"] for r in rows} == {
        str(case["ana"].public_id),
        str(case["tiny"].public_id),
    }
    assert {r["age_band"] for r in rows} == {"45-54", "unknown"}


def test_deidentified_uses_pseudonyms_months_and_age_bands(case, case_manager, exports_dir):
    _, rows = built(case_manager, redaction="deidentified")

    ids = {r["resident_id"] for r in rows}
    assert str(case["ana"].public_id) not in ids
    assert all(i.startswith("p-") for i in ids)
    assert {r["first_encounter"] for r in rows} == {"2026-01", "2026-02"}
    assert {r["age_band"] for r in rows} == {"45-54", "unknown"}


def test_deidentified_encounters_link_people_by_the_same_pseudonym(case, case_manager, exports_dir):
    _, residents = built(case_manager, redaction="deidentified")
    _, encounters = built(case_manager, kind="encounters_csv", redaction="deidentified")

    # Each run has its own key: pseudonyms link rows within a file, not across exports.
    assert not {r["resident_id"] for r in residents} & {e["resident_ids"] for e in encounters}
    shared = [e["resident_ids"].split(";") for e in encounters if ";" in e["resident_ids"]]
    assert len(shared) == 1 and len(set(shared[0])) == 2
    assert {e["occurred_at"] for e in encounters} == {"2026-01", "2026-02", "2026-03", "2026-06"}
    assert "incident_number" not in encounters[0] and "unit" not in encounters[0]


def test_substance_use_is_left_out_of_a_case_managers_full_export(case, case_manager, exports_dir):
    _, rows = built(case_manager, kind="encounters_csv", redaction="full")

    first = next(r for r in rows if r["encounter_id"] == str(case["e1"].public_id))
    assert first["needs"] == "shelter"
    assert first["services_on_scene"] == "water;resource_info"
    assert "narrative" not in first
    assert "drinks" not in str(rows)


def test_a_supervisor_may_include_part_2_data_in_a_full_export(case, supervisor, exports_dir):
    job, rows = built(supervisor, kind="encounters_csv", redaction="full", include_part2=True)

    first = next(r for r in rows if r["encounter_id"] == str(case["e1"].public_id))
    assert first["needs"] == "shelter;substance_use"
    assert "naloxone" in first["services_on_scene"]
    assert "drinks" in first["narrative"]
    assert job.include_part2


def test_encounters_say_when_a_person_was_met_as_a_since_merged_record(
    case, case_manager, exports_dir
):
    _, rows = built(case_manager, kind="encounters_csv", redaction="no_direct_identifiers")

    second = next(r for r in rows if r["encounter_id"] == str(case["e2"].public_id))
    assert second["resident_ids"] == str(case["tiny"].public_id)
    assert second["people_from_merged_records"] == "1"
    assert len(rows) == 4  # e1..e4: not the one before the range, not the draft


# --- audit -------------------------------------------------------------------------------------


def test_asking_and_downloading_are_audited_without_personal_data(case, case_manager, exports_dir):
    job, _ = built(case_manager, redaction="full")
    handle, name = export_download_open(actor=case_manager, public_id=job.public_id)
    handle.close()

    events = list(AuditEvent.objects.filter(target_id=job.public_id).order_by("id"))
    assert [(e.action, e.detail["event"], e.actor) for e in events] == [
        ("export", "requested", case_manager),
        ("export", "downloaded", case_manager),
    ]
    assert events[0].detail == {
        "event": "requested",
        "kind": "residents_csv",
        "start_date": "2026-01-01",
        "end_date": "2026-06-30",
        "redaction": "full",
        "include_part2": False,
    }
    assert "Ana" not in str([e.detail for e in events])
    assert name == "residents.csv"


# --- download rights -------------------------------------------------------------------------


def test_another_case_manager_cannot_download_but_a_supervisor_can(
    case, case_manager, supervisor, exports_dir
):
    from acs.errors import NotFound
    from acs.roles import Role

    job, _ = built(case_manager)
    colleague = UserFactory(username="colleague", role=Role.CASE_MANAGER)

    with pytest.raises(NotFound):
        export_download_open(actor=colleague, public_id=job.public_id)
    handle, _ = export_download_open(actor=supervisor, public_id=job.public_id)
    assert handle.read().startswith(b"resident_id,")
    handle.close()


def test_an_expired_export_cannot_be_downloaded_and_its_file_is_cleaned_up(
    case, case_manager, exports_dir
):
    from acs.errors import Conflict

    job, _ = built(case_manager)
    later = job.expires_at + timedelta(minutes=1)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(Conflict):
        export_download_open(actor=case_manager, public_id=job.public_id)
    assert exports_cleanup_expired(now=later) == 1
    assert not export_storage().exists(job.file.name)
    job.refresh_from_db()
    assert job.file_deleted_at is not None  # the row stays: who exported what, and when
    assert exports_cleanup_expired(now=later) == 0


def test_the_desk_lists_an_expired_export_as_expired(case, case_manager, exports_dir):
    """The admin's File column reads ExportJob.has_expired, as the download does."""
    from django.contrib import admin

    job, _ = built(case_manager)
    model_admin = admin.site._registry[ExportJob]

    assert "Download" in model_admin.download_link(job)
    job.expires_at = timezone.now() - timedelta(minutes=1)
    assert model_admin.download_link(job) == "Expired"
