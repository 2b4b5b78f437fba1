"""Data migration: supervisors see audit events (shared/DOMAIN.md, who may see what)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("acs")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.get(name="supervisor").permissions.add(
        Permission.objects.get(content_type__app_label="acs", codename="view_auditevent")
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.get(name="supervisor").permissions.remove(
        *Permission.objects.filter(content_type__app_label="acs", codename="view_auditevent")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("acs", "0003_auditevent_append_only"),
        ("responders", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
