"""The eligibility rules (which calls ACS should respond to), edited by administrators.

Every save goes through `cases.services.eligibility.eligibility_rule_save`, which records
the change (before and after) in the audit trail; the rule's page shows that history. Rules
are retired, not deleted. Docs: docs/metrics.md ("Coverage").
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from acs.local_times import LocalTimesAdmin, local_time
from cases.call_types import known_call_types
from cases.models import EligibilityRule
from cases.services.eligibility import (
    RULE_FIELDS,
    eligibility_rule_history,
    eligibility_rule_save,
)


class EligibilityRuleForm(forms.ModelForm):
    class Meta:
        model = EligibilityRule
        fields = ("call_type", "source", "priority", "active", "note")

    def clean_call_type(self):
        code = self.cleaned_data["call_type"].strip().upper()
        if code not in known_call_types():
            raise ValidationError("Unknown call type: an APCO code or a configured local type.")
        return code


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(LocalTimesAdmin):
    form = EligibilityRuleForm
    list_display = ("call_type", "source", "priority", "active", "note", "updated_at")
    list_filter = ("active", "source")
    search_fields = ("call_type",)
    fields = ("call_type", "source", "priority", "active", "note", "history")
    readonly_fields = ("history",)

    def has_delete_permission(self, request, obj=None):
        return False  # retire a rule instead: its history stays

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            before = {k: form.initial.get(k) for k in RULE_FIELDS}
        eligibility_rule_save(rule=obj, actor=request.user, request=request, before=before)

    @admin.display(description="History")
    def history(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        events = eligibility_rule_history(obj)
        if not events:
            return "-"
        rows = format_html_join(
            "",
            "<li>{} - {} by {}: {}</li>",
            (
                (
                    local_time(e.created_at),
                    e.get_action_display(),
                    e.actor.get_username() if e.actor else "system",
                    "; ".join(
                        f"{k}: {(e.detail.get('before') or {}).get(k, '')!r} -> "
                        f"{(e.detail.get('after') or {}).get(k)!r}"
                        for k in e.detail.get("fields", [])
                    ),
                )
                for e in events
            ),
        )
        return format_html("<ul>{}</ul>", rows)
