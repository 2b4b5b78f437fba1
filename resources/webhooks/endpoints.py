"""Partner endpoints: registered (an address we may send to), disabled (its waiting events
cancelled, ACS told) and enabled again."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from acs import outbound_http
from resources.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


# The endpoint's address is not one we send to (private network, bad scheme).
UnsafeEndpoint = outbound_http.UnsafeAddress


def check_address(url: str) -> None:
    """Refuse endpoints that are not HTTPS or that resolve to this machine or a private
    network (server-side request forgery), unless WEBHOOK_ALLOW_PRIVATE_HOSTS. Each batch of
    deliveries checks again, and connects only to the address it checked (acs/outbound_http.py)."""
    outbound_http.check(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_HOSTS)


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
