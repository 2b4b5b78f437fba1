"""Backoff for outbox retries (webhooks, notifications)."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff(
    attempts: int,
    *,
    base_seconds: float = 30,
    cap_seconds: float = 6 * 3600,
    rng: random.Random | None = None,
) -> timedelta:
    """Exponential with jitter: about base, 2 x base, 4 x base ... after the 1st, 2nd, 3rd
    failure, capped; the wait is drawn between half and all of that, so retries of many rows
    that failed together spread out instead of arriving together."""
    rng = rng or random.SystemRandom()
    ceiling = min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling / 2 + rng.uniform(0, ceiling / 2))
