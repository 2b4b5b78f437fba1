"""Data migration: administrators edit the eligibility rules in the admin; supervisors and
case managers read them (they explain the coverage figure)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "admin": [
        "view_eligibilityrule",
        "add_eligibilityrule",
        "change_eligibilityrule",
    ],
    "supervisor": ["view_eligibilityrule"],
    "case_manager": ["view_eligibilityrule"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("cases")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0031_coverage_eligibility")]

    operations = [migrations.RunPython(grant, revoke)]
