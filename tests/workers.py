"""Real processes for tests that need them: a `celery -A acs worker` on the test database, a
private redis-server the test may stop and start, and the in-process Celery app pointed at it.

A worker's output goes to a file (a pipe nobody reads would fill and stall a busy worker).
Callers stop what they start in `finally`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
WAIT_SECONDS = 60
REDIS_SERVER = "/usr/bin/redis-server"


def worker_database_url() -> str:
    """DATABASE_URL for a subprocess, naming the test database this process uses (on a TCP host
    or the embedded server's socket folder)."""
    from django.db import connection

    db = connection.settings_dict
    where = urlencode({"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432})
    login = quote(db["USER"], safe="")
    if db.get("PASSWORD"):
        login += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{login}@/{quote(db['NAME'], safe='')}?{where}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float = WAIT_SECONDS, alive=None, every: float = 0.1):
    """Poll `predicate` until it is truthy (returned) or the time is up (None). `alive`, if
    given, is checked too: when it turns false, waiting stops early."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if alive is not None and not alive():
            return predicate() or None
        time.sleep(every)
    return None


@dataclass
class Worker:
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = WAIT_SECONDS) -> None:
        if not wait_until(lambda: " ready." in self.output(), timeout=timeout, alive=self.alive):
            raise AssertionError(f"the worker did not become ready:\n{self.stop()}")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no cleanup; what a crash or the OOM killer does."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.output()


def start_worker(
    env: dict[str, str],
    log: Path,
    *,
    name: str = "test",
    pool: str = "solo",
    concurrency: int = 1,
    loglevel: str = "info",
    kinds: tuple[str, ...] = (),
    module: str = "celery",
) -> Worker:
    """`kinds`: the queues it serves (-Q; default: all three). `module`: what runs `celery`
    (a test-only wrapper such as tests.slow_export_worker)."""
    from acs.queues import queue_name

    queues = ["-Q", ",".join(queue_name(kind) for kind in kinds)] if kinds else []
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                "-A",
                "acs",
                "worker",
                "--hostname",
                f"{name}-{os.getpid()}@%h",
                "--loglevel",
                loglevel,
                "--concurrency",
                str(concurrency),
                "--pool",
                pool,
                "--without-gossip",
                "--without-mingle",
                *queues,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, log)


class PrivateRedis:
    """A redis-server of the test's own, without persistence: stopping it loses everything
    in it, as a restarted broker without a disk would."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self._answers, timeout=10, alive=lambda: self.process.poll() is None):
            self.stop()
            raise AssertionError(f"redis-server did not start on port {self.port}")
        return self

    def _answers(self) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def private_redis_or_skip() -> PrivateRedis:
    """A started private redis-server; skipped loudly (failed in CI) without the binary."""
    from tests.conftest import service_missing

    if not (os.access(REDIS_SERVER, os.X_OK) or shutil.which("redis-server")):
        service_missing("redis-server", f"{REDIS_SERVER} is not installed")
    return PrivateRedis().start()


@contextmanager
def celery_broker(url: str):
    """Point this process's Celery app at another broker for a while (tasks `.delay()`-ed
    here go there), dropping the cached connection pools on the way in and out."""
    from acs.celery import app

    def drop_pools(close: bool):
        # kombu keeps one pool per broker URL for the whole process: the usual broker's is
        # left open for later; the private one is closed, its server is going away.
        if close and app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    before = app.conf.broker_url
    drop_pools(close=False)
    app.conf.broker_url = url
    try:
        yield app
    finally:
        drop_pools(close=True)
        app.conf.broker_url = before


def restore_role_groups() -> None:
    """A transactional test may follow another one's flush, which empties the role groups the
    data migration made: put them back."""
    from django.contrib.auth.models import Group

    from acs.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role.value)
