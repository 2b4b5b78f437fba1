"""Periodic work in bounded batches (shared/STYLE.md): claim a batch of rows with SKIP LOCKED,
act on it, commit, and go on until a batch comes back short."""

from __future__ import annotations

from collections.abc import Callable
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
