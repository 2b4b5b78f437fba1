"""Idempotency records get the two things a retry needs instead of the stored response: the
id of what was written (a success) and the error (a refusal). The stored bodies go in 0010."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0008_part2_flags"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="result_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="idempotencykey",
            name="error",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="response_body",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
