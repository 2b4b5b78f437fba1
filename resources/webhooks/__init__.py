"""Partner webhooks: signed referral events, delivered by Celery from an outbox table.

A referral service calls `event_queue` inside its transaction: one `WebhookDelivery` row per
active endpoint of the partner, and, once the transaction commits, batch tasks of their ids
(WEBHOOK_BATCH_SIZE each), the rows marked queued (`queued_until`). The row is the truth and
the queue only carries ids, so a lost task or a dead worker delays an event but never loses
it: the sweep (beat, every minute) hands rows that are due, or whose lease ran out, to batch
tasks, and does not queue a row again while its task is presumed alive.

A batch (`deliver_batch`) is claimed in one statement, sent per endpoint over one keep-alive
connection to the address checked for it (endpoints in parallel, WEBHOOK_SEND_CONCURRENCY),
in event order, and recorded in one statement; each endpoint's failure count is then
updated once. After an endpoint fails in a batch its remaining events are given back
uncounted, to go with its next retry.

Delivery is at least once: a worker that dies after the partner answered but before the row
was marked leaves the row to be sent again, with the same event id, which receivers use to
drop duplicates (docs/api.md). Events carry no personal data; the partner fetches the referral
through the API, where what it sees is decided by the consent and audited.

Signing (docs/api.md has a verification example):

    ACS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

This package's own module is the delivery (claim, send, record); `outbox` queues the events and
sweeps for the due ones, `endpoints` registers, disables and enables partner endpoints, and
`signing` signs and verifies. Every public name is importable from `resources.webhooks`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from acs import outbound_http
from acs.batches import process_pool
from acs.metrics import event_count
from acs.retry import backoff
from resources.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from resources.webhooks.endpoints import (
    UnsafeEndpoint,
    check_address,
    endpoint_create,
    endpoint_disable,
    endpoint_enable,
)
from resources.webhooks.outbox import (
    SWEEP_BATCH,
    SWEEP_BATCHES_PER_STATEMENT,
    SWEEP_SECONDS,
    deliveries_queue,
    deliveries_queue_due,
    deliveries_sweep,
    event_payload,
    event_queue,
    referral_url,
)
from resources.webhooks.signing import sign, verify

__all__ = [
    "LEASE_MARGIN",
    "SWEEP_BATCH",
    "SWEEP_BATCHES_PER_STATEMENT",
    "SWEEP_SECONDS",
    "USER_AGENT",
    "UnsafeEndpoint",
    "check_address",
    "deliver",
    "deliver_batch",
    "deliveries_queue",
    "deliveries_queue_due",
    "deliveries_sweep",
    "endpoint_create",
    "endpoint_disable",
    "endpoint_enable",
    "event_payload",
    "event_queue",
    "referral_url",
    "sign",
    "verify",
]

logger = logging.getLogger(__name__)

# A sending row whose worker has not reported back after this is taken up again.
# A lease outlives the longest a task may run (Celery's hard time limit), so it lapses only
# when its worker is gone.
LEASE_MARGIN = timedelta(seconds=30)
USER_AGENT = "ACS-Webhooks/1"


# One statement takes the batch: the lease (past the task's hard time limit), the attempt
# counted (the attempt number is the lease's token: only its holder writes the result), the
# queue mark cleared.
CLAIM = """
UPDATE resources_webhookdelivery AS d
SET status = 'sending', lease_until = %(lease)s, attempts = d.attempts + 1,
    queued_until = NULL, updated_at = %(now)s
FROM (
    SELECT id FROM resources_webhookdelivery
    WHERE id = ANY(%(ids)s) AND next_attempt_at <= %(now)s
      AND (status = 'pending' OR (status = 'sending' AND lease_until < %(now)s))
    ORDER BY id
    FOR UPDATE SKIP LOCKED
) AS claimed
WHERE d.id = claimed.id
RETURNING d.id
"""

# One statement records a batch, each row only where this attempt still holds it.
RECORD = """
UPDATE resources_webhookdelivery AS d
SET status = v.status, attempts = v.attempts, lease_until = NULL, updated_at = %s,
    last_status_code = CASE WHEN v.counted THEN v.code ELSE d.last_status_code END,
    last_error = COALESCE(v.last_error, d.last_error),
    next_attempt_at = COALESCE(v.next_attempt_at, d.next_attempt_at),
    delivered_at = COALESCE(v.delivered_at, d.delivered_at)
FROM (VALUES {values}) AS v(
    id, claimed, status, attempts, counted, code, last_error, next_attempt_at, delivered_at
)
WHERE d.id = v.id AND d.status = 'sending' AND d.attempts = v.claimed
RETURNING d.id
"""
RECORD_ROW = (
    "(%s::bigint, %s::int, %s::varchar, %s::int, %s::boolean, %s::int, %s::varchar,"
    " %s::timestamptz, %s::timestamptz)"
)


@dataclass
class _Result:
    status: str
    counted: bool = True
    code: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


def _claim_many(pks: list[int], now: datetime) -> list[WebhookDelivery]:
    lease = now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + LEASE_MARGIN
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, {"ids": list(pks), "now": now, "lease": lease})
        claimed = [pk for (pk,) in cursor.fetchall()]
    if not claimed:
        return []
    return list(
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk__in=claimed)
        .order_by("next_attempt_at", "id")
    )


def _post(
    session: outbound_http.PinnedSession, delivery: WebhookDelivery
) -> tuple[str, int | None]:
    """One signed POST; the error ("" when delivered) and the HTTP status."""
    import requests

    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    try:
        response = session.post(
            endpoint.url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "ACS-Event-Id": str(delivery.public_id),
                "ACS-Event-Type": delivery.event_type,
                "ACS-Signature": sign(endpoint.secret, timestamp, body),
            },
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            verify=settings.WEBHOOK_CA_BUNDLE or True,
        )
    except requests.RequestException as exc:
        return type(exc).__name__, None
    code = response.status_code
    return ("" if 200 <= code < 300 else f"HTTP {code}"), code


def _failed(delivery: WebhookDelivery, now: datetime, error: str, code: int | None) -> _Result:
    exhausted = delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    return _Result(
        status=DeliveryStatus.FAILED if exhausted else DeliveryStatus.PENDING,
        code=code,
        error=error[:500],
        next_attempt_at=now + backoff(delivery.attempts),
    )


def _given_back(delivery: WebhookDelivery, at: datetime) -> _Result:
    """Not sent, no attempt counted: it goes again at `at`."""
    return _Result(status=DeliveryStatus.PENDING, counted=False, next_attempt_at=at)


def _send_to_endpoint(
    deliveries: list[WebhookDelivery], now: datetime, deadline: float
) -> dict[int, _Result]:
    """Each delivery to one endpoint, in order, over one keep-alive connection to the address
    checked for this batch (in a thread of the pool: no database here). After a failure the
    rest are given back uncounted, to go with the failed one's retry."""
    results: dict[int, _Result] = {}
    endpoint = deliveries[0].endpoint
    try:
        session = outbound_http.PinnedSession(
            endpoint.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS
        )
    except UnsafeEndpoint as exc:
        first = _failed(deliveries[0], now, str(exc), None)
        results[deliveries[0].pk] = first
        for delivery in deliveries[1:]:
            results[delivery.pk] = _given_back(delivery, first.next_attempt_at)
        return results
    with session:
        retry_at = None
        for delivery in deliveries:
            if retry_at is not None:
                results[delivery.pk] = _given_back(delivery, retry_at)
                continue
            if time.time() >= deadline:
                results[delivery.pk] = _given_back(delivery, now)
                continue
            error, code = _post(session, delivery)
            if error:
                results[delivery.pk] = _failed(delivery, now, error, code)
                retry_at = results[delivery.pk].next_attempt_at
            else:
                results[delivery.pk] = _Result(
                    status=DeliveryStatus.DELIVERED,
                    code=code,
                    error="",
                    delivered_at=timezone.now(),
                )
    return results


def _record(deliveries: list[WebhookDelivery], results: dict[int, _Result]) -> set[int]:
    params: list = [timezone.now()]
    for delivery in deliveries:
        result = results[delivery.pk]
        params += [
            delivery.pk,
            delivery.attempts,
            result.status,
            delivery.attempts if result.counted else delivery.attempts - 1,
            result.counted,
            result.code,
            result.error,
            result.next_attempt_at,
            result.delivered_at,
        ]
    sql = RECORD.format(values=", ".join([RECORD_ROW] * len(deliveries)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}


def _endpoint_record(endpoint_id: int, outcomes: list[_Result]) -> None:
    """The endpoint's failure count after this batch's attempts to it (in order): reset by a
    success, one more per failure; disabled when it reaches WEBHOOK_DISABLE_AFTER_FAILURES."""
    counted = [r for r in outcomes if r.counted and r.status != DeliveryStatus.CANCELLED]
    if not counted:
        return
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        fields = ["consecutive_failures", "updated_at"]
        for result in counted:
            if result.status == DeliveryStatus.DELIVERED:
                endpoint.consecutive_failures = 0
                endpoint.last_success_at = now
            else:
                endpoint.consecutive_failures += 1
        if endpoint.last_success_at == now:
            fields.append("last_success_at")
        endpoint.save(update_fields=fields)
        if endpoint.active and endpoint.consecutive_failures >= (
            settings.WEBHOOK_DISABLE_AFTER_FAILURES
        ):
            error = next(r.error for r in reversed(counted) if r.error)
            endpoint_disable(
                endpoint=endpoint,
                reason=f"{endpoint.consecutive_failures} failed deliveries in a row ({error})",
            )


def _pool():
    """This process's delivery threads."""
    return process_pool("webhook-send", settings.WEBHOOK_SEND_CONCURRENCY)


def deliver_batch(
    pks: list[int], *, now: datetime | None = None, deadline: float | None = None
) -> dict[int, str]:
    """One attempt at each of `pks` that is ours to take (due, and not held by a live worker):
    claimed in one statement, sent per endpoint, recorded in one statement. Returns the
    status each row was left in; rows that were not ours are absent."""
    now = now or timezone.now()
    if deadline is None:
        budget = settings.CELERY_TASK_SOFT_TIME_LIMIT - 2 * settings.WEBHOOK_TIMEOUT_SECONDS - 5
        deadline = time.time() + max(budget, 5)
    deliveries = _claim_many(pks, now)
    if not deliveries:
        return {}
    results: dict[int, _Result] = {}
    by_endpoint: dict[int, list[WebhookDelivery]] = {}
    for delivery in deliveries:
        if not delivery.endpoint.active:
            results[delivery.pk] = _Result(
                status=DeliveryStatus.CANCELLED, counted=True, error="The endpoint is disabled."
            )
        else:
            by_endpoint.setdefault(delivery.endpoint_id, []).append(delivery)
    groups = list(by_endpoint.values())
    if len(groups) == 1:  # no thread for one endpoint
        results.update(_send_to_endpoint(groups[0], now, deadline))
    elif groups:
        futures = [_pool().submit(_send_to_endpoint, group, now, deadline) for group in groups]
        for future in futures:
            results.update(future.result())
    written = _record(deliveries, results)
    for endpoint_id, group in by_endpoint.items():
        _endpoint_record(endpoint_id, [results[d.pk] for d in group if d.pk in written])
    for delivery in deliveries:
        result = results[delivery.pk]
        if delivery.pk in written and result.error and result.status != DeliveryStatus.CANCELLED:
            outcome = "failed" if result.status == DeliveryStatus.FAILED else "retrying"
            # After the statement that recorded it (immediately, outside a transaction).
            transaction.on_commit(
                partial(event_count, "acs_webhook_delivery_failures", outcome=outcome)
            )
            logger.info(
                "webhook delivery %s attempt %s failed: %s",
                delivery.public_id,
                delivery.attempts,
                result.error,
            )
    # Given back because the task's time ran out: queued again at once.
    again = [
        d.pk
        for d in deliveries
        if d.pk in written and not results[d.pk].counted and results[d.pk].next_attempt_at == now
    ]
    if again:
        deliveries_queue(again)
    return {d.pk: results[d.pk].status for d in deliveries if d.pk in written}


def deliver(pk: int, *, now: datetime | None = None) -> str | None:
    """Make one attempt at delivery `pk`; returns its status after, or None when the row was
    not ours to send (already done, not due, or another worker holds it)."""
    return deliver_batch([pk], now=now).get(pk)
