"""Idempotency records live as long as a retry is plausible (IDEMPOTENCY_TTL), no longer.

A record holds no personal data (resources/api/idempotency.py), but it ties a partner's
request to a resident's referral; past the TTL it serves no retry, so it goes. An expired key
is a new key whether or not the sweep has reached it yet.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from resources.models import IdempotencyKey

PURGE_BATCH = 1000


def idempotency_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - settings.IDEMPOTENCY_TTL


def idempotency_key_expired(record: IdempotencyKey, *, now: datetime | None = None) -> bool:
    return record.created_at <= idempotency_cutoff(now)


def idempotency_keys_expired(*, now: datetime | None = None) -> QuerySet[IdempotencyKey]:
    return IdempotencyKey.objects.filter(created_at__lte=idempotency_cutoff(now))


def idempotency_keys_purge(*, now: datetime | None = None, batch: int = PURGE_BATCH) -> int:
    """Delete expired idempotency records, batch after batch until none are left; returns how
    many. Rows are claimed with SKIP LOCKED: a key being replayed right now (its request holds
    the row) is left for the next run, and two sweeps never wait on each other."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                idempotency_keys_expired(now=now)
                .select_for_update(skip_locked=True)
                .order_by("created_at", "id")
                .values_list("pk", flat=True)[:batch]
            )
            if ids:
                IdempotencyKey.objects.filter(pk__in=ids).delete()
        total += len(ids)
        if len(ids) < batch:
            return total
