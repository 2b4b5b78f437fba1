"""Data migration: one group per role of shared/DOMAIN.md."""

from django.db import migrations

ROLES = [
    "responder",
    "case_manager",
    "supervisor",
    "partner_user",
    "cad_integration",
    "admin",
]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLES, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("responders", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
