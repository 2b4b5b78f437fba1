"""The webhooks' outbox: a referral's events written as deliveries in the transaction that changed
it, handed to batch tasks once it commits, and the sweep that hands out the deliveries that are
due again (a lost task, a dead worker, a retry)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from acs.on_commit import enqueue_on_commit
from resources.models import DeliveryStatus, Referral, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


SWEEP_BATCH = 200
# A sweep run hands out batches for at most this long (under beat's one-minute period).
SWEEP_SECONDS = 40
# The sweep marks this many batch tasks' rows per statement (deliveries_queue splits them).
SWEEP_BATCHES_PER_STATEMENT = 10


def referral_url(referral: Referral) -> str:
    return f"{settings.ACS_BASE_URL}/api/v1/referrals/{referral.public_id}"


def event_payload(*, event_id: uuid.UUID, event_type: str, referral: Referral, at) -> dict:
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": at,
        "data": {
            "referral": {
                "id": str(referral.public_id),
                "status": referral.status,
                "urgency": referral.urgency,
                "service_id": str(referral.service.public_id),
                "updated_at": referral.updated_at,
                "url": referral_url(referral),
            }
        },
    }


def event_queue(*, referral: Referral, event_type: str) -> list[WebhookDelivery]:
    """Queue `event_type` about `referral` for every active endpoint of its partner.

    Call inside the transaction that changed the referral: the rows commit with it."""
    endpoints = list(
        WebhookEndpoint.objects.filter(organization_id=referral.organization_id, active=True)
    )
    if not endpoints:
        return []
    now = timezone.now()
    rows = []
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        payload = event_payload(event_id=event_id, event_type=event_type, referral=referral, at=now)
        rows.append(
            WebhookDelivery(
                public_id=event_id,
                endpoint=endpoint,
                referral=referral,
                event_type=event_type,
                payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                next_attempt_at=now,
            )
        )
    WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    enqueue_on_commit(deliveries_queue, ids)
    return rows


def deliveries_queue(pks: list[int], *, marked: bool = False) -> bool:
    """Hand `pks` to batch tasks (WEBHOOK_BATCH_SIZE each), marked queued first (unless
    `marked` already, as the sweep's statement does); when the broker is down the mark is
    cleared again for the sweep. False when not queued."""
    from resources.tasks import deliver_webhooks

    if not pks:
        return True
    if not marked:
        WebhookDelivery.objects.filter(pk__in=pks).update(queued_until=_queued_until())
    size = max(1, settings.WEBHOOK_BATCH_SIZE)
    for i in range(0, len(pks), size):
        batch_ids = pks[i : i + size]
        try:
            deliver_webhooks.delay(batch_ids)
        except Exception:  # the broker is down: the sweep will find the rows
            WebhookDelivery.objects.filter(pk__in=pks[i:]).update(queued_until=None)
            logger.warning("%s webhook deliveries not queued; the sweep will retry", len(pks[i:]))
            return False
    return True


def _queued_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.NOTIFICATION_QUEUED_SECONDS)


# Oldest first in the due index's order, joined back by id (as the notification sweep's).
QUEUE_DUE = """
UPDATE resources_webhookdelivery AS d SET queued_until = %(until)s
FROM (
    SELECT id, next_attempt_at FROM resources_webhookdelivery
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= %(now)s
      AND (status = 'pending' OR lease_until < %(now)s)
      AND (queued_until IS NULL OR queued_until < %(now)s)
    ORDER BY next_attempt_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE d.id = due.id
RETURNING d.id, due.next_attempt_at
"""


def deliveries_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> list[int]:
    """Ids of deliveries due now (pending, or sending with a lapsed lease) and in no batch
    task presumed alive. SKIP LOCKED only keeps the sweep from waiting on a claim; the claim
    in `deliver_batch` makes a second task for the same row a no-op."""
    now = now or timezone.now()
    with transaction.atomic():
        return list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .filter(
                Q(status=DeliveryStatus.PENDING)
                | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
            )
            .filter(Q(queued_until__isnull=True) | Q(queued_until__lt=now))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:batch]
        )


def deliveries_queue_due(*, now: datetime | None = None, batch: int | None = None) -> list[int]:
    """One statement: up to `batch` deliveries that are due and in no live batch task,
    marked queued; their ids in event order, for one batch task."""
    now = now or timezone.now()
    batch = batch or settings.WEBHOOK_BATCH_SIZE
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_DUE, {"until": _queued_until(now), "now": now, "batch": batch})
        # In event order: a batch sends each endpoint's events in the order it is given.
        return [pk for pk, _ in sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))]
