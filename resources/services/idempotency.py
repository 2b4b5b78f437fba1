"""Idempotency records live as long as a retry is plausible (IDEMPOTENCY_TTL), no longer.

A record holds no personal data (resources/partners/api/idempotency.py), but it ties a partner's
request to a resident's referral; past the TTL it serves no retry, so it goes. An expired key
is a new key whether or not the sweep has reached it yet.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from acs.batches import in_batches
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
    many. A key being replayed right now (its request holds the row) waits for the next run."""
    return in_batches(
        idempotency_keys_expired(now=now),
        order_by=("created_at", "id"),
        batch=batch,
        apply=lambda rows: rows.delete(),
    )
