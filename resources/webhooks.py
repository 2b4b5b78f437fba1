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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from acs import outbound_http
from acs.batches import process_pool
from acs.metrics import event_count
from acs.on_commit import enqueue_on_commit
from acs.retry import backoff
from resources.models import DeliveryStatus, Referral, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200
# A sweep run hands out batches for at most this long (under beat's one-minute period).
SWEEP_SECONDS = 40
# The sweep marks this many batch tasks' rows per statement (deliveries_queue splits them).
SWEEP_BATCHES_PER_STATEMENT = 10
# A sending row whose worker has not reported back after this is taken up again.
# A lease outlives the longest a task may run (Celery's hard time limit), so it lapses only
# when its worker is gone.
LEASE_MARGIN = timedelta(seconds=30)
USER_AGENT = "ACS-Webhooks/1"


# The endpoint's address is not one we send to (private network, bad scheme).
UnsafeEndpoint = outbound_http.UnsafeAddress


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now=None) -> bool:
    """What a receiver does (and what docs/api.md shows): check the MAC and the age."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    now = int(now if now is not None else time.time())
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


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


def check_address(url: str) -> None:
    """Refuse endpoints that are not HTTPS or that resolve to this machine or a private
    network (server-side request forgery), unless WEBHOOK_ALLOW_PRIVATE_HOSTS. Each batch of
    deliveries checks again, and connects only to the address it checked (acs/outbound_http.py)."""
    outbound_http.check(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS)


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


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to an endpoint: its waiting events are cancelled (the partner still sees
    every change by polling) and ACS is told by e-mail."""
    now = timezone.now()
    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:255]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
    WebhookDelivery.objects.filter(
        endpoint=endpoint, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    ).update(
        status=DeliveryStatus.CANCELLED,
        last_error="The endpoint was disabled.",
        lease_until=None,
        updated_at=now,
    )
    logger.warning("webhook endpoint %s disabled: %s", endpoint.public_id, reason)
    from resources.tasks import alert_endpoint_disabled

    transaction.on_commit(lambda: alert_endpoint_disabled.delay(endpoint.pk))


def endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.active = True
    endpoint.consecutive_failures = 0
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


def endpoint_create(*, organization, url: str, by=None) -> WebhookEndpoint:
    """Register a partner endpoint (portal or admin); the secret is shown to the partner once."""
    from django.db import IntegrityError

    from acs.errors import DomainError

    url = _normalized(url)
    try:
        check_address(url)
    except UnsafeEndpoint as exc:
        raise DomainError(str(exc), code="invalid", fields={"url": [str(exc)]}) from exc
    already = DomainError(
        "This endpoint is already registered.",
        code="invalid",
        fields={"url": ["Already registered."]},
    )
    if WebhookEndpoint.objects.filter(organization=organization, url=url).exists():
        raise already
    try:
        with transaction.atomic():
            return WebhookEndpoint.objects.create(organization=organization, url=url, created_by=by)
    except IntegrityError as exc:  # the same URL registered a moment ago
        raise already from exc


def _normalized(url: str) -> str:
    """Scheme and host in lower case (they are case-insensitive); path and query as given."""
    parts = urlsplit(url.strip())
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


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
