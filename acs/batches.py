"""Periodic work in bounded batches (shared/STYLE.md): claim a batch of rows with SKIP LOCKED,
act on it, commit, and go on until a batch comes back short. Also the two pieces the outboxes
(texts, webhooks) share: the sweep that hands due rows to batch tasks, and a sender's
per-process thread pool."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import close_old_connections, connections, transaction
from django.db.models import QuerySet

logger = logging.getLogger(__name__)


def failure_kind(exc: BaseException) -> str:
    """What a log says of a failed batch: the exception's type and where it was raised (the
    innermost frame's file, line and function), never its message nor its arguments, which
    may hold a phone number, an address or a text's body."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = f" at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return f"{type(exc).__module__}.{type(exc).__qualname__}{where}"


def in_batches(
    # Any model: `rows.model.objects` is each outbox model's own manager.
    rows: QuerySet[Any],
    *,
    order_by: tuple[str, ...],
    batch: int,
    apply: Callable[[QuerySet[Any]], object],
) -> int:
    """Call `apply` on the rows of `rows`, one claimed batch per transaction, until none are
    left; returns how many were claimed. `apply` must take the rows out of `rows` (delete
    them, or change what `rows` filters on). Rows another transaction holds are left for the
    next run, so overlapping runs never wait on each other nor act twice on one row."""
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                rows.select_for_update(skip_locked=True)
                .order_by(*order_by)
                .values_list("pk", flat=True)[:batch]
            )
            if ids:
                apply(rows.model.objects.filter(pk__in=ids))
        total += len(ids)
        if len(ids) < batch:
            return total


def outbox_sweep(
    *,
    queue_due: Callable[[int], list[int]],
    queue: Callable[..., bool],
    rows: int,
    seconds: float,
) -> int:
    """Hand an outbox's due rows to batch tasks: `queue_due(rows)` marks up to `rows` of them
    queued in one statement and returns their ids, `queue(ids, marked=True)` sends them to
    batch tasks (False when the broker is down). No ceiling but time: it stops after
    `seconds`, and the next run goes on. Returns how many rows it handed out."""
    total = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        ids = queue_due(rows)
        if not ids or not queue(ids, marked=True):
            break
        total += len(ids)
    return total


_pools: dict[tuple[int, str], tuple[int, ThreadPoolExecutor]] = {}


def process_pool(name: str, size: int) -> ThreadPoolExecutor:
    """This process's pool of `size` threads named `name` (made after a fork, never inherited
    from the parent: a forked worker process gets its own; made again if the size asked
    for changed)."""
    pid = os.getpid()
    key = (pid, name)
    size = max(1, size)
    for old in [k for k in _pools if k[0] != pid]:
        del _pools[old]
    if key not in _pools or _pools[key][0] != size:
        if key in _pools:
            _pools[key][1].shutdown(wait=False)  # its threads end when their work is done
        _pools[key] = (size, ThreadPoolExecutor(max_workers=size, thread_name_prefix=name))
    return _pools[key][1]


class InFlight:
    """A worker process's batches handed to its threads and not finished yet: at most
    `depth` at once. The task reserves a place (waiting while all are taken), does its part
    (the claim), and hands the rest to `run`, which finishes it in a thread of its own (with
    that thread's database connection) and frees the place, whatever happens."""

    def __init__(self, name: str, depth: int):
        self.depth = max(1, depth)
        self.places = threading.BoundedSemaphore(self.depth)
        self.pool = ThreadPoolExecutor(max_workers=self.depth, thread_name_prefix=name)

    def reserve(self, timeout: float) -> bool:
        return self.places.acquire(timeout=timeout)

    def release(self) -> None:
        self.places.release()

    def run(self, fn: Callable[..., Any], *args: Any) -> None:
        """`fn(*args)` in a thread; the place reserved for it is freed when it ends."""
        try:
            self.pool.submit(self._finish, fn, *args)
        except BaseException:
            self.release()
            raise

    def _finish(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            # This thread's connection, kept between batches like a request's
            # (CONN_MAX_AGE), dropped when it broke.
            close_old_connections()
            fn(*args)
        except Exception as exc:
            # Rows it had claimed stay leased with their in-flight mark: they are retaken
            # when the lease lapses, as after a crash. The type only: the message may hold
            # a number or a text's body.
            logger.error("a batch in flight failed: %s", failure_kind(exc))
        finally:
            close_old_connections()
            self.release()

    def drain(self, timeout: float) -> bool:
        """Wait until no batch is in flight (True) or `timeout` seconds have passed."""
        stop = time.monotonic() + timeout
        taken = 0
        try:
            while taken < self.depth:
                if not self.places.acquire(timeout=max(stop - time.monotonic(), 0)):
                    return False
                taken += 1
            return True
        finally:
            for _ in range(taken):
                self.places.release()

    def close(self) -> None:
        """Close each thread's database connection and end the threads (after `drain`): a
        worker process on its way out, or a test that leaves no session behind."""
        meet = threading.Barrier(self.depth, timeout=10)

        def close_here() -> None:
            try:
                meet.wait()  # one on each thread: none idle takes a second
            finally:
                connections.close_all()

        for _ in range(self.depth):
            self.pool.submit(close_here)
        self.pool.shutdown(wait=True)


_in_flight: dict[tuple[int, str, int], InFlight] = {}


def in_flight(name: str, depth: int) -> InFlight:
    """This process's batches in flight named `name` (made after a fork, never inherited)."""
    pid = os.getpid()
    key = (pid, name, max(1, depth))
    if key not in _in_flight:
        for old in [k for k in _in_flight if k[0] != pid]:
            del _in_flight[old]
        _in_flight[key] = InFlight(name, depth)
    return _in_flight[key]


def in_flight_drain(timeout: float, *, close: bool = False) -> bool:
    """Let this process's batches in flight finish (a worker stopping warmly), up to
    `timeout` seconds in all; False when some did not. With `close`, those that finished
    have their threads and database connections closed too (made again when next needed)."""
    stop = time.monotonic() + timeout
    pid = os.getpid()
    done = True
    for key, batches in list(_in_flight.items()):
        if key[0] != pid:
            continue
        drained = batches.drain(max(stop - time.monotonic(), 0))
        if drained and close:
            batches.close()
            del _in_flight[key]
        done = drained and done
    return done
