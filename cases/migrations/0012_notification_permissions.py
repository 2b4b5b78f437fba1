"""Data migration: case managers and supervisors see the notification outbox and the SMS
opt-outs in the admin (read-only pages)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "case_manager": ["view_notification", "view_smsoptout"],
    "supervisor": ["view_notification", "view_smsoptout"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("cases")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        Group.objects.get(name=role).permissions.add(
            *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        Group.objects.get(name=role).permissions.remove(
            *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_transparency_rollups")]

    operations = [migrations.RunPython(grant, revoke)]
