"""What every export shares: the job's date range in department time, keyset batches over a
queryset (bounded memory and a query count that grows per batch, not per row), progress
reports, redaction helpers and the Part 2 (substance-use) filter."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from cases.exports.models import ExportJob, Redaction

# Rows fetched per query; progress is written once per batch.
BATCH = 500

# 42 CFR Part 2: the values of ours that are substance-use information (PART2_NEEDS,
# PART2_SERVICES). Narratives may hold such details too, so they travel with the same
# permission (docs/exports.md).

AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"))
AGE_BANDS_TAIL = ((65, "55-64"),)


def department_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass
class ExportContext:
    job: ExportJob
    progress: Callable[[int], None]
    now: datetime
    # A key made for this run and never stored: de-identified ids cannot be traced back.
    _pseudonym_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def redaction(self) -> str:
        return self.job.redaction

    @property
    def full(self) -> bool:
        return self.job.redaction == Redaction.FULL

    @property
    def deidentified(self) -> bool:
        return self.job.redaction == Redaction.DEIDENTIFIED

    @property
    def start(self) -> datetime:
        return datetime.combine(self.job.start_date, time.min, department_tz())

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day of the range."""
        return datetime.combine(self.job.end_date + timedelta(days=1), time.min, department_tz())

    def person_id(self, public_id) -> str:
        return self.record_id(public_id, prefix="p-")

    def record_id(self, public_id, *, prefix: str) -> str:
        """The public id, or when de-identified a pseudonym that links rows within this file
        only (an HMAC under this run's key)."""
        if self.deidentified:
            digest = hmac.new(self._pseudonym_key, public_id.bytes, hashlib.sha256)
            return prefix + digest.hexdigest()[:16]
        return str(public_id)

    def when(self, value: datetime | None) -> str:
        """A moment in department time; only its month when de-identified."""
        if value is None:
            return ""
        local = value.astimezone(department_tz())
        if self.deidentified:
            return local.strftime("%Y-%m")
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def day(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(department_tz())
        return local.strftime("%Y-%m" if self.deidentified else "%Y-%m-%d")

    def part2_allowed(self) -> bool:
        return self.full and self.job.include_part2

    def without_part2(self, values, part2: frozenset[str]) -> list[str]:
        if self.part2_allowed():
            return list(values)
        return [v for v in values if v not in part2]


def age_band(born: date | None, at: date) -> str:
    if born is None:
        return "unknown"
    age = at.year - born.year - ((at.month, at.day) < (born.month, born.day))
    for limit, label in (*AGE_BANDS, *AGE_BANDS_TAIL):
        if age < limit:
            return label
    return "65+"


def keyset_batches(qs: QuerySet, size: int | None = None) -> Iterator[list]:
    """The rows of `qs` in primary-key order, `size` at a time: one query per batch, however
    many rows there are, and no server-side cursor held open between batches."""
    size = size or BATCH
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        last = batch[-1].pk


def joined(values) -> str:
    return ";".join(str(v) for v in values)
