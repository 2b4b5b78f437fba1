"""The desk's pages for forms: definitions with their bindings and versions (drafts edited as
FHIR Questionnaire item JSON, published, retired; imported and exported as FHIR Questionnaire
JSON), and form responses (read-only, audited, exported as FHIR QuestionnaireResponse)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from acs.admin_base import FastListAdmin, each_row
from acs.errors import DomainError
from cases.models import FormBinding, FormDefinition, FormResponse, FormVersion
from cases.screening import questionnaire, selectors, services


class FormBindingInline(admin.TabularInline):
    model = FormBinding
    extra = 1
    fields = ("call_type", "team", "disposition", "required")


class FormVersionInline(admin.TabularInline):
    model = FormVersion
    extra = 0
    fields = ("version_link", "status", "published_at", "retired_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="version")
    def version_link(self, obj):
        url = reverse("admin:cases_formversion_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, str(obj))


class QuestionnaireImportForm(forms.Form):
    questionnaire = forms.FileField(
        required=False, help_text="A FHIR R4 Questionnaire, as a .json file."
    )
    text = forms.CharField(
        required=False, widget=forms.Textarea, help_text="Or paste the Questionnaire JSON here."
    )
    purpose = forms.ChoiceField(
        choices=FormDefinition.Purpose.choices, initial=FormDefinition.Purpose.OTHER
    )

    def resource(self) -> dict:
        upload = self.cleaned_data.get("questionnaire")
        raw = upload.read(1_000_001) if upload else self.cleaned_data.get("text", "").encode()
        if len(raw) > 1_000_000:
            raise forms.ValidationError("At most 1 MB.")
        try:
            return json.loads(raw or b"null")
        except ValueError as exc:
            raise forms.ValidationError("Not JSON.") from exc


@admin.register(FormDefinition)
class FormDefinitionAdmin(admin.ModelAdmin):
    list_display = ("title", "key", "purpose", "in_use")
    fields = ("key", "title", "purpose", "scoring", "licence")
    inlines = [FormBindingInline, FormVersionInline]
    change_list_template = "admin/cases/formdefinition/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("versions")

    def get_readonly_fields(self, request, obj=None):
        return ("key",) if obj else ()

    @admin.display(description="version in use")
    def in_use(self, obj):
        published = [v for v in obj.versions.all() if v.status == FormVersion.Status.PUBLISHED]
        return f"v{published[0].number}" if published else "-"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="cases_formdefinition_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """A FHIR Questionnaire becomes a new draft (form_import_questionnaire)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = QuestionnaireImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                version = services.form_import_questionnaire(
                    actor=request.user,
                    resource=form.resource(),
                    purpose=form.cleaned_data["purpose"],
                )
            except forms.ValidationError as exc:
                form.add_error(None, exc)
            except DomainError as exc:
                for where, problems in list(exc.fields.items())[:10]:
                    form.add_error(None, f"{where}: {'; '.join(problems)}")
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request, f"Imported as a draft: {version}. Check it, then publish it."
                )
                return HttpResponseRedirect(
                    reverse("admin:cases_formversion_change", args=[version.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import a FHIR Questionnaire",
            "opts": self.model._meta,
            "form": form,
            "submit": "Import as a draft",
            "media": self.media + form.media,
            "multipart": True,
        }
        return TemplateResponse(request, "admin/cases/formdefinition/import.html", context)


class FormVersionForm(forms.ModelForm):
    items = forms.JSONField(
        help_text="FHIR Questionnaire items: linkId, text, type (group, display, boolean, "
        "integer, decimal, date, string, text, choice), required, repeats, enableWhen, "
        "enableBehavior, answerOption, item.",
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "class": "vLargeTextField"}),
    )

    class Meta:
        model = FormVersion
        fields = ("title", "description", "items")


@admin.register(FormVersion)
class FormVersionAdmin(FastListAdmin):
    form = FormVersionForm
    list_display = ("__str__", "definition", "number", "status", "published_at")
    list_filter = ("status", "definition")
    list_select_related = ("definition",)
    actions = ["publish", "retire", "new_draft"]

    def get_readonly_fields(self, request, obj=None):
        frozen = obj is not None and obj.status != FormVersion.Status.DRAFT
        base = ("definition", "number", "status", "published_at", "published_by", "retired_at")
        return (*base, "fhir_link", *(("title", "description", "items") if frozen else ()))

    def get_fields(self, request, obj=None):
        return (
            "definition",
            "number",
            "status",
            "title",
            "description",
            "items",
            "published_at",
            "published_by",
            "retired_at",
            "fhir_link",
        )

    def has_add_permission(self, request):
        return False  # a new draft: the definition's "new draft" action, or an import

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="FHIR Questionnaire")
    def fhir_link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:cases_formversion_fhir", args=[obj.pk])
        return format_html('<a href="{}">Download as FHIR Questionnaire JSON</a>', url)

    def save_model(self, request, obj, form, change):
        """Through form_version_save_draft: only a draft changes (its items checked)."""
        try:
            services.form_version_save_draft(
                actor=request.user,
                definition=obj.definition,
                items=form.cleaned_data["items"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                version=obj,
            )
        except DomainError as exc:
            problems = "; ".join(f"{k}: {', '.join(v)}" for k, v in list(exc.fields.items())[:10])
            self.message_user(request, f"{exc.message} {problems}", messages.ERROR)
            raise _Refused from exc

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused:
            return HttpResponseRedirect(request.path)

    def get_urls(self):
        return [
            path(
                "<int:pk>/fhir/",
                self.admin_site.admin_view(self.fhir_view),
                name="cases_formversion_fhir",
            ),
            *super().get_urls(),
        ]

    def fhir_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = FormVersion.objects.select_related("definition").filter(pk=pk).first()
        if version is None:
            raise Http404
        response = JsonResponse(
            questionnaire.questionnaire_from_version(version), json_dumps_params={"indent": 1}
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{version.definition.key}-v{version.number}.json"'
        )
        return response

    def _each_version(self, request, queryset, apply, done: str) -> None:
        """One service call per selected version (each_row reports each), for those who may
        change versions."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        each_row(self, request, queryset, apply, done)

    @admin.action(description="Publish the selected drafts (the version in use is retired)")
    def publish(self, request, queryset):
        self._each_version(
            request,
            queryset,
            lambda v: services.form_version_publish(actor=request.user, version=v),
            "published",
        )

    @admin.action(description="Retire the selected versions")
    def retire(self, request, queryset):
        self._each_version(
            request,
            queryset,
            lambda v: services.form_version_retire(actor=request.user, version=v),
            "retired",
        )

    @admin.action(description="Start a new draft from the selected versions' forms")
    def new_draft(self, request, queryset):
        self._each_version(
            request,
            queryset,
            lambda v: services.form_version_new_draft(actor=request.user, definition=v.definition),
            "drafts ready",
        )


class _Refused(Exception):
    """A draft the service refused: the change page shows the message and the form again."""


@admin.register(FormResponse)
class FormResponseAdmin(FastListAdmin):
    list_display = ("__str__", "form_name", "risk_level", "completed_at")
    list_filter = ("risk_level",)
    list_select_related = ("version__definition",)
    fields = (
        "form_name",
        "encounter_link",
        "risk_level",
        "score_detail",
        "answers_shown",
        "started_at",
        "completed_at",
        "created_by",
        "language",
        "fhir_link",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.form_response_queryset_for_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="form")
    def form_name(self, obj):
        return str(obj.version)

    @admin.display(description="encounter")
    def encounter_link(self, obj):
        url = reverse("admin:cases_encounter_change", args=[obj.encounter_id])
        return format_html('<a href="{}">{}</a>', url, "the encounter")

    @admin.display(description="answers")
    def answers_shown(self, obj):
        rows = selectors.answer_rows(obj)
        return format_html(
            "<dl>{}</dl>",
            format_html(
                "".join("<dt>{}</dt><dd>{}</dd>" for _ in rows),
                *[part for row in rows for part in row],
            )
            if rows
            else "-",
        )

    @admin.display(description="FHIR QuestionnaireResponse")
    def fhir_link(self, obj):
        url = reverse("admin:cases_formresponse_fhir", args=[obj.pk])
        return format_html('<a href="{}">Download as FHIR QuestionnaireResponse JSON</a>', url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = self.get_object(request, object_id)
        if response is not None and request.method == "GET":
            selectors.form_response_read_audit(request.user, response, request=request, via="admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/fhir/",
                self.admin_site.admin_view(self.fhir_view),
                name="cases_formresponse_fhir",
            ),
            *super().get_urls(),
        ]

    def fhir_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = self.get_queryset(request).filter(pk=pk).first()
        if found is None:
            raise Http404
        selectors.form_response_read_audit(request.user, found, request=request, via="admin_fhir")
        response = JsonResponse(
            questionnaire.questionnaire_response_from(found), json_dumps_params={"indent": 1}
        )
        response["Content-Disposition"] = f'attachment; filename="response-{found.public_id}.json"'
        response["Cache-Control"] = "no-store"
        return response
