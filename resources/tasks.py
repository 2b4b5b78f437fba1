"""Celery tasks of the resources app: thin adapters over services (they take ids, re-read the
rows, and do nothing when the work is already done)."""

from __future__ import annotations

import time
from collections import Counter

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from resources import webhooks
from resources.services.referrals import EXPIRY_BATCH, referrals_expire_overdue
from resources.services.search import directory_words_rebuild


@shared_task(name="resources.tasks.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: int) -> str | None:
    """One delivery (tasks queued before batches; harmless when already done)."""
    return webhooks.deliver(delivery_id)


@shared_task(name="resources.tasks.deliver_webhooks", ignore_result=True)
def deliver_webhooks(delivery_ids: list[int]) -> dict[str, int]:
    """One attempt at each of a batch of deliveries (claimed together, sent per endpoint over
    keep-alive connections, recorded together); how many ended in each status."""
    return dict(Counter(webhooks.deliver_batch(delivery_ids).values()))


@shared_task(name="resources.tasks.sweep_webhooks", ignore_result=True)
def sweep_webhooks() -> int:
    """Hand every delivery that is due, or whose worker died mid-send, to batch tasks, each
    row marked queued so that the next sweep does not queue it again while its task waits.
    A run stops after SWEEP_SECONDS and the next goes on."""
    total = 0
    stop = time.monotonic() + webhooks.SWEEP_SECONDS
    rows = settings.WEBHOOK_BATCH_SIZE * webhooks.SWEEP_BATCHES_PER_STATEMENT
    while time.monotonic() < stop:
        ids = webhooks.deliveries_queue_due(batch=rows)
        if not ids or not webhooks.deliveries_queue(ids, marked=True):
            break
        total += len(ids)
    return total


@shared_task(name="resources.tasks.expire_referrals", ignore_result=True)
def expire_referrals() -> int:
    """Expire referrals nobody answered in time, in bounded batches until none are left; the
    referring staff member is told through the notification outbox."""
    total = 0
    while True:
        done = len(referrals_expire_overdue(batch=EXPIRY_BATCH))
        total += done
        if done < EXPIRY_BATCH:
            return total


@shared_task(name="resources.tasks.rebuild_directory_words", ignore_result=True)
def rebuild_directory_words() -> int:
    """Recount the directory's words for typo correction; running it twice does no harm."""
    return directory_words_rebuild()


@shared_task(name="resources.tasks.roll_opening_intervals", ignore_result=True)
def roll_opening_intervals() -> int | None:
    """Move the directory's opening intervals to today's window (once a day: a run that finds
    it done, or another run holding the lock, returns None), in bounded batches."""
    from resources.services.opening_hours import opening_intervals_roll

    return opening_intervals_roll()


def _link(path: str) -> str:
    return f"{settings.ACS_BASE_URL}{path}"


@shared_task(name="resources.tasks.alert_endpoint_disabled", ignore_result=True)
def alert_endpoint_disabled(endpoint_id: int) -> bool:
    from resources.models import WebhookEndpoint

    endpoint = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, active=False)
        .select_related("organization")
        .first()
    )
    if endpoint is None or not settings.ACS_ALERT_EMAILS:
        return False
    send_mail(
        subject=f"Webhook endpoint of {endpoint.organization.name} disabled",
        message=(
            f"Deliveries to {endpoint.url} failed repeatedly ({endpoint.disabled_reason}), "
            "so the endpoint was disabled. The partner still sees its referrals by polling "
            "and in the portal. Re-enable it in the admin once the partner has fixed it:\n"
            + _link(f"/admin/resources/webhookendpoint/{endpoint.pk}/change/")
        ),
        from_email=None,
        recipient_list=list(settings.ACS_ALERT_EMAILS),
    )
    return True
