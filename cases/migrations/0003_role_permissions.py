"""Data migration: what the desk roles may do in the admin with the cases records."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "case_manager": [
        "view_call",
        "view_encounter",
        "view_addendum",
        "view_resident",
        "add_resident",
        "change_resident",
        "view_residentmerge",
        "change_residentmerge",
    ],
    "supervisor": [
        "view_call",
        "view_encounter",
        "view_addendum",
        "change_addendum",
        "view_resident",
        "add_resident",
        "change_resident",
        "view_residentmerge",
        "change_residentmerge",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after migrate; create them now to grant them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group = Group.objects.get(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="cases", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_residents_encounters_consent"),
        ("responders", "0002_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
