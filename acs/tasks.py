from celery import shared_task

from acs import health


@shared_task(name="acs.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Record that a worker took a task off the queue: /healthz reads this."""
    health.heartbeat_record()
