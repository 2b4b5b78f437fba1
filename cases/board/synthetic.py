"""A generated fleet for the board's tests and benchmark: units with positions and open calls
spread over Albuquerque, written with bulk inserts (a few statements whatever the size).

Call signs and incident numbers carry a prefix, so a run can delete exactly what it made.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cases.models import Call, CallStatus, UnitAssignment
from responders.models import PositionSource, Unit, UnitPosition, UnitStatus

CENTER = (35.0844, -106.6504)
WORKING = (CallStatus.DISPATCHED, CallStatus.EN_ROUTE, CallStatus.ON_SCENE)


def _near(rng: random.Random) -> tuple[Decimal, Decimal]:
    lat = CENTER[0] + rng.uniform(-0.12, 0.12)
    lng = CENTER[1] + rng.uniform(-0.15, 0.15)
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def board_fleet_generate(
    *, units: int, calls: int, prefix: str = "GEN", now: datetime | None = None, seed: int = 20
) -> None:
    """`units` units (a tenth out of service, the rest with a position, a third on a call) and
    `calls` open calls (priorities 1-5, received over the last two hours, most pending)."""
    rng = random.Random(seed)  # noqa: S311 - generated test data, not secrets
    now = now or timezone.now()
    with transaction.atomic():
        made = Unit.objects.bulk_create(
            Unit(
                call_sign=f"{prefix}-{i:04d}",
                status=UnitStatus.OUT_OF_SERVICE if i % 10 == 0 else UnitStatus.AVAILABLE,
                status_changed_at=now - timedelta(minutes=rng.randint(1, 240)),
            )
            for i in range(units)
        )
        positions = []
        for unit in made:
            if unit.status == UnitStatus.OUT_OF_SERVICE:
                continue
            for back in (3, 1):
                lat, lng = _near(rng)
                positions.append(
                    UnitPosition(
                        unit=unit,
                        latitude=lat,
                        longitude=lng,
                        recorded_at=now - timedelta(minutes=back),
                        source=PositionSource.CAD,
                    )
                )
        UnitPosition.objects.bulk_create(positions)
        rows = []
        for i in range(calls):
            lat, lng = _near(rng)
            received = now - timedelta(minutes=rng.randint(0, 120))
            rows.append(
                Call(
                    incident_number=f"{prefix}-{i:06d}",
                    source="911",
                    call_type="WELFARE",
                    priority=rng.randint(1, 5),
                    status=CallStatus.PENDING,
                    received_at=received,
                    status_changed_at=received,
                    address=f"{100 + i} Central Ave SW",
                    latitude=lat,
                    longitude=lng,
                )
            )
        made_calls = Call.objects.bulk_create(rows)
        busy = [u for u in made if u.status != UnitStatus.OUT_OF_SERVICE][: len(made) // 3]
        assignments = []
        for unit, call in zip(busy, made_calls, strict=False):
            step = rng.choice(WORKING)
            call.status = step
            call.status_changed_at = now - timedelta(minutes=rng.randint(0, 60))
            call.dispatched_at = call.status_changed_at
            unit.status = step
            unit.status_changed_at = call.status_changed_at
            assignments.append(
                UnitAssignment(
                    call=call,
                    unit=unit,
                    status=step,
                    dispatched_at=call.status_changed_at,
                )
            )
        Call.objects.bulk_update(
            [a.call for a in assignments], ["status", "status_changed_at", "dispatched_at"]
        )
        Unit.objects.bulk_update([a.unit for a in assignments], ["status", "status_changed_at"])
        UnitAssignment.objects.bulk_create(assignments)


def board_fleet_delete(*, prefix: str = "GEN") -> None:
    """Delete what `board_fleet_generate` made with `prefix`."""
    with transaction.atomic():
        Call.objects.filter(incident_number__startswith=f"{prefix}-").delete()
        Unit.objects.filter(call_sign__startswith=f"{prefix}-").delete()
