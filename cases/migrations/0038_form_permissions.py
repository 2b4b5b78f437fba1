"""Data migration: supervisors and administrators manage form definitions, their versions and
bindings in the admin; case managers see them; desk roles read form responses (read-only)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGE = [
    f"{verb}_{model}"
    for verb in ("view", "add", "change")
    for model in ("formdefinition", "formversion", "formbinding")
]
READ = ["view_formdefinition", "view_formversion", "view_formbinding", "view_formresponse"]

GRANTS = {
    "case_manager": READ,
    "supervisor": [*MANAGE, *READ],
    "admin": [*MANAGE, *READ],
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
    dependencies = [("cases", "0037_shipped_forms")]

    operations = [migrations.RunPython(grant, revoke)]
