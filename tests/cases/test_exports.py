"""Exports as jobs: who may ask and download, what each redaction level drops, Part 2 kept
out, audit events, failures recorded on the job, reruns harmless, progress, batches whose
query count does not grow with the rows, and the admin pages."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.errors import DomainError, Forbidden
from acs.models import AuditEvent
from cases.exports import writing
from cases.exports.models import ExportJob, export_storage
from cases.exports.services import (
    export_download_open,
    export_request,
    export_run,
    exports_cleanup_expired,
)
from tests.cases import test_hmis
from tests.cases.test_hmis import END, START, at, met
from tests.factories import ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

# The hand-built case of the HMIS tests (two people, one merged twin, Part 2 data) and a
# private export folder.
case = test_hmis.case
exports_dir = test_hmis.exports_dir


def ask(actor, kind="residents_csv", redaction="no_direct_identifiers", **kwargs) -> ExportJob:
    return export_request(
        actor=actor,
        kind=kind,
        start_date=kwargs.pop("start_date", START),
        end_date=kwargs.pop("end_date", END),
        redaction=redaction,
        **kwargs,
    )


def built(actor, **kwargs) -> tuple[ExportJob, list[dict]]:
    job = export_run(job_id=ask(actor, **kwargs).pk)
    assert job.status == "done", job.error
    with export_storage().open(job.file.name, "rb") as handle:
        text = handle.read().decode("utf-8")
    return job, list(csv.DictReader(io.StringIO(text)))


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


# --- the job ------------------------------------------------------------------------------------


def test_a_failure_is_recorded_on_the_job(case, case_manager, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export folder should be")
    settings.EXPORTS_ROOT = blocker

    job = export_run(job_id=ask(case_manager).pk)

    job.refresh_from_db()
    assert job.status == "failed"
    assert "Could not write the file" in job.error
    assert job.finished_at is not None
    assert not job.file


def test_running_the_job_twice_does_no_harm(case, case_manager, exports_dir):
    job = ask(case_manager)
    first = export_run(job_id=job.pk)

    assert export_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.file.name, job.finished_at) == (
        "done",
        first.file.name,
        first.finished_at,
    )
    assert len(list(exports_dir.rglob("*.csv"))) == 1


def files_of(job) -> list[str]:
    _, names = export_storage().listdir(str(job.public_id))
    return sorted(names)


def test_a_file_left_by_a_worker_that_died_is_not_kept_beside_the_new_one(
    case, case_manager, exports_dir
):
    from django.core.files.base import ContentFile

    job = ask(case_manager)
    # A worker stored the file, then died before recording it; its lease has lapsed.
    export_storage().save(f"{job.public_id}/residents.csv", ContentFile(b"Maria,1980"))
    ExportJob.objects.filter(pk=job.pk).update(
        status="running", started_at=timezone.now() - timedelta(hours=1)
    )

    job = export_run(job_id=job.pk)

    assert job.status == "done"
    assert files_of(job) == [job.file.name.split("/")[-1]]
    with export_storage().open(job.file.name, "rb") as handle:
        assert handle.read().startswith(b"resident_id,")


def test_a_write_that_fails_half_way_leaves_no_partial_file(
    case, case_manager, exports_dir, monkeypatch
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage

    real_save = FileSystemStorage._save

    def disk_full(self, name, content):
        real_save(self, name, ContentFile(b"resident_id,Maria"))  # part of it was written
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)

    job = export_run(job_id=ask(case_manager).pk)

    assert job.status == "failed" and "No space left" in job.error
    assert files_of(job) == []


def test_the_cleanup_removes_everything_an_expired_export_left(case, case_manager, exports_dir):
    from django.core.files.base import ContentFile

    job, _ = built(case_manager)
    export_storage().save(f"{job.public_id}/stray.csv", ContentFile(b"Maria,1980"))

    assert exports_cleanup_expired(now=job.expires_at + timedelta(minutes=1)) == 1

    assert files_of(job) == []


def test_a_job_held_by_a_live_worker_is_not_taken_again(case, case_manager, exports_dir):
    job = ask(case_manager)
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=timezone.now())

    assert export_run(job_id=job.pk) is None
    ExportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert export_run(job_id=job.pk).status == "done"  # its worker died: taken up again


def test_progress_is_reported_after_every_batch(case, case_manager, exports_dir, monkeypatch):
    monkeypatch.setattr(writing, "BATCH", 1)
    job = ask(case_manager, kind="encounters_csv")

    with CaptureQueriesContext(connection) as queries:
        job = export_run(job_id=job.pk)

    progress = [q["sql"] for q in queries if '"rows_done"' in q["sql"] and "UPDATE" in q["sql"]]
    # The claim resets it, each of the 4 batches of one encounter moves it, and the end.
    assert len(progress) == 1 + 4 + 1
    assert (job.rows_done, job.rows_total, job.percent) == (4, 4, 100)


@pytest.mark.parametrize("kind", ["residents_csv", "encounters_csv", "hmis_csv"])
def test_the_export_loop_makes_the_same_queries_for_3_or_30_people(
    kind, unit, responder, case_manager, exports_dir
):
    def people(n):
        crowd = [ResidentFactory(housing_status="unsheltered") for _ in range(n)]
        for i, person in enumerate(crowd):
            met(unit, responder, [person], at("2026-02-01") + timedelta(hours=i))
        return crowd

    def queries_for_run():
        job = ask(case_manager, kind=kind, redaction="full")
        with CaptureQueriesContext(connection) as queries:
            job = export_run(job_id=job.pk)
        assert job.status == "done", job.error
        return job.rows_done, len(queries)

    people(3)
    rows, few = queries_for_run()
    assert rows == 3
    people(27)
    rows, many = queries_for_run()
    assert rows == 30

    assert many == few


# --- the admin ----------------------------------------------------------------------------------


def test_a_case_manager_asks_for_an_export_in_the_admin(client, case_manager, exports_dir):
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/exportjob/add/",
        {
            "kind": "encounters_csv",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "redaction": "deidentified",
        },
    )

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/cases/exportjob/{job.public_id}/change/"
    assert (job.requested_by, job.kind, job.redaction) == (
        case_manager,
        "encounters_csv",
        "deidentified",
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    # While it runs, the page refreshes itself (no inline script) and shows the progress.
    assert '<meta http-equiv="refresh"' in body
    assert "<progress" in body
    assert "<script>" not in body.replace('<script src="', "")


def test_the_admin_form_shows_the_services_refusals(client, case_manager, exports_dir):
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/exportjob/add/",
        {
            "kind": "hmis_csv",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "redaction": "deidentified",
        },
    )

    assert response.status_code == 200
    assert "always identified" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_case_managers_see_their_own_exports_and_supervisors_everyones(
    client, case_manager, supervisor, exports_dir
):
    from acs.roles import Role

    mine = ask(case_manager)
    theirs = ask(UserFactory(username="colleague", role=Role.CASE_MANAGER))

    client.force_login(case_manager)
    listing = client.get("/admin/cases/exportjob/").content.decode()
    assert str(mine.public_id) in listing and str(theirs.public_id) not in listing
    assert client.get(f"/admin/cases/exportjob/{theirs.public_id}/change/").status_code == 302

    client.force_login(supervisor)
    listing = client.get("/admin/cases/exportjob/").content.decode()
    assert str(mine.public_id) in listing and str(theirs.public_id) in listing


def test_downloading_from_the_admin_is_an_attachment_for_the_requester_only(
    client, case, case_manager, supervisor, exports_dir
):
    from acs.roles import Role

    job, _ = built(case_manager)
    url = f"/admin/cases/exportjob/{job.public_id}/download/"

    client.force_login(UserFactory(username="colleague", role=Role.CASE_MANAGER))
    assert client.get(url).status_code == 404
    client.force_login(supervisor)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="residents.csv"'
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"resident_id,")
    assert AuditEvent.objects.filter(
        actor=supervisor, target_id=job.public_id, detail__event="downloaded"
    ).exists()


def test_a_responder_never_reaches_the_exports_admin(client, responder, exports_dir):
    client.force_login(responder)

    assert client.get("/admin/cases/exportjob/").status_code == 302


def test_the_exports_list_makes_the_same_queries_for_2_or_8_exports(
    client, supervisor, case_manager, exports_dir
):
    client.force_login(supervisor)
    client.get("/admin/cases/exportjob/")  # the first request of a session checks MFA
    for _ in range(2):
        ask(case_manager)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/cases/exportjob/").status_code == 200
    for _ in range(6):
        ask(case_manager)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/admin/cases/exportjob/").status_code == 200

    assert len(many) == len(few)


def test_free_text_that_may_hold_substance_use_needs_the_part_2_permission(
    case, case_manager, supervisor, exports_dir
):
    type(case["ana"]).objects.filter(pk=case["ana"].pk).update(safety_flags="Uses; go slowly")
    type(case["e1"]).objects.filter(pk=case["e1"].pk).update(transport_destination="Detox")

    _, residents = built(case_manager, redaction="full")
    _, encounters = built(case_manager, kind="encounters_csv", redaction="full")
    assert "safety_flags" not in residents[0]
    assert "transport_destination" not in encounters[0]
    assert "Detox" not in str(encounters) and "go slowly" not in str(residents)

    _, residents = built(supervisor, redaction="full", include_part2=True)
    _, encounters = built(supervisor, kind="encounters_csv", redaction="full", include_part2=True)
    assert "Uses; go slowly" in {r["safety_flags"] for r in residents}
    assert "Detox" in {e["transport_destination"] for e in encounters}


def test_a_part_2_export_says_which_narratives_the_responder_flagged(
    case, case_manager, supervisor, exports_dir
):
    type(case["e1"]).objects.filter(pk=case["e1"].pk).update(
        narrative="Wants the detox list", narrative_part2=True
    )

    _, plain = built(case_manager, kind="encounters_csv", redaction="full")
    _, part2 = built(supervisor, kind="encounters_csv", redaction="full", include_part2=True)

    # Without the Part 2 permission no narrative leaves, flagged or not, nor the flag.
    assert "narrative" not in plain[0] and "narrative_part2" not in plain[0]
    flags = {row["narrative"]: row["narrative_part2"] for row in part2}
    assert flags["Wants the detox list"] == "1"
    assert set(flags.values()) == {"0", "1"}


def test_the_request_form_offers_a_range_that_holds_the_newest_records(client, case_manager):
    """The form's dates defaulted to last month alone: empty in a fresh demo and early on."""
    from django.utils import timezone

    client.force_login(case_manager)
    form = client.get("/admin/cases/exportjob/add/").context["adminform"].form
    today = timezone.localdate()
    assert form.initial["end_date"] == today
    assert form.initial["start_date"] <= today.replace(day=1)
