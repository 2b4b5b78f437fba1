"""The export job: what was asked, how far the worker got, and where the file is."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from acs.models import BaseModel


def export_storage() -> Storage:
    """Where export files live: EXPORTS_ROOT on local disk by default (outside the media root,
    shared by web and worker; served only through the audited download view, never by URL), or
    a private S3-compatible bucket with EXPORTS_STORAGE=s3 (the audited download view then hands
    out a presigned link that expires after EXPORTS_DOWNLOAD_LINK_SECONDS)."""
    if settings.EXPORTS_STORAGE == "s3":
        from storages.backends.s3 import S3Storage

        return S3Storage(**settings.EXPORTS_S3_OPTIONS)
    return FileSystemStorage(
        location=settings.EXPORTS_ROOT,
        base_url=None,
        # Personal data: readable by the service's own user only.
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


class ExportKind(models.TextChoices):
    RESIDENTS_CSV = "residents_csv", "Residents (CSV)"
    ENCOUNTERS_CSV = "encounters_csv", "Encounters (CSV)"
    HMIS_CSV = "hmis_csv", "HUD HMIS CSV, FY2024 (zip)"
    BILLING_CSV = "billing_csv", "Mobile crisis billing evidence (CSV)"


class Redaction(models.TextChoices):
    FULL = "full", "Full (identified)"
    NO_DIRECT_IDENTIFIERS = "no_direct_identifiers", "No direct identifiers"
    DEIDENTIFIED = "deidentified", "De-identified (pseudonyms, months, age bands)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportJob(BaseModel):
    """One export asked for by a staff member, built by a Celery worker.

    The file is kept in `export_storage()` (not in the database) until `expires_at`; then the
    cleanup removes the file and keeps the row (who exported what, and when).
    """

    Kind = ExportKind
    Redaction = Redaction
    Status = ExportStatus

    kind = models.CharField(max_length=16, choices=ExportKind.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    redaction = models.CharField(
        max_length=24, choices=Redaction.choices, default=Redaction.NO_DIRECT_IDENTIFIERS
    )
    # 42 CFR Part 2 (substance-use) values and narratives: only at full redaction, only for
    # supervisors and administrators (cases/exports/services.py).
    include_part2 = models.BooleanField(default=False)
    status = models.CharField(
        max_length=8, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    file = models.FileField(storage=export_storage, max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Set when the cleanup removed the file.
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        app_label = "cases"
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ExportStatus]),
                name="cases_exportjob_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in ExportKind]),
                name="cases_exportjob_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(redaction__in=[r.value for r in Redaction]),
                name="cases_exportjob_redaction_valid",
            ),
            models.CheckConstraint(
                condition=Q(start_date__lte=models.F("end_date")),
                name="cases_exportjob_range_ordered",
            ),
            # Part 2 data only in a full export.
            models.CheckConstraint(
                condition=Q(include_part2=False) | Q(redaction="full"),
                name="cases_exportjob_part2_only_full",
            ),
            # Done: a file (until cleaned up) and a finish time; failed: the reason.
            models.CheckConstraint(
                condition=~Q(status="done")
                | (Q(finished_at__isnull=False) & (~Q(file="") | Q(file_deleted_at__isnull=False))),
                name="cases_exportjob_done_has_file",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | (~Q(error="") & Q(finished_at__isnull=False)),
                name="cases_exportjob_failed_has_error",
            ),
        ]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="cases_exportjob_by_idx"),
            # The cleanup: finished files by expiry.
            models.Index(
                fields=["expires_at"],
                name="cases_exportjob_expiry_idx",
                condition=Q(file_deleted_at__isnull=True) & ~Q(file=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {str(self.public_id)[:8]}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    def has_expired(self, at: datetime | None = None) -> bool:
        """Past `expires_at`: the file is no longer handed out (export_sweep deletes it)."""
        at = at or timezone.now()
        return self.expires_at is not None and self.expires_at <= at
