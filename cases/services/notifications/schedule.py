"""Putting messages in the outbox and handing due rows to batch tasks: scheduling,
cancelling, the sweep's selection and marking, and forgetting old texts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from acs.batches import in_batches
from acs.on_commit import enqueue_on_commit
from cases import messages
from cases.models import Notification

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from cases.models import FollowUp, Resident
    from resources.models import Organization, Referral

logger = logging.getLogger("cases.services.notifications")

N = Notification
SWEEP_BATCH = 500


def lease() -> timedelta:
    """How long an attempt holds its row: longer than a task may live (Celery's hard time
    limit), so a lease only lapses when its worker is gone."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


# How long one sweep run may go on handing out batches (a backlog after an outage or the 8 am
# release): no ceiling on rows, only on the run's time; the next run goes on.
SWEEP_SECONDS = 40
# The sweep marks this many batch tasks' rows per statement (notifications_queue splits them).
SWEEP_BATCHES_PER_STATEMENT = 10
# A find_sent check looks back this much before the in-flight mark (clock skew).
IN_FLIGHT_SLACK = timedelta(minutes=2)


def notification_schedule(
    *,
    template: str,
    channel: str,
    due_at: datetime | None = None,
    resident: Resident | None = None,
    user: AbstractBaseUser | None = None,
    organization: Organization | None = None,
    context: dict[str, Any] | None = None,
    follow_up: FollowUp | None = None,
    referral: Referral | None = None,
    dedupe_key: str | None = None,
    expires_at: datetime | None = None,
) -> Notification:
    """Put a message in the outbox. With a `dedupe_key`, scheduling it again returns the
    first row. Call inside the transaction of the event that causes it."""
    if template not in messages.TEMPLATES:
        raise ValueError(f"Unknown template {template!r}")
    if resident is not None:
        kind, language = N.Recipient.RESIDENT, resident.preferred_language or "en"
    elif user is not None:
        kind, language = N.Recipient.STAFF, "en"
    elif organization is not None:
        kind, language = N.Recipient.PARTNER, "en"
    else:
        raise ValueError("A notification needs a recipient.")
    due_at = due_at or timezone.now()
    expires_at = expires_at or due_at + messages.LIFETIME.get(template, messages.DEFAULT_LIFETIME)
    fields = {
        "recipient_kind": kind,
        "resident": resident,
        "user": user,
        "organization": organization,
        "channel": channel,
        "template": template,
        "language": language if language in messages.LANGUAGES else "en",
        "context": context or {},
        "follow_up": follow_up,
        "referral": referral,
        "due_at": due_at,
        "next_attempt_at": due_at,
        "expires_at": expires_at,
    }
    if dedupe_key:
        notification, created = N.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
    else:
        notification, created = N.objects.create(**fields), True
    if created and due_at <= timezone.now():
        # The rows one transaction scheduled are queued together when it commits: one batch
        # task per NOTIFICATION_BATCH_SIZE rows, not one task each.
        enqueue_on_commit(notifications_queue, [notification.pk])
    return notification


def _texts_cutoff(now: datetime | None = None) -> datetime:
    from cases.services.inbound import CHECKIN_REPLY_WINDOW

    # Never before a reply can no longer be matched to its check-in by the number.
    keep: timedelta = max(settings.NOTIFICATION_TEXT_TTL, CHECKIN_REPLY_WINDOW)
    return (now or timezone.now()) - keep


def notification_texts_expired(*, now: datetime | None = None) -> QuerySet[Notification]:
    """Sent rows still holding their address or text past NOTIFICATION_TEXT_TTL."""
    return N.objects.filter(sent_at__lte=_texts_cutoff(now)).filter(~Q(to_address="") | ~Q(body=""))


def notification_texts_forget(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Blank the address and text of sent notifications past NOTIFICATION_TEXT_TTL, batch
    after batch; returns how many."""
    now = now or timezone.now()
    return in_batches(
        notification_texts_expired(now=now),
        order_by=("sent_at", "id"),
        batch=batch,
        apply=lambda rows: rows.update(to_address="", body="", updated_at=now),
    )


def queued_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.NOTIFICATION_QUEUED_SECONDS)


def notifications_queue(
    pks: list[int], *, countdown: float | None = None, marked: bool = False
) -> bool:
    """Hand `pks` to batch tasks (NOTIFICATION_BATCH_SIZE each), their `queued_until` set
    first (unless `marked` already, as the sweep's statement does); when the broker is down
    it is cleared again, so that the sweep finds them when it is back. False when not
    queued."""
    from cases.tasks import send_notifications

    if not marked:
        N.objects.filter(pk__in=pks).update(queued_until=queued_until())
    size = max(1, settings.NOTIFICATION_BATCH_SIZE)
    for i in range(0, len(pks), size):
        batch_ids = pks[i : i + size]
        try:
            send_notifications.apply_async((batch_ids,), countdown=countdown)
        except Exception:  # the broker is down: the sweep finds the rows when it is back
            left = pks[i:]
            N.objects.filter(pk__in=left).update(queued_until=None)
            logger.warning("%s notifications not queued; the sweep will send them", len(left))
            return False
    return True


def notifications_cancel(
    *,
    follow_up: FollowUp | None = None,
    referral: Referral | None = None,
    reason: str,
    recipients: tuple[str, ...] = (N.Recipient.RESIDENT,),
) -> int:
    """Cancel messages still waiting about a follow-up or referral that no longer needs
    them: by default those to the resident (staff notices about it still go out)."""
    rows = N.objects.filter(status=N.Status.PENDING, recipient_kind__in=recipients)
    if follow_up is not None:
        rows = rows.filter(follow_up=follow_up)
    if referral is not None:
        rows = rows.filter(referral=referral)
    return rows.update(
        status=N.Status.CANCELLED, last_error=reason[:500], updated_at=timezone.now()
    )


def notifications_due(
    *, now: datetime | None = None, batch: int = SWEEP_BATCH, after_pk: int = 0
) -> list[int]:
    """Ids of rows to hand out now: pending and due, or sending with a lapsed lease, and not
    in a batch task presumed alive (`queued_until`), in id order from `after_pk`. SKIP
    LOCKED: rows a sender holds right now are passed over, not waited for. The sweep runs
    the same selection in `notifications_queue_due`, marking what it finds."""
    now = now or timezone.now()
    with transaction.atomic():
        return list(
            N.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now, pk__gt=after_pk)
            .filter(Q(status=N.Status.PENDING) | Q(status=N.Status.SENDING, lease_until__lt=now))
            .filter(Q(queued_until__isnull=True) | Q(queued_until__lt=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )


# Oldest due first, read in the due index's order (not the primary key's, which would walk
# every row scheduled for later), joined back by id (`WHERE id IN (...)` let the planner hash
# the whole table at each run).
QUEUE_DUE = """
UPDATE cases_notification AS n SET queued_until = %(until)s
FROM (
    SELECT id FROM cases_notification
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= %(now)s
      AND (status = 'pending' OR lease_until < %(now)s)
      AND (queued_until IS NULL OR queued_until < %(now)s)
    ORDER BY next_attempt_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE n.id = due.id
RETURNING n.id
"""


def notifications_queue_due(*, now: datetime | None = None, batch: int | None = None) -> list[int]:
    """One statement: up to `batch` rows that are due and in no live batch task, marked as
    queued (`queued_until`); their ids, for the caller to hand to one batch task."""
    now = now or timezone.now()
    batch = batch or settings.NOTIFICATION_BATCH_SIZE
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_DUE, {"until": queued_until(now), "now": now, "batch": batch})
        return sorted(pk for (pk,) in cursor.fetchall())
