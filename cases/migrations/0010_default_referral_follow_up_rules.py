"""Data migration: referrals that leave a resident without the service become follow-ups."""

from django.db import migrations

# name, referral event, kind, first due (h), attempts, window (days)
RULES = [
    ("Referral declined: re-route", "declined", "referral_check", 24, 2, 3),
    ("Referral expired: re-route", "expired", "referral_check", 24, 2, 3),
    ("Referral not completed: check in", "not_completed", "phone", 48, 3, 7),
]


def create(apps, schema_editor):
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    for name, event, kind, hours, attempts, days in RULES:
        FollowUpRule.objects.get_or_create(
            referral_event=event,
            disposition="",
            active=True,
            defaults={
                "name": name,
                "creates_follow_up": True,
                "kind": kind,
                "first_due_hours": hours,
                "attempts": attempts,
                "window_days": days,
                "escalate_to": "supervisor_review",
            },
        )


def remove(apps, schema_editor):
    FollowUpRule = apps.get_model("cases", "FollowUpRule")
    FollowUpRule.objects.filter(name__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_follow_ups_from_referrals")]

    operations = [migrations.RunPython(create, remove)]
