"""Health of the parts the system needs: database, cache, broker and a live worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker-heartbeat"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def heartbeat_record() -> None:
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: database check failed: %s", type(exc).__name__)
        return Check("database", False, f"unreachable ({type(exc).__name__})")
    return Check("database", True, "ok")


def check_cache() -> Check:
    key = "health:probe"
    try:
        cache.set(key, "1", timeout=30)
        if cache.get(key) != "1":
            return Check("cache", False, "value written was not read back")
    except Exception as exc:
        logger.warning("health: cache check failed: %s", type(exc).__name__)
        return Check("cache", False, f"unreachable ({type(exc).__name__})")
    return Check("cache", True, "ok")


def check_broker() -> Check:
    from kombu import Connection

    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if folder.is_dir():
            return Check("broker", True, "ok (local filesystem transport)")
        return Check("broker", False, "queue folder is missing")
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            connect_timeout=2,
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        logger.warning("health: broker check failed: %s", type(exc).__name__)
        return Check("broker", False, f"unreachable ({type(exc).__name__})")
    return Check("broker", True, "ok")


def check_worker() -> Check:
    try:
        raw = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        return Check("worker", False, f"heartbeat unreadable ({type(exc).__name__})")
    if raw is None:
        return Check("worker", False, "no heartbeat yet: is a Celery worker (and beat) running?")
    age = timezone.now() - datetime.fromisoformat(raw)
    max_age = settings.HEALTH_WORKER_MAX_AGE
    if age > max_age:
        return Check(
            "worker",
            False,
            f"last heartbeat {age.total_seconds():.0f} s ago "
            f"(limit {max_age.total_seconds():.0f} s)",
        )
    return Check("worker", True, f"last heartbeat {int(age.total_seconds())} s ago")


def run_checks() -> list[Check]:
    return [check_database(), check_cache(), check_broker(), check_worker()]
