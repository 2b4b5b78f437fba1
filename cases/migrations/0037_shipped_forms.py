"""The forms the department starts with (cases/screening/definitions/, docs/screening.md): the
C-SSRS screener, a six-step safety plan and a short crisis assessment, each published as
version 1 and bound to the mental health and suicide threat calls; and the follow-up rule for
a high risk found by a screen (a call within 24 hours, a case manager assigned)."""

import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DEFINITIONS = Path(__file__).resolve().parent.parent / "screening" / "definitions"

SHIPPED = [
    # key, purpose, scoring, bound to call types, required there
    ("cssrs-screener", "screening", "cssrs_screener", ["MNTL", "SUICTHRT"], True),
    ("safety-plan", "safety_plan", "", ["MNTL", "SUICTHRT"], False),
    ("crisis-assessment", "assessment", "", ["MNTL", "SUICTHRT"], False),
]


def load(apps, schema_editor):
    FormDefinition = apps.get_model("cases", "FormDefinition")
    FormVersion = apps.get_model("cases", "FormVersion")
    FormBinding = apps.get_model("cases", "FormBinding")
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    now = timezone.now()
    for key, purpose, scoring, call_types, required in SHIPPED:
        resource = json.loads((DEFINITIONS / f"{key}.json").read_text(encoding="utf-8"))
        definition, made = FormDefinition.objects.get_or_create(
            key=key,
            defaults={
                "title": resource["title"],
                "purpose": purpose,
                "scoring": scoring,
                "licence": resource.get("copyright", ""),
            },
        )
        if not made:
            continue
        FormVersion.objects.create(
            definition=definition,
            number=1,
            status="published",
            title=resource["title"],
            description=resource.get("description", ""),
            items=resource["item"],
            published_at=now,
        )
        for call_type in call_types:
            FormBinding.objects.create(
                definition=definition, call_type=call_type, required=required
            )
    FollowUpRule.objects.get_or_create(
        risk_level="high",
        disposition="",
        referral_event="",
        active=True,
        defaults={
            "name": "High risk found by a screen: a call within 24 hours, a case manager assigned",
            "kind": "phone",
            "first_due_hours": 24,
            "attempts": 3,
            "window_days": 7,
            "escalate_to": "in_person",
            "assign_case_manager": True,
        },
    )


def unload(apps, schema_editor):
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    FormDefinition = apps.get_model("cases", "FormDefinition")
    FollowUpRule.objects.filter(risk_level="high", disposition="", referral_event="").delete()
    keys = [key for key, *_ in SHIPPED]
    # Published versions are frozen by a trigger (0031); taking the shipped rows back out is
    # the one deletion allowed, with the trigger off for it.
    schema_editor.execute("ALTER TABLE cases_formversion DISABLE TRIGGER cases_formversion_frozen")
    for definition in FormDefinition.objects.filter(key__in=keys):
        definition.bindings.all().delete()
        definition.versions.all().delete()
        definition.delete()
    schema_editor.execute("ALTER TABLE cases_formversion ENABLE TRIGGER cases_formversion_frozen")


class Migration(migrations.Migration):
    dependencies = [("cases", "0036_forms")]

    operations = [migrations.RunPython(load, unload)]
