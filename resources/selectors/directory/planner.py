"""Statements planned without some of PostgreSQL's methods, where its estimates mislead it
(the directory's searches: docs/benchmarks.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def planned_without(using: str, *methods: str) -> Iterator[None]:
    """Statements inside are planned without these methods ("seqscan", "bitmapscan", "sort":
    PostgreSQL's `enable_*` settings), set for the transaction and put back on the way out (a
    savepoint: an error inside rolls them back with it)."""
    names = [f"enable_{method}" for method in methods]
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        current = ", ".join("current_setting(%s)" for _ in names)
        off = ", ".join("set_config(%s, 'off', true)" for _ in names)
        cursor.execute(f"SELECT {current}, {off}", [*names, *names])
        before = cursor.fetchone()[: len(names)]
        yield
        put_back = ", ".join("set_config(%s, %s, true)" for _ in names)
        pairs = [value for pair in zip(names, before, strict=True) for value in pair]
        cursor.execute(f"SELECT {put_back}", pairs)
