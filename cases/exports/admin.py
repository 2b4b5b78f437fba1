"""The "Exports" admin (/admin/cases/exportjob/): ask for an export, follow its progress, and
download it when done. Case managers see their own exports; supervisors and administrators
see everyone's. URLs carry the export's public id, never a row id or anything personal.
Registered from the end of cases/admin/__init__.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from acs.errors import DomainError, NotFound
from acs.local_times import LocalTimesAdmin
from cases.exports.models import ExportJob, ExportStatus
from cases.exports.selectors import export_jobs_for_user, may_export
from cases.exports.services import (
    export_download_link,
    export_download_open,
    export_parameters_check,
    export_request,
)

REQUEST_FIELDS = ("kind", "start_date", "end_date", "redaction", "include_part2")


def job_url(job: ExportJob, what: str = "change") -> str:
    return reverse(f"admin:cases_exportjob_{what}", args=(str(job.public_id),))


class PublicIdChangeList(ChangeList):
    def url_for_result(self, result):
        return job_url(result)


class ExportRequestForm(forms.ModelForm):
    """The request form; the rules are the service's (export_parameters_check)."""

    actor = None  # set per request by ExportJobAdmin.get_form

    class Meta:
        model = ExportJob
        fields = REQUEST_FIELDS
        labels = {"include_part2": "Include substance-use (42 CFR Part 2) data and narratives"}
        help_texts = {
            "include_part2": "Full exports only; supervisors and administrators only.",
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            export_parameters_check(
                actor=self.actor,
                kind=data["kind"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                redaction=data["redaction"],
                include_part2=data.get("include_part2", False),
            )
        except DomainError as exc:
            for name, errors in exc.fields.items():
                self.add_error(name if name in self.fields else None, errors)
            if not exc.fields:
                raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(ExportJob)
class ExportJobAdmin(LocalTimesAdmin):
    list_display = (
        "__str__",
        "period",
        "redaction",
        "status",
        "progress_bar",
        "requested_by",
        "created_at",
        "download_link",
    )
    list_filter = ("status", "kind")
    show_full_result_count = False
    readonly_fields = (
        *REQUEST_FIELDS,
        "status",
        "progress_bar",
        "error",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "download_link",
    )

    # --- who may do what ---

    def has_module_permission(self, request):
        return may_export(request.user)

    def has_view_permission(self, request, obj=None):
        return may_export(request.user)

    def has_add_permission(self, request):
        return may_export(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return export_jobs_for_user(request.user)

    # --- public ids in URLs ---

    def get_changelist(self, request, **kwargs):
        return PublicIdChangeList

    def get_object(self, request, object_id, from_field=None):
        try:
            public_id = uuid.UUID(str(object_id))
        except ValueError:
            return None
        return self.get_queryset(request).filter(public_id=public_id).first()

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_view)
        return [
            path("<uuid:public_id>/download/", download, name="cases_exportjob_download"),
            *super().get_urls(),
        ]

    # --- asking for an export ---

    def get_fields(self, request, obj=None):
        if obj is None:
            return REQUEST_FIELDS
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        return type("BoundExportRequestForm", (ExportRequestForm,), {"actor": request.user})

    def get_changeform_initial_data(self, request):
        # Last month and this month so far: the range a report usually wants, and one that holds
        # the newest records (last month alone was empty early on, and in a fresh demo).
        today = timezone.localdate()
        last_month_end = today.replace(day=1) - timedelta(days=1)
        return {
            "start_date": last_month_end.replace(day=1),
            "end_date": today,
            "redaction": ExportJob.Redaction.NO_DIRECT_IDENTIFIERS,
        }

    def save_model(self, request, obj, form, change):
        job = export_request(
            actor=request.user,
            request=request,
            **{name: form.cleaned_data[name] for name in REQUEST_FIELDS},
        )
        obj.pk, obj.public_id, obj.created_at = job.pk, job.public_id, job.created_at

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, "The export is queued; this page follows its progress.")
        return HttpResponseRedirect(job_url(obj))

    # --- following it ---

    @admin.display(description="Period")
    def period(self, obj):
        return f"{obj.start_date:%Y-%m-%d} to {obj.end_date:%Y-%m-%d}"

    @admin.display(description="Progress")
    def progress_bar(self, obj):
        total = obj.rows_total if obj.rows_total is not None else "?"
        return format_html(
            '<progress class="export-progress" value="{}" max="100">{}%</progress> {}% ({} of {})',
            obj.percent,
            obj.percent,
            obj.percent,
            obj.rows_done,
            total,
        )

    @admin.display(description="File")
    def download_link(self, obj):
        if obj.status == ExportStatus.FAILED:
            return "Failed"
        if obj.status != ExportStatus.DONE:
            return "Not ready yet"
        if obj.file_deleted_at or obj.has_expired():
            return "Expired"
        return format_html('<a href="{}" download>Download</a>', job_url(obj, "download"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        extra = {"export_running": job is not None and not job.is_finished}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def download_view(self, request, public_id):
        try:
            if settings.EXPORTS_STORAGE == "s3":
                # The bytes come from the object store, not through gunicorn: a short-lived
                # presigned link, made after the same checks and audit as a local download.
                response = HttpResponseRedirect(
                    export_download_link(actor=request.user, public_id=public_id, request=request)
                )
                response["Cache-Control"] = "no-store"
                return response
            handle, name = export_download_open(
                actor=request.user, public_id=public_id, request=request
            )
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.WARNING)
            return HttpResponseRedirect(reverse("admin:cases_exportjob_changelist"))
        response = FileResponse(handle, as_attachment=True, filename=name)
        response["Cache-Control"] = "no-store"
        return response
