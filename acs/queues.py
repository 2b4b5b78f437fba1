"""Celery queues by kind of work, so that a long export never waits in front of a text.

- realtime: what a person or a partner waits for: texts and e-mails (`send_notifications`, a
  batch each), webhook deliveries, the sweeps that queue them when they fall due, the
  disabled-endpoint alert, the operations board's threshold alerts (`board_alerts`). Short
  tasks only.
- bulk: long work nobody waits on by the second: exports (up to 31 minutes), the transparency
  refresh. A bulk worker with one slot is enough; more slots run more exports at once.
- maintenance: periodic upkeep: retention and expiry sweeps, escalations, the audit seal, the
  morning digest, export cleanup, the directory's word list for text search and its opening
  intervals rolled to a new day.

Every task of ours is named in TASK_KINDS (tests/acs/test_queues.py fails on one that is not), and
`route_task` (app.conf.task_routes) sends it to its kind's queue. A queue's name is its kind
behind TASK_QUEUE_PREFIX (empty in production; each test run has its own, so a demo worker on
the same Redis never takes a test's task). The heartbeat is sent to each queue (acs/tasks.py):
/healthz names the queue that is not served (acs/health.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from django.conf import settings

# A kind is one of three constants: a task may take one without carrying anything personal.
QueueKind = Literal["realtime", "bulk", "maintenance"]
REALTIME: Final[QueueKind] = "realtime"
BULK: Final[QueueKind] = "bulk"
MAINTENANCE: Final[QueueKind] = "maintenance"
KINDS = (REALTIME, BULK, MAINTENANCE)

HEARTBEAT_TASK = "acs.tasks.worker_heartbeat"

TASK_KINDS = {
    # realtime
    "cases.tasks.send_notification": REALTIME,
    "cases.tasks.send_notifications": REALTIME,
    "cases.tasks.sweep_notifications": REALTIME,
    "cases.tasks.board_alerts": REALTIME,
    "resources.tasks.deliver_webhook": REALTIME,
    "resources.tasks.deliver_webhooks": REALTIME,
    "resources.tasks.sweep_webhooks": REALTIME,
    "resources.tasks.alert_endpoint_disabled": REALTIME,
    # bulk
    "cases.tasks.run_export": BULK,
    "cases.tasks.refresh_transparency": BULK,
    # maintenance
    "acs.tasks.seal_audit": MAINTENANCE,
    "cases.tasks.escalate_overdue_follow_ups": MAINTENANCE,
    "cases.tasks.morning_digest": MAINTENANCE,
    "cases.tasks.sweep_expired_copies": MAINTENANCE,
    "cases.tasks.cleanup_exports": MAINTENANCE,
    "resources.tasks.expire_referrals": MAINTENANCE,
    "resources.tasks.rebuild_directory_words": MAINTENANCE,
    "resources.tasks.roll_opening_intervals": MAINTENANCE,
    # The heartbeat goes to the queue named by its argument (see route_task).
    HEARTBEAT_TASK: REALTIME,
}


def queue_name(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind of queue {kind!r}; one of {', '.join(KINDS)}")
    return f"{settings.TASK_QUEUE_PREFIX}{kind}"


def kind_of_queue(name: str) -> str | None:
    """The kind behind a queue's name (None for a queue that is not one of ours)."""
    prefix = settings.TASK_QUEUE_PREFIX
    if name.startswith(prefix) and name[len(prefix) :] in KINDS:
        return name[len(prefix) :]
    return None


def parse_kinds(text: str) -> list[str]:
    """ "realtime,maintenance" -> the kinds, checked; empty -> every kind."""
    kinds = [k.strip() for k in text.split(",") if k.strip()] or list(KINDS)
    for kind in kinds:
        queue_name(kind)  # raises ValueError on an unknown one
    return kinds


def route_task(
    name: str,
    args: Sequence[Any] | None,
    kwargs: Mapping[str, Any] | None,
    options: Mapping[str, Any],
    task: object = None,
    **kw: object,
) -> dict[str, str] | None:
    """Celery router (app.conf.task_routes): the queue of the task's kind. Read at each send,
    so a prefix overridden at run time (tests, bench_notifications) applies."""
    if name == HEARTBEAT_TASK:
        kind = (kwargs or {}).get("kind") or (args[0] if args else REALTIME)
        return {"queue": queue_name(kind)}
    kind = TASK_KINDS.get(name)
    return {"queue": queue_name(kind)} if kind else None
