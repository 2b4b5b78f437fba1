"""Background work that waits for the transaction that caused it (architecture.md, "How a
request flows", step 5): the broker never hears of rows that were rolled back, and a task never
runs before the rows it reads are visible. Outside a transaction the work runs at once.

`enqueue_on_commit` queues one Celery task with its ids. `gather_on_commit` collects what one
transaction produces for the same `flush` function and hands it over in one call when it
commits (notifications, webhook deliveries and opening intervals each queue one batch per
transaction, not one per row)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from django.db import transaction

T = TypeVar("T")


class Delayable(Protocol):
    """A Celery task (what `enqueue_on_commit` calls)."""

    def delay(self, *args: Any, **kwargs: Any) -> Any: ...


def enqueue_on_commit(task: Delayable, *args: Any, robust: bool = False, **kwargs: Any) -> None:
    """`task.delay(*args, **kwargs)` once the current transaction commits. Only ids and plain
    values go in (tests/acs/test_task_payloads.py). `robust`: a failure to queue is logged
    rather than raised (the caller's work is committed already; a sweep mends it)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=robust)


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


def gather_on_commit(
    flush: Callable[[list[T]], object], items: Iterable[T], *, robust: bool = False
) -> None:
    """Add `items` to what `flush` receives, as one list, when the current transaction commits:
    one call per transaction and `flush` function, however many times this is called in it
    (each call registers a callback; the first to run hands over all, the others find none)."""
    connection = transaction.get_connection()
    batch: _Batch[T] | None = None
    if connection.in_atomic_block:
        for _, callback, _ in reversed(connection.run_on_commit):
            if isinstance(callback, _Flush) and callback.batch.flush is flush:
                batch = callback.batch
                break
    if batch is None:
        batch = _Batch(flush)
    batch.items.extend(items)
    transaction.on_commit(_Flush(batch), robust=robust)
