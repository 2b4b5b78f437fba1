"""Partner webhooks: signed referral events, delivered by Celery from an outbox table.

A referral service calls `event_queue` inside its transaction: one `WebhookDelivery` row per
active endpoint of the partner, and, once the transaction commits, a task per row. The row is
the truth and the queue only carries its id, so a lost task or a dead worker delays an event
but never loses it: `deliveries_sweep` (beat, every minute) re-queues rows that are due, or
whose lease ran out.

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
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from acs import outbound_http
from acs.metrics import event_count
from acs.retry import backoff
from resources.models import DeliveryStatus, Referral, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200
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
    transaction.on_commit(lambda: _enqueue(ids))
    return rows


def _enqueue(ids: list[int]) -> None:
    from resources.tasks import deliver_webhook

    for pk in ids:
        try:
            deliver_webhook.delay(pk)
        except Exception:  # the broker is down: the sweep will find the row
            logger.warning("webhook delivery %s not queued; the sweep will retry", pk)


def check_address(url: str) -> None:
    """Refuse endpoints that are not HTTPS or that resolve to this machine or a private
    network (server-side request forgery), unless WEBHOOK_ALLOW_PRIVATE_HOSTS. Each delivery
    checks again, and connects only to the address it checked (acs/outbound_http.py)."""
    outbound_http.check(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS)


def _claim(pk: int, now: datetime) -> WebhookDelivery | None:
    """Take the row for one attempt: pending and due, or sending with its lease run out."""
    lease = now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + LEASE_MARGIN
    claimed = (
        WebhookDelivery.objects.filter(pk=pk, next_attempt_at__lte=now)
        .filter(
            Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
        )
        .update(
            status=DeliveryStatus.SENDING,
            lease_until=lease,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=pk)


def deliver(pk: int, *, now: datetime | None = None) -> str | None:
    """Make one attempt at delivery `pk`; returns its status after, or None when the row was
    not ours to send (already done, not due, or another worker holds it)."""
    import requests

    now = now or timezone.now()
    delivery = _claim(pk, now)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=pk).update(
            status=DeliveryStatus.CANCELLED,
            last_error="The endpoint is disabled.",
            lease_until=None,
            updated_at=timezone.now(),
        )
        return DeliveryStatus.CANCELLED
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    error, code = "", None
    try:
        response = outbound_http.post(
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
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS,
            verify=settings.WEBHOOK_CA_BUNDLE or True,
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except UnsafeEndpoint as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = type(exc).__name__
    return _record(delivery, error=error, code=code)


def _record(delivery: WebhookDelivery, *, error: str, code: int | None) -> str:
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if not error:
            WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
                status=DeliveryStatus.DELIVERED,
                delivered_at=now,
                last_status_code=code,
                last_error="",
                lease_until=None,
                updated_at=now,
            )
            endpoint.consecutive_failures = 0
            endpoint.last_success_at = now
            endpoint.save(update_fields=["consecutive_failures", "last_success_at", "updated_at"])
            return DeliveryStatus.DELIVERED
        exhausted = delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
        status = DeliveryStatus.FAILED if exhausted else DeliveryStatus.PENDING
        WebhookDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            status=status,
            last_status_code=code,
            last_error=error[:500],
            lease_until=None,
            next_attempt_at=now + backoff(delivery.attempts),
            updated_at=now,
        )
        endpoint.consecutive_failures += 1
        endpoint.save(update_fields=["consecutive_failures", "updated_at"])
        if endpoint.active and endpoint.consecutive_failures >= (
            settings.WEBHOOK_DISABLE_AFTER_FAILURES
        ):
            endpoint_disable(
                endpoint=endpoint,
                reason=f"{endpoint.consecutive_failures} failed deliveries in a row ({error})",
            )
        outcome = "failed" if exhausted else "retrying"
        transaction.on_commit(lambda: event_count("acs_webhook_delivery_failures", outcome=outcome))
        logger.info(
            "webhook delivery %s attempt %s failed: %s",
            delivery.public_id,
            delivery.attempts,
            error,
        )
        return status


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
    """Ids of deliveries due now (pending, or sending with a lapsed lease); the caller queues
    them. Overlapping sweeps may hand out the same id: the claim in `deliver` makes the
    second task a no-op. SKIP LOCKED only keeps the sweep from waiting on a claim."""
    now = now or timezone.now()
    with transaction.atomic():
        return list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .filter(
                Q(status=DeliveryStatus.PENDING)
                | Q(status=DeliveryStatus.SENDING, lease_until__lt=now)
            )
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:batch]
        )
