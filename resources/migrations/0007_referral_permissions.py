"""Data migration: case managers and supervisors see and work referrals in the admin, and see
the webhook endpoints and their delivery log; supervisors turn endpoints off and on."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WORK = [
    "view_referral",
    "change_referral",
    "view_referralevent",
    "view_webhookendpoint",
    "view_webhookdelivery",
]
GRANTS = {
    "case_manager": WORK,
    "supervisor": [*WORK, "change_webhookendpoint"],
    "admin": [*WORK, "change_webhookendpoint"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("resources")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        Group.objects.get(name=role).permissions.add(
            *Permission.objects.filter(content_type__app_label="resources", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        Group.objects.get(name=role).permissions.remove(
            *Permission.objects.filter(content_type__app_label="resources", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0006_referrals_webhooks"),
        ("responders", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
