"""Exports as jobs: failures recorded on the job, reruns harmless, files left by a dead worker,
cleanup, progress, and batches whose query count does not grow with the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.exports import writing
from cases.exports.models import ExportJob, export_storage
from cases.exports.services import (
    export_run,
    exports_cleanup_expired,
)
from tests.cases.export_helpers import ask, built
from tests.cases.hmis_world import at, met
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


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
