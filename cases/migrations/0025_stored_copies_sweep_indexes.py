"""Indexes for the sweeps of short-lived copies: call events still holding their first
result, sent notifications still holding their address or text."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0024_phones_e164"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="callevent",
            index=models.Index(
                condition=models.Q(("result", {}), _negated=True),
                fields=["created_at"],
                name="cases_callevent_result_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(
                    models.Q(("to_address", ""), _negated=True),
                    models.Q(("body", ""), _negated=True),
                    _connector="OR",
                ),
                fields=["sent_at"],
                name="cases_notif_text_sent_idx",
            ),
        ),
    ]
