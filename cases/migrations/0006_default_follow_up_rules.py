"""Data migration: the suggested defaults of shared/DOMAIN.md as editable rules."""

from django.db import migrations

# name, disposition ("" = any other), creates, kind, first due (h), attempts, window (days)
RULES = [
    ("Default: phone within 48 hours", "", True, "phone", 48, 3, 7),
    ("Referred: check the referral", "referred", True, "referral_check", 48, 3, 7),
    ("Gone on arrival: no follow-up", "gone_on_arrival", False, "phone", 48, 1, 1),
    ("Cancelled en route: no follow-up", "cancelled_en_route", False, "phone", 48, 1, 1),
]


def create(apps, schema_editor):
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    for name, disposition, creates, kind, hours, attempts, days in RULES:
        FollowUpRule.objects.get_or_create(
            disposition=disposition,
            active=True,
            defaults={
                "name": name,
                "creates_follow_up": creates,
                "kind": kind,
                "first_due_hours": hours,
                "attempts": attempts,
                "window_days": days,
                "escalate_to": "in_person",
            },
        )


def remove(apps, schema_editor):
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    FollowUpRule.objects.filter(name__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_follow_ups")]

    operations = [migrations.RunPython(create, remove)]
