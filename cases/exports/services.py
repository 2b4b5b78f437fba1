"""Writes of exports: ask for one, build it (in the worker), open it for download, and remove
expired files. Rules in docs/exports.md."""

from __future__ import annotations

import logging
import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from acs.audit import audit_record
from acs.errors import Conflict, DomainError, Forbidden
from acs.models import AuditAction
from cases.exports import hmis, tables
from cases.exports.models import ExportJob, ExportKind, ExportStatus, Redaction, export_storage
from cases.exports.selectors import export_get_for_user, may_export, sees_all_exports
from cases.exports.writing import ExportContext
from cases.screening.exports import billing_count, billing_write

logger = logging.getLogger(__name__)

# The longest range one export may cover.
MAX_RANGE_DAYS = 3 * 366
# A running job whose worker vanished (killed, redelivered) may be taken up again after this;
# longer than the task's hard time limit, so two workers never build the same job.
LEASE = timedelta(minutes=35)
CLEANUP_BATCH = 200

BUILDERS = {
    ExportKind.RESIDENTS_CSV: (tables.residents_count, tables.residents_write),
    ExportKind.ENCOUNTERS_CSV: (tables.encounters_count, tables.encounters_write),
    ExportKind.HMIS_CSV: (hmis.hmis_count, hmis.hmis_write),
    ExportKind.BILLING_CSV: (billing_count, billing_write),
}


def export_parameters_check(
    *, actor, kind: str, start_date: date, end_date: date, redaction: str, include_part2: bool
) -> None:
    """The rules on what may be asked for, raising DomainError (fields named) when broken.

    - a known kind and redaction level; a range in order, not in the future, at most
      MAX_RANGE_DAYS long;
    - the HMIS export is identified by design (the CoC de-duplicates on names and dates of
      birth): full redaction only, and never Part 2 data;
    - Part 2 (substance-use) values and narratives only in a full export, and only for
      supervisors and administrators.
    """
    fields: dict[str, list[str]] = {}
    if kind not in ExportKind.values:
        fields["kind"] = ["Unknown export."]
    if redaction not in Redaction.values:
        fields["redaction"] = ["Unknown redaction level."]
    if start_date > end_date:
        fields["end_date"] = ["The range ends before it starts."]
    elif (end_date - start_date).days >= MAX_RANGE_DAYS:
        fields["end_date"] = [f"At most {MAX_RANGE_DAYS} days per export."]
    if start_date > timezone.localdate():
        fields["start_date"] = ["The range starts in the future."]
    if kind == ExportKind.HMIS_CSV and redaction != Redaction.FULL:
        fields["redaction"] = ["The HMIS export is always identified (full)."]
    if include_part2:
        if kind == ExportKind.HMIS_CSV:
            fields["include_part2"] = ["Substance-use information never goes to HMIS."]
        elif redaction != Redaction.FULL:
            fields["include_part2"] = ["Only a full export may hold substance-use information."]
    if fields:
        raise DomainError("The export cannot be made as asked.", code="invalid", fields=fields)
    if include_part2 and not sees_all_exports(actor):
        raise Forbidden(
            "Only supervisors and administrators may export substance-use information.",
            code="part2_not_allowed",
        )


def export_request(
    *,
    actor,
    kind: str,
    start_date: date,
    end_date: date,
    redaction: str = Redaction.NO_DIRECT_IDENTIFIERS,
    include_part2: bool = False,
    request=None,
) -> ExportJob:
    """Queue an export (case managers, supervisors, administrators). Audited as an EXPORT
    with the kind and parameters (no personal data); the worker starts after commit."""
    if not may_export(actor):
        raise Forbidden("You may not export case data.", code="permission_denied")
    export_parameters_check(
        actor=actor,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        redaction=redaction,
        include_part2=include_part2,
    )
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind,
            start_date=start_date,
            end_date=end_date,
            redaction=redaction,
            include_part2=include_part2,
            requested_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            target=job,
            request=request,
            detail={
                "event": "requested",
                "kind": kind,
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat(),
                "redaction": redaction,
                "include_part2": include_part2,
            },
        )
        from cases.exports.tasks import run_export

        transaction.on_commit(lambda: run_export.delay(job.pk))
    return job


def _claim(job_id: int) -> ExportJob | None:
    """Queued -> running, or a running job whose lease lapsed; None when another worker has
    it or it is finished (a second delivery of the task does nothing)."""
    now = timezone.now()
    claimed = (
        ExportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ExportStatus.QUEUED)
            | Q(status=ExportStatus.RUNNING, started_at__lt=now - LEASE)
        )
        .update(status=ExportStatus.RUNNING, started_at=now, rows_done=0, updated_at=now)
    )
    if claimed != 1:
        return None
    return ExportJob.objects.get(pk=job_id)


def _error_text(exc: Exception) -> str:
    """What the job row says went wrong. Our own errors and the storage's are stated; anything
    else by its type only, since a database error may echo values (personal data)."""
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, OSError):
        return f"Could not write the file ({type(exc).__name__}: {exc.strerror or exc})."
    return f"The export failed ({type(exc).__name__}); the worker's log has the details."


def _job_files_delete(storage, job: ExportJob) -> None:
    """Delete every file in the job's folder: the stored file, and whatever an attempt whose
    worker died (after storing, before recording it) or whose write failed half-way left."""
    folder = str(job.public_id)
    try:
        _, names = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        storage.delete(f"{folder}/{name}")


def export_run(*, job_id: int) -> ExportJob | None:
    """Build one export: count the rows, write them batch by batch to a temporary file
    (memory stays flat), report progress after every batch, then store the file and mark the
    job done. A failure is recorded on the job. Does nothing for a job that is finished or
    that another worker holds. Only one file is ever kept per job: what an earlier attempt
    left in the job's folder is deleted first, and a failed attempt leaves nothing."""
    job = _claim(job_id)
    if job is None:
        return None
    storage = export_storage()
    count, write = BUILDERS[job.kind]
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        ExportJob.objects.filter(pk=job.pk).update(rows_done=done, updated_at=timezone.now())

    ctx = ExportContext(job=job, progress=progress, now=job.started_at)
    try:
        _job_files_delete(storage, job)
        total = count(ctx)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=total, updated_at=timezone.now())
        with tempfile.TemporaryDirectory(prefix="acs-export-") as folder:
            path = write(ctx, Path(folder))
            with path.open("rb") as handle:
                name = storage.save(f"{job.public_id}/{path.name}", File(handle))
    except Exception as exc:
        logger.exception("export %s failed", job.public_id)
        try:
            _job_files_delete(storage, job)
        except OSError:
            logger.warning("export %s: could not remove a partial file", job.public_id)
        now = timezone.now()
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED, error=_error_text(exc), finished_at=now, updated_at=now
        )
        job.refresh_from_db()
        return job
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file=name,
        rows_done=done,
        rows_total=total,
        finished_at=now,
        expires_at=now + settings.EXPORTS_TTL,
        updated_at=now,
    )
    job.refresh_from_db()
    return job


def _downloadable(actor, public_id) -> ExportJob:
    job = export_get_for_user(actor, public_id)
    if job.status != ExportStatus.DONE or not job.file:
        raise Conflict("This export has no file to download.", code="export_not_ready")
    if job.has_expired():
        raise Conflict("This export has expired; ask for a new one.", code="export_expired")
    return job


def _download_audit(*, actor, job: ExportJob, request) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        target=job,
        request=request,
        detail={"event": "downloaded", "kind": job.kind, "redaction": job.redaction},
    )


def export_download_open(*, actor, public_id, request=None) -> tuple[File, str]:
    """The file of a finished export, for its requester or a supervisor/administrator;
    every download is audited. NotFound for anyone else (as for a missing export)."""
    job = _downloadable(actor, public_id)
    handle = export_storage().open(job.file.name, "rb")
    _download_audit(actor=actor, job=job, request=request)
    return handle, Path(job.file.name).name


def export_download_link(*, actor, public_id, request=None) -> str:
    """With object storage (EXPORTS_STORAGE=s3): a presigned link to the file of a finished
    export, valid EXPORTS_DOWNLOAD_LINK_SECONDS, that makes the browser save it under its name.
    Same rights and the same audit event as `export_download_open`: the link is only ever
    made for someone allowed to download, at the moment they ask, and each one is recorded.
    It names the object by the job's public id and the file's kind, nothing personal."""
    job = _downloadable(actor, public_id)
    name = Path(job.file.name).name
    url = export_storage().url(
        job.file.name,
        parameters={
            "ResponseContentDisposition": f'attachment; filename="{name}"',
            "ResponseCacheControl": "no-store",
        },
        expire=settings.EXPORTS_DOWNLOAD_LINK_SECONDS,
    )
    _download_audit(actor=actor, job=job, request=request)
    return url


def exports_cleanup_expired(*, now=None, batch: int = CLEANUP_BATCH) -> int:
    """Remove the files of expired exports, one bounded batch; rows stay (the audit trail).
    Rows are claimed with SKIP LOCKED, so overlapping runs do not collide."""
    now = now or timezone.now()
    storage = export_storage()
    with transaction.atomic():
        jobs = list(
            ExportJob.objects.select_for_update(skip_locked=True)
            .filter(expires_at__lte=now, file_deleted_at__isnull=True)
            .exclude(file="")
            .order_by("expires_at", "id")[:batch]
        )
        for job in jobs:
            storage.delete(job.file.name)
            _job_files_delete(storage, job)
            job.file_deleted_at = now
            job.save(update_fields=["file_deleted_at", "updated_at"])
    return len(jobs)
