"""How many texts a batch sends at once: sized to the provider's answer time, per worker
process and provider."""

from __future__ import annotations

import math
import os
import statistics
import threading
from collections import deque

from django.conf import settings


class SendPace:
    """How many texts a batch sends at once, sized to the provider's answer time (a
    gradient limit, as in TCP Vegas): between NOTIFICATION_SEND_CONCURRENCY_MIN and
    NOTIFICATION_SEND_CONCURRENCY, per worker process and provider.

    After each batch, `note` takes its median answer time and compares it with the least
    median of the last WINDOW batches (the provider's answer time when nothing queues):
    `limit = limit * least / latest + sqrt(limit)`. While answers take no longer than the
    least, the limit grows (a slow provider, a real one tens of milliseconds away, gets up to
    the ceiling within a few batches); once more sends at once only make each wait longer
    (for the provider, or for this process's interpreter lock: a fast local provider), it
    shrinks to about the answer time over a send's own CPU, plus a little queue. Fewer
    connections served faster beat many waiting (docs/benchmarks.md, "Issue 24, fourth
    step")."""

    WINDOW = 50

    def __init__(self, low: int, high: int):
        self.low, self.high = max(1, min(low, high)), max(1, high)
        self.limit = float(self.low)
        self.answers: deque[float] = deque(maxlen=self.WINDOW)
        self.lock = threading.Lock()

    def threads(self) -> int:
        with self.lock:
            return max(self.low, min(self.high, round(self.limit)))

    def note(self, answers: list[float]) -> None:
        if not answers:
            return
        latest = statistics.median(answers)
        with self.lock:
            self.answers.append(latest)
            least = min(self.answers)
            gradient = min(1.0, least / latest) if latest > 0 else 1.0
            limit = self.limit * max(gradient, 0.5) + math.sqrt(self.limit)
            self.limit = max(float(self.low), min(float(self.high), limit))


_paces: dict[tuple[int, str, int, int], SendPace] = {}
_paces_lock = threading.Lock()


def send_pace(key: str) -> SendPace:
    """This process's pace for the provider `key` (a new one when the bounds changed)."""
    low, high = settings.NOTIFICATION_SEND_CONCURRENCY_MIN, settings.NOTIFICATION_SEND_CONCURRENCY
    full = (os.getpid(), key, low, high)
    with _paces_lock:
        pace = _paces.get(full)
        if pace is None:
            for old in [k for k in _paces if k[0] != full[0] or k[1] == key]:
                del _paces[old]
            pace = _paces[full] = SendPace(low, high)
        return pace
