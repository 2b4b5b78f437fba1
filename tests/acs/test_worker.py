"""A real `celery -A acs worker` process takes a real task off the real broker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.filebased import FileBasedCache

from acs import health
from acs.queues import KINDS
from acs.tasks import worker_heartbeat

ROOT = Path(settings.BASE_DIR)
WAIT_SECONDS = 60


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "acs",
            "worker",
            "--loglevel",
            "info",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop_worker(worker: subprocess.Popen) -> str:
    worker.terminate()
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    return output


def all_recorded(a_cache) -> bool:
    return len(a_cache.get_many(health.HEARTBEAT_KEYS)) == len(KINDS)


def wait_for(predicate, worker: subprocess.Popen) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return True
        if worker.poll() is not None:
            return False
        time.sleep(0.25)
    return False


@pytest.mark.redis
@pytest.mark.worker
def test_a_task_sent_through_redis_is_executed_by_a_real_worker(db, client):
    env = {**os.environ, "REDIS_URL": os.environ["REDIS_URL"]}
    assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL, "tests use REDIS_URL as broker"
    cache.delete_many(health.HEARTBEAT_KEYS)
    worker = start_worker(env)
    try:
        # The worker serves every queue (no -Q): its own first heartbeats go out through each
        # as soon as it is ready.
        assert wait_for(lambda: all_recorded(cache), worker), stop_worker(worker)
        cache.delete_many(health.HEARTBEAT_KEYS)

        for kind in KINDS:
            worker_heartbeat.delay(kind)  # from this process, through Redis, to the worker

        assert wait_for(lambda: all_recorded(cache), worker), stop_worker(worker)
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
    finally:
        stop_worker(worker)


@pytest.mark.worker
def test_a_task_is_executed_by_a_real_worker_on_the_local_transport(tmp_path):
    """The default of `dev.py up` when no REDIS_URL is given: filesystem broker, file cache."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["ACS_LOCAL_DIR"] = str(tmp_path)
    file_cache = FileBasedCache(str(tmp_path / "cache"), {"KEY_PREFIX": settings.CACHE_KEY_PREFIX})
    worker = start_worker(env)
    try:
        # worker_ready sends the heartbeat task into the filesystem queue; the worker takes it.
        assert wait_for(lambda: all_recorded(file_cache), worker), stop_worker(worker)
    finally:
        output = stop_worker(worker)
    assert "acs.tasks.worker_heartbeat" in output
    assert "succeeded" in output
