"""Health of the parts the system needs: database, cache, broker and a worker serving each
queue (realtime, bulk, maintenance: acs/queues.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from acs.queues import KINDS

logger = logging.getLogger(__name__)


def heartbeat_key(kind: str) -> str:
    return f"health:worker-heartbeat:{kind}"


HEARTBEAT_KEYS = [heartbeat_key(kind) for kind in KINDS]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    # The worker check's verdict per queue: {"bulk": Check(...), ...}.
    parts: dict[str, Check] = field(default_factory=dict)


def heartbeat_record(kind: str) -> None:
    """A worker took this queue's heartbeat off it (acs.tasks.worker_heartbeat), or is busy
    with one of its tasks (acs.celery.BusyHeartbeat)."""
    cache.set(heartbeat_key(kind), timezone.now().isoformat(), timeout=None)


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


def check_queue(kind: str, raw: str | None) -> Check:
    if raw is None:
        return Check(kind, False, "no heartbeat yet: is a Celery worker (and beat) running?")
    age = timezone.now() - datetime.fromisoformat(raw)
    max_age = settings.HEALTH_WORKER_MAX_AGE
    if age > max_age:
        return Check(
            kind,
            False,
            f"last heartbeat {age.total_seconds():.0f} s ago "
            f"(limit {max_age.total_seconds():.0f} s)",
        )
    return Check(kind, True, f"last heartbeat {int(age.total_seconds())} s ago")


def check_worker(kinds: list[str] | tuple[str, ...] = KINDS) -> Check:
    """Each queue of `kinds` is served: its heartbeat is fresher than HEALTH_WORKER_MAX_AGE.
    The detail names the queues that are not."""
    try:
        raws = cache.get_many([heartbeat_key(kind) for kind in kinds])
    except Exception as exc:
        return Check("worker", False, f"heartbeat unreadable ({type(exc).__name__})")
    parts = {kind: check_queue(kind, raws.get(heartbeat_key(kind))) for kind in kinds}
    stale = [part for part in parts.values() if not part.ok]
    if not stale:
        detail = "; ".join(f"{kind}: {part.detail}" for kind, part in parts.items())
        return Check("worker", True, detail, parts)
    detail = "; ".join(f"queue {part.name} not served: {part.detail}" for part in stale)
    return Check("worker", False, detail, parts)


def run_checks() -> list[Check]:
    return [check_database(), check_cache(), check_broker(), check_worker()]


def run_readiness_checks() -> list[Check]:
    """Readiness (/healthz/ready): what a request needs (database, cache) and what the work it
    queues needs (a worker on each queue; a queue's heartbeat arriving also proves the broker
    between beat and that worker). Liveness (/healthz/live) checks nothing beyond the process."""
    return [check_database(), check_cache(), check_worker()]
