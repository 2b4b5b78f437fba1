"""Celery tasks of the cases app: thin adapters over services."""

from celery import shared_task

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
