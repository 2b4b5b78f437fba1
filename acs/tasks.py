from __future__ import annotations

from celery import Task, shared_task

from acs import health
from acs.queues import REALTIME, QueueKind, kind_of_queue

# Each task's annotations are read at run time (tests/acs/test_task_payloads.py): every name
# in them is imported for real, none under TYPE_CHECKING.


@shared_task(name="acs.tasks.worker_heartbeat", ignore_result=True, bind=True)
def worker_heartbeat(self: Task, kind: QueueKind = REALTIME) -> None:
    """Record that a worker took this task off a queue: /healthz reads this. `kind` routes the
    task (acs/queues.py); what is recorded is the queue it actually came off."""
    queue = (self.request.delivery_info or {}).get("routing_key") or ""
    health.heartbeat_record(kind_of_queue(queue) or kind)


@shared_task(name="acs.tasks.seal_audit", ignore_result=True)
def seal_audit() -> int:
    """Put the audit events written since the last run onto the hash chain."""
    from acs.audit_chain import CHUNK, audit_seal

    total = 0
    while (done := audit_seal()) == CHUNK:
        total += done
    return total + done
