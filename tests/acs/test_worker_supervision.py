"""`dev.py up` starts the worker and beat again when they exit (dev.Supervised): after a pause
that doubles with each quick exit, giving up with a clear message after five in a row.

The first tests run small real processes under a clock the test moves; the last one runs the
real worker of `dev.py up`, makes Celery give up for good as the finding saw it (a pool child
killed during start-up: "Could not start worker processes"), then kills its main process, and
each time watches it come back and record a fresh heartbeat."""

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

import dev
from acs import health
from tests.workers import private_redis_or_skip, wait_until, worker_database_url

EXITS_AT_ONCE = [sys.executable, "-c", "import sys; sys.exit(3)"]
RUNS = [sys.executable, "-c", "import time; time.sleep(60)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def supervise(argv: list[str], clock: Clock, **options) -> dev.Supervised:
    return dev.Supervised(
        "job",
        lambda: dev.Child("job", argv, dict(os.environ), signal_group=False),
        clock=clock,
        **options,
    )


def exited(job: dev.Supervised) -> None:
    job.child.process.wait(timeout=30)


def stop(job: dev.Supervised) -> None:
    job.stop()
    job.wait_or_kill(time.monotonic() + 20)


def test_a_child_that_exits_is_started_again_after_a_pause(capsys):
    clock = Clock()
    job = supervise(EXITS_AT_ONCE, clock, first_delay=1.0)
    try:
        first = job.child.process
        exited(job)

        assert job.check()
        clock.now += 1.9
        assert job.check()
        assert job.child.process is first  # still waiting: 2 s after a quick exit

        clock.now += 0.1
        assert job.check()

        assert job.child.process is not first
        assert job.restarts == 1
        out, err = capsys.readouterr()
        assert "warning: job exited with 3 after 0 s; starting it again in 2 s" in err
        assert "==> Starting job again (restart 1)" in out
    finally:
        stop(job)


def test_each_quick_exit_doubles_the_pause_and_the_fifth_gives_up(capsys):
    clock = Clock()
    job = supervise(EXITS_AT_ONCE, clock, first_delay=1.0)
    try:
        pauses = []
        for _ in range(4):
            exited(job)
            assert job.check()
            pauses.append(job.restart_at - clock.now)
            clock.now = job.restart_at
            assert job.check()
        exited(job)

        assert job.check() is False

        assert pauses == [2.0, 4.0, 8.0, 16.0]
        assert job.restarts == 4
        err = capsys.readouterr().err
        assert (
            "error: job exited 5 times in a row within 30 s of starting (last exit code 3); "
            "not starting it again. Its output above says why."
        ) in err
    finally:
        stop(job)


def test_a_child_that_ran_a_while_before_exiting_starts_a_new_count(capsys):
    clock = Clock()
    job = supervise(EXITS_AT_ONCE, clock, first_delay=1.0, quick=30.0)
    try:
        exited(job)
        assert job.check()
        clock.now = job.restart_at
        assert job.check()  # restarted after one quick exit
        exited(job)
        clock.now += 45  # this one "ran" 45 s

        assert job.check()

        assert job.quick_exits == 0
        assert job.restart_at - clock.now == 1.0
    finally:
        stop(job)


def test_ctrl_c_cancels_a_waiting_restart_and_stops_a_running_child():
    clock = Clock()
    job = supervise(EXITS_AT_ONCE, clock)
    exited(job)
    assert job.check()
    first = job.child.process

    stop(job)
    clock.now += 3600

    assert job.check()
    assert job.child.process is first

    running = supervise(RUNS, clock)
    stop(running)
    assert running.child.process.returncode == -signal.SIGTERM


# --- the real worker of `dev.py up` ---------------------------------------------------------


def pool_children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


class Output:
    """What the supervised worker printed (dev.Child prints it, prefixed, to stdout)."""

    def __init__(self, capsys) -> None:
        self.capsys = capsys
        self.text = ""

    def __call__(self) -> str:
        captured = self.capsys.readouterr()
        self.text += captured.out + captured.err
        return self.text


def fresh_heartbeat() -> bool:
    return health.check_worker(dev.WORKERS["worker"][0]).ok


@pytest.mark.redis
@pytest.mark.worker
def test_a_worker_that_dies_in_start_up_or_later_comes_back_with_a_fresh_heartbeat(db, capsys):
    redis = private_redis_or_skip()  # skipped loudly (failed in CI) without redis-server
    redis.stop()  # its port is kept: the broker comes up later
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "REDIS_URL": redis.url}
    private_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis.url,
            "KEY_PREFIX": settings.CACHE_KEY_PREFIX,
        }
    }
    output = Output(capsys)
    kinds, concurrency = dev.WORKERS["worker"]  # realtime and maintenance, two slots
    worker_args = dev.worker_args(kinds, concurrency, env)
    worker = dev.Supervised(
        "worker",
        lambda: dev.Child("worker", dev.celery(*worker_args), env, signal_group=False),
        first_delay=0.1,
    )

    def supervised(predicate):
        def step():
            assert worker.check(), output()
            return predicate()

        return wait_until(step, timeout=90)

    try:
        # Start-up: the pool is up, the consumer cannot reach the broker yet. Kill a pool child.
        first = worker.child.process
        assert wait_until(
            lambda: "Cannot connect to redis" in output(), alive=lambda: first.poll() is None
        ), output()
        children = pool_children(first.pid)
        assert len(children) == 2, output()
        os.kill(children[0], signal.SIGKILL)
        redis.start()

        # Celery gives up for good: before this change that was the end of the worker.
        assert supervised(lambda: worker.restarts == 1), output()
        assert first.returncode == 1
        assert "WorkerLostError('Could not start worker processes')" in output()
        assert "warning: worker exited with 1" in output()
        assert all(gone(pid) for pid in children)  # the rest of its pool went with it

        with override_settings(CACHES=private_cache):
            assert supervised(fresh_heartbeat), output()

            # Later: the main process killed (the OOM killer), its heartbeat forgotten.
            second = worker.child.process
            children = pool_children(second.pid)
            second.send_signal(signal.SIGKILL)
            second.wait(timeout=10)
            redis.client().flushdb()
            assert not fresh_heartbeat()

            assert supervised(lambda: worker.restarts == 2), output()
            assert all(gone(pid) for pid in children)
            assert supervised(fresh_heartbeat), output()
            assert worker.child.process.poll() is None
    finally:
        worker.stop()
        worker.wait_or_kill(time.monotonic() + 20)
        redis.stop()
