from celery import shared_task

from acs import health


@shared_task(name="acs.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Record that a worker took a task off the queue: /healthz reads this."""
    health.heartbeat_record()


@shared_task(name="acs.tasks.seal_audit", ignore_result=True)
def seal_audit() -> int:
    """Put the audit events written since the last run onto the hash chain."""
    from acs.audit_chain import CHUNK, audit_seal

    total = 0
    while (done := audit_seal()) == CHUNK:
        total += done
    return total + done
