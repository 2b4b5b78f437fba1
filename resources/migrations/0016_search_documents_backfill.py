"""Search documents and the word list for the services already in the directory (data)."""

from django.db import migrations

FORWARD = "SELECT resources_search_refresh(ARRAY(SELECT id FROM resources_service))"
BACKWARD = "DELETE FROM resources_servicesearchdocument; DELETE FROM resources_directoryword;"


class Migration(migrations.Migration):
    dependencies = [("resources", "0015_search_triggers")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
