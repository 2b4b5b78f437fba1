"""The Celery app. Settings come from Django settings (CELERY_*); the beat schedule lives here."""

import os

from celery import Celery
from celery.signals import beat_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acs.settings")

app = Celery("acs")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic work, in code so that it is reviewed and versioned like everything else.
app.conf.beat_schedule = {
    "worker-heartbeat": {
        "task": "acs.tasks.worker_heartbeat",
        "schedule": 30.0,
        # A heartbeat that waited in the queue for longer than this proves nothing.
        "options": {"expires": 25},
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


@worker_ready.connect
def _announce_worker(sender, **kwargs):  # pragma: no cover - exercised by the worker test
    from acs.startup import announce
    from acs.tasks import worker_heartbeat

    announce("worker")
    # Through the queue, not a direct call: the first heartbeat proves the broker path too.
    worker_heartbeat.delay()


@beat_init.connect
def _announce_beat(sender, **kwargs):  # pragma: no cover - exercised by `dev.py up`
    from acs.startup import announce

    announce("beat")
