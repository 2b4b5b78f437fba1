"""Celery tasks of the cases app: thin adapters over services."""

from celery import shared_task
from django.conf import settings

from acs.batches import outbox_sweep
from cases.services import notifications
from cases.services.followups import ESCALATION_BATCH, followups_escalate_overdue


@shared_task(name="cases.tasks.escalate_overdue_follow_ups", ignore_result=True)
def escalate_overdue_follow_ups() -> int:
    """Escalate follow-ups whose window ran out, in bounded batches until none are left."""
    total = 0
    while True:
        done = followups_escalate_overdue(batch=ESCALATION_BATCH)
        total += done
        if done < ESCALATION_BATCH:
            return total


@shared_task(name="cases.tasks.send_notification", ignore_result=True)
def send_notification(notification_id: int) -> str | None:
    """One attempt at one notification; harmless when it was already sent or is not due."""
    return notifications.notification_send(notification_id)


@shared_task(name="cases.tasks.send_notifications", ignore_result=True)
def send_notifications(notification_ids: list[int]) -> int:
    """One attempt at each of a batch of notifications: claimed and checked here, then sent
    concurrently and recorded together by this process's threads while the worker takes its
    next task (`notifications_start_batch`); harmless for the rows already sent, not due, or
    held by another task. Returns how many rows it claimed."""
    return notifications.notifications_start_batch(notification_ids)


@shared_task(name="cases.tasks.sweep_notifications", ignore_result=True)
def sweep_notifications() -> int:
    """Hand every notification that is due, or whose worker died mid-send, to batch tasks: one
    task per NOTIFICATION_BATCH_SIZE rows, each row marked queued so that the next sweep does
    not queue it again while its task waits. No ceiling but time: a run stops after
    SWEEP_SECONDS and the next goes on."""
    # Several batches' rows per marking statement: each statement reads the due index, so a
    # backlog of 20,000 costs 40 statements, not 400.
    return outbox_sweep(
        queue_due=lambda rows: notifications.notifications_queue_due(batch=rows),
        queue=notifications.notifications_queue,
        rows=settings.NOTIFICATION_BATCH_SIZE * notifications.SWEEP_BATCHES_PER_STATEMENT,
        seconds=notifications.SWEEP_SECONDS,
    )


@shared_task(name="cases.tasks.board_alerts", ignore_result=True)
def board_alerts() -> int:
    """Tell the on-duty supervisors of the board's threshold crossings, each once."""
    from cases.board.alerts import board_alerts_schedule

    return board_alerts_schedule()


@shared_task(name="cases.tasks.morning_digest", ignore_result=True)
def morning_digest() -> int:
    """Each case manager's follow-ups due today and overdue, by e-mail (once a day)."""
    from cases.services.digests import digests_schedule

    return digests_schedule()


@shared_task(name="cases.tasks.sweep_expired_copies", ignore_result=True)
def sweep_expired_copies() -> dict[str, int]:
    """Remove the short-lived copies of personal data past their own expiry (idempotency
    records, call events' first results, sent texts, expired sessions)."""
    from cases.services.retention import retention_expired_copies

    return retention_expired_copies()


@shared_task(
    name="cases.tasks.refresh_transparency",
    ignore_result=True,
    # A full refresh of millions of calls takes tens of seconds, past the default limits.
    soft_time_limit=600,
    time_limit=660,
)
def refresh_transparency(full: bool | None = None) -> int:
    """Recompute the transparency rollups: recent months, or every month once a day or when
    `full`. Harmless when it overlaps another run (that one holds the lock; this one skips)."""
    from cases.services.transparency import transparency_refresh

    refresh = transparency_refresh(full=full)
    return refresh.rows if refresh else 0


# Exports live in their own package; imported here so that autodiscovery registers them.
from cases.exports.tasks import cleanup_exports, run_export  # noqa: E402, F401
