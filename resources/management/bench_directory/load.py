"""The benchmark's concurrent kind: several clients at once against gunicorn's two workers, each
sending a mix of the directory's searches for a while, as a server busy with more than one
request at a time sees them (throughput, and each search's latency under that load)."""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from resources.management.bench_directory.queries import Query, field_params
from resources.management.bench_directory.server import get

# The HSDS kinds of the mix (with the field app's resources screen): the broad ones, whose
# statements are the longest, and two filters alone.
MIXED_KINDS = ("text", "typo", "open", "taxonomy")


@dataclass
class Load:
    """What each kind of request took under load, and how many requests were answered."""

    ms: dict[str, list[float]]
    seconds: float = 0.0  # how long the clients ran, measured

    def summary(self) -> str:
        every = sorted(x for values in self.ms.values() for x in values)
        if not every:
            return "-"
        parts = [f"{len(every) / self.seconds:.1f} req/s, {_p50_p95(every)}"]
        parts += [f"{kind} {_p50_p95(sorted(values))}" for kind, values in self.ms.items()]
        return "; ".join(parts)


def _p50_p95(sorted_ms: list[float]) -> str:
    p95 = sorted_ms[max(0, math.ceil(len(sorted_ms) * 0.95) - 1)]
    return f"{statistics.median(sorted_ms):.1f}/{p95:.1f}"


def concurrent(
    base: str,
    jobs: list[tuple[str, Query]],
    *,
    clients: int,
    seconds: float,
    session: Callable[[], requests.Session],
    seed: int,
) -> Load:
    """`clients` threads, each with its own HTTP session (`session()`: the field screen's
    signed-in responder), sending requests drawn from `jobs` (kind, query) one after another
    for `seconds` (each client sends one of each kind first, however short the time): each
    kind's latencies, and the number answered a second."""
    load = Load(ms={kind: [] for kind, _ in jobs})
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    failures: list[BaseException] = []

    def client(number: int) -> None:
        draw = random.Random(seed + number)  # noqa: S311 - reproducible test data, not secrets
        http = session()
        # One of each kind first, however short the time, so that every kind is measured.
        first = list({kind: (kind, q) for kind, q in jobs}.values())
        draw.shuffle(first)
        try:
            while first or time.monotonic() < stop:
                kind, q = first.pop() if first else draw.choice(jobs)
                start = time.perf_counter()
                if kind == "field":
                    get(http, f"{base}/field/resources/", field_params(q))
                elif kind == "floor":  # a view that reads nothing
                    get(http, f"{base}/api/hsds/")
                else:
                    get(http, f"{base}/api/hsds/service_at_locations", q.api_params())
                with lock:
                    load.ms[kind].append((time.perf_counter() - start) * 1000)
        except BaseException as exc:  # re-raised in the caller's thread
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.monotonic() - began  # the first pass may outlast a short run
    if failures:
        raise failures[0]
    return load
