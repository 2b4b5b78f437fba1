"""Periodic work in bounded batches (shared/STYLE.md): claim a batch of rows with SKIP LOCKED,
act on it, commit, and go on until a batch comes back short. Also the two pieces the outboxes
(texts, webhooks) share: the sweep that hands due rows to batch tasks, and a sender's
per-process thread pool."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import transaction
from django.db.models import QuerySet


def in_batches(
    rows: QuerySet, *, order_by: tuple[str, ...], batch: int, apply: Callable[[QuerySet], Any]
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


_pools: dict[tuple[int, str], ThreadPoolExecutor] = {}


def process_pool(name: str, size: int) -> ThreadPoolExecutor:
    """This process's pool of `size` threads named `name` (made after a fork, never inherited
    from the parent: a forked worker process gets its own)."""
    pid = os.getpid()
    key = (pid, name)
    if key not in _pools:
        for old in [k for k in _pools if k[0] != pid]:
            del _pools[old]
        _pools[key] = ThreadPoolExecutor(max_workers=max(1, size), thread_name_prefix=name)
    return _pools[key]
