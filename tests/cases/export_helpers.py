"""Asking for an export and reading back what it built, for the export tests
(tests/cases/test_exports*.py and the others that read an export)."""

from __future__ import annotations

import csv
import io

from cases.exports.models import ExportJob, export_storage
from cases.exports.services import (
    export_request,
    export_run,
)
from tests.cases.hmis_world import END, START


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
