from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0010_idempotencykey_drop_stored_bodies"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="idempotencykey",
            name="response_body",
        ),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("error__isnull", True),
                        ("response_status__lt", 400),
                        ("result_id__isnull", False),
                    ),
                    models.Q(
                        ("error__isnull", False),
                        ("response_status__gte", 400),
                        ("result_id__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="resources_idempotencykey_result_or_error",
            ),
        ),
    ]
