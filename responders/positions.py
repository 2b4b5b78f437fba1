"""Unit positions: where a unit was last seen, from CAD or the unit's tablet, kept short-term.

The board (cases/board/) shows each unit's last known position to desk roles. Positions are
location data about identifiable people on shift, so they are kept only as long as the board
needs them (UNIT_POSITION_RETENTION, docs/security.md "Unit positions") and pruned by the
hourly retention sweep on the maintenance queue (cases.tasks.sweep_expired_copies).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from acs.batches import in_batches
from responders.models import PositionSource, Unit, UnitPosition

PRUNE_BATCH = 5000


def unit_position_record(
    *, unit: Unit, latitude: Decimal, longitude: Decimal, at: datetime, source: str
) -> UnitPosition | None:
    """Keep where `unit` was at `at`. A position older than the retention window is not kept
    (a tablet syncing after a long dead zone); returns the row, or None when not kept."""
    if source not in PositionSource.values:
        raise ValueError(f"Unknown position source {source!r}")
    if at <= _cutoff():
        return None
    return UnitPosition.objects.create(
        unit=unit, latitude=latitude, longitude=longitude, recorded_at=at, source=source
    )


def _cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.UNIT_POSITION_RETENTION_HOURS)


def unit_positions_expired(*, now: datetime | None = None) -> QuerySet[UnitPosition]:
    """Positions older than UNIT_POSITION_RETENTION_HOURS (on the recorded_at index)."""
    return UnitPosition.objects.filter(recorded_at__lte=_cutoff(now))


def unit_positions_prune(*, now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the positions past retention, batch after batch; returns how many."""
    return in_batches(
        unit_positions_expired(now=now),
        order_by=("recorded_at", "id"),
        batch=batch,
        apply=lambda rows: rows.delete(),
    )
