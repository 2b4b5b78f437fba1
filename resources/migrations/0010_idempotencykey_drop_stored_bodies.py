"""Drop the responses idempotency records kept (a resident's name, phone and where to find
them, with no expiry): a success keeps the id of its record, a refusal its error.

Reversed, refusals get their error back as the body; successes are deleted, since their
bodies cannot be rebuilt without keeping what this migration removes (the key is then new to
the old code, as an expired key is)."""

import uuid

from django.db import migrations

BATCH = 1000


def _result_id(body):
    if not isinstance(body, dict):
        return None
    for name in ("id", "service_at_location_id"):  # actions and notes; capacity
        try:
            return uuid.UUID(str(body[name]))
        except (KeyError, ValueError):
            continue
    return None


def forward(apps, schema_editor):
    IdempotencyKey = apps.get_model("resources", "IdempotencyKey")
    rows = IdempotencyKey.objects.filter(response_body__isnull=False).order_by("pk")
    unusable = []
    while batch := list(rows[:BATCH]):
        for row in batch:
            if row.response_status >= 400:
                row.error = row.response_body
            else:
                row.result_id = _result_id(row.response_body)
                if row.result_id is None:
                    unusable.append(row.pk)
            row.response_body = None
        IdempotencyKey.objects.bulk_update(batch, ["error", "result_id", "response_body"])
    # A success whose record cannot be named cannot be replayed: its key becomes new.
    IdempotencyKey.objects.filter(pk__in=unusable).delete()


def backward(apps, schema_editor):
    IdempotencyKey = apps.get_model("resources", "IdempotencyKey")
    IdempotencyKey.objects.filter(error__isnull=True).delete()
    rows = IdempotencyKey.objects.filter(response_body__isnull=True).order_by("pk")
    while batch := list(rows[:BATCH]):
        for row in batch:
            row.response_body = row.error
        IdempotencyKey.objects.bulk_update(batch, ["response_body"])


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0009_idempotencykey_result_id_error"),
    ]

    operations = [migrations.RunPython(forward, backward)]
