"""Background work that waits for the transaction that caused it (architecture.md, "How a
request flows", step 5): the broker never hears of rows that were rolled back, and a task never
runs before the rows it reads are visible. Outside a transaction the work runs at once.

`enqueue_on_commit(queue, ids)` collects the ids one transaction produces for the same `queue`
function and hands them over in one call when it commits: notifications, webhook deliveries and
opening intervals each queue one batch per transaction, not one per row. (A single task is
queued with Django's own `transaction.on_commit(lambda: task.delay(pk))`, where
tests/acs/test_task_payloads.py reads its arguments.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from django.db import transaction

T = TypeVar("T")


class _Batch(Generic[T]):
    """What one transaction gathered for `flush` so far."""

    def __init__(self, flush: Callable[[list[T]], object]) -> None:
        self.flush = flush
        self.items: list[T] = []


class _Flush(Generic[T]):
    """One on-commit callback of a batch: the first to run hands over everything gathered."""

    def __init__(self, batch: _Batch[T]) -> None:
        self.batch = batch

    def __call__(self) -> None:
        items, self.batch.items = self.batch.items, []
        if items:
            self.batch.flush(items)


def enqueue_on_commit(
    queue: Callable[[list[T]], object], items: Iterable[T], *, robust: bool = False
) -> None:
    """Add `items` to what `queue` receives, as one list, when the current transaction commits:
    one call per transaction and `queue` function, however many times this is called in it
    (each call registers a callback; the first to run hands over all, the others find none).
    `robust`: a failure in `queue` is logged rather than raised (the work is committed already;
    a sweep or the next roll mends it)."""
    connection = transaction.get_connection()
    batch: _Batch[T] | None = None
    if connection.in_atomic_block:
        for _, callback, _ in reversed(connection.run_on_commit):
            if isinstance(callback, _Flush) and callback.batch.flush is queue:
                batch = callback.batch
                break
    if batch is None:
        batch = _Batch(queue)
    batch.items.extend(items)
    transaction.on_commit(_Flush(batch), robust=robust)
