"""The Celery app. Settings come from Django settings (CELERY_*); the beat schedule lives here.
Queues by kind of work (realtime, bulk, maintenance) and the routing: acs/queues.py."""

import logging
import os
from typing import Any

from celery import Celery, bootsteps
from celery.signals import beat_init, worker_process_shutdown, worker_ready, worker_shutdown

from acs.queues import KINDS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acs.settings")

app = Celery("acs")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, in code so that it is reviewed and versioned like everything else.
app.conf.beat_schedule = {
    # One heartbeat into each queue (routed by its argument): /healthz names a queue not served.
    **{
        f"worker-heartbeat-{kind}": {
            "task": "acs.tasks.worker_heartbeat",
            "schedule": 30.0,
            "args": (kind,),
            # A heartbeat that waited in the queue for longer than this proves nothing.
            "options": {"expires": 25},
        }
        for kind in KINDS
    },
    "escalate-overdue-follow-ups": {
        "task": "cases.tasks.escalate_overdue_follow_ups",
        "schedule": 15 * 60.0,
        "options": {"expires": 10 * 60},
    },
    "seal-audit": {
        "task": "acs.tasks.seal_audit",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "sweep-notifications": {
        "task": "cases.tasks.sweep_notifications",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "board-alerts": {
        "task": "cases.tasks.board_alerts",
        # A crossing reaches the supervisors within a minute (and the outbox's sweep).
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "morning-digest": {
        "task": "cases.tasks.morning_digest",
        # Hourly; the digest itself is sent once a day, at DIGEST_HOUR department time.
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "sweep-webhooks": {
        "task": "resources.tasks.sweep_webhooks",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "expire-referrals": {
        "task": "resources.tasks.expire_referrals",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    "rebuild-directory-words": {
        "task": "resources.tasks.rebuild_directory_words",
        # Text search corrects misspellings from this list; writes add new words at once
        # (a trigger), this drops the ones no service uses any more and recounts the rest.
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "roll-opening-intervals": {
        "task": "resources.tasks.roll_opening_intervals",
        # Hourly; the window moves once a day, at the first run after local midnight (the task
        # decides), so a missed run is made up within the hour.
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "cleanup-exports": {
        "task": "cases.tasks.cleanup_exports",
        # Export files are removed once they expire (EXPORTS_TTL_HOURS); the rows stay.
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "sweep-expired-copies": {
        "task": "cases.tasks.sweep_expired_copies",
        # Short-lived copies of personal data past their own expiry: idempotency records and
        # call events' first results (IDEMPOTENCY_TTL), sent texts (NOTIFICATION_TEXT_TTL),
        # expired sessions. docs/security.md, "Stored copies of personal data".
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "refresh-transparency": {
        "task": "cases.tasks.refresh_transparency",
        # Recent months every 15 minutes; every month once a day (the task decides).
        "schedule": 15 * 60.0,
        "options": {"expires": 10 * 60},
    },
}


logger = logging.getLogger(__name__)

# Celery ships no types: its app, worker, senders and requests below are Any.


def _served_kinds(app_: Any) -> list[str]:
    """The kinds of the queues this worker consumes (-Q, or all of them)."""
    from acs.queues import kind_of_queue

    return [kind for name in app_.amqp.queues.consume_from if (kind := kind_of_queue(name))]


@worker_ready.connect
def _announce_worker(
    sender: Any, **kwargs: object
) -> None:  # pragma: no cover - exercised by the worker test
    from acs.startup import announce
    from acs.tasks import worker_heartbeat

    announce("worker")
    # Through each queue it serves, not a direct call: the first heartbeats prove the broker
    # path too.
    for kind in _served_kinds(sender.app):
        worker_heartbeat.delay(kind)


class BusyHeartbeat(bootsteps.StartStopStep):
    """While this worker runs a task taken off the bulk queue, its main process records the bulk
    heartbeat every HEALTH_BUSY_HEARTBEAT_SECONDS: a bulk worker busy for half an hour with an
    export serves its queue even though the heartbeat task waits behind the export. (An idle
    queue is proven by the heartbeat task itself, through the broker.) Only bulk: realtime and
    maintenance tasks are short, so a heartbeat that cannot get through them means their queue
    is not served. The prefork pool only: under `solo` the main process runs the task."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: object) -> None:
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        from django.conf import settings

        every = float(settings.HEALTH_BUSY_HEARTBEAT_SECONDS)
        self.tref = worker.timer.call_repeatedly(every, self.record, (), priority=10)

    def stop(self, worker: Any) -> None:
        if self.tref:
            self.tref.cancel()
            self.tref = None

    def record(self) -> None:  # pragma: no cover - exercised by tests/acs/test_queues_worker.py
        from celery.worker import state

        from acs import health
        from acs.queues import BULK, kind_of_queue

        for request in list(state.active_requests):
            if kind_of_queue((request.delivery_info or {}).get("routing_key") or "") == BULK:
                try:
                    health.heartbeat_record(BULK)
                except Exception as exc:  # the cache is down: /healthz says so on its own
                    logger.warning("busy heartbeat not recorded: %s", type(exc).__name__)
                return


app.steps["worker"].add(BusyHeartbeat)


@beat_init.connect
def _announce_beat(
    sender: Any, **kwargs: object
) -> None:  # pragma: no cover - exercised by `dev.py up`
    from acs.startup import announce

    announce("beat")


# A worker process keeps batches of texts going in its threads after their task returned
# (acs.batches.InFlight): one stopping warmly lets them finish and record their results
# rather than leaving them to their leases. A prefork child says so on its way out; a solo
# worker (and the prefork parent, which has none) at the worker's shutdown.
IN_FLIGHT_DRAIN_SECONDS = 60


@worker_process_shutdown.connect
@worker_shutdown.connect
def _finish_batches_in_flight(
    **kwargs: object,
) -> None:  # pragma: no cover - exercised in worker processes
    from acs.batches import in_flight_drain

    if not in_flight_drain(IN_FLIGHT_DRAIN_SECONDS, close=True):
        logging.getLogger(__name__).warning(
            "batches still in flight at shutdown: their leases will retake them"
        )
