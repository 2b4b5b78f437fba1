"""End to end: a case manager asks for an export in the admin, a real Celery worker builds it
(through Redis), the admin page shows it done, and the download is the file."""

import csv
import io
import os

import pytest

from cases.exports.models import ExportJob
from tests.cases.hmis_world import at, met
from tests.factories import ResidentFactory


@pytest.fixture
def role_groups(transactional_db):
    from tests.workers import restore_role_groups

    restore_role_groups()


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_export_asked_for_in_the_admin_is_built_by_a_worker_and_downloaded(
    role_groups, client, unit, responder, case_manager, settings, tmp_path
):
    from tests.workers import start_worker, wait_until, worker_database_url

    folder = tmp_path / "exports"
    settings.EXPORTS_ROOT = folder
    people = [ResidentFactory(housing_status="unsheltered") for _ in range(3)]
    for i, person in enumerate(people):
        met(unit, responder, [person], at("2026-02-01", 8 + i))
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "EXPORTS_ROOT": str(folder)}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        client.force_login(case_manager)
        response = client.post(
            "/admin/cases/exportjob/add/",
            {
                "kind": "residents_csv",
                "start_date": "2026-02-01",
                "end_date": "2026-02-28",
                "redaction": "no_direct_identifiers",
            },
        )
        assert response.status_code == 302
        page = response["Location"]

        def finished():
            job = ExportJob.objects.get()
            return job if job.is_finished else None

        job = wait_until(finished, alive=worker.alive)
        assert job is not None, worker.stop()
    finally:
        output = worker.stop()
    assert "cases.tasks.run_export" in output
    assert job.status == "done", job.error
    assert (job.rows_done, job.rows_total) == (3, 3)

    body = client.get(page).content.decode()
    assert '<meta http-equiv="refresh"' not in body  # done: the page stops refreshing
    download = f"/admin/cases/exportjob/{job.public_id}/download/"
    assert download in body
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["resident_id"] for r in rows} == {str(p.public_id) for p in people}
