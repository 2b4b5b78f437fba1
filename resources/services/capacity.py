"""Writes to the directory. Every capacity change and verification goes through here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from acs.errors import DomainError
from resources.models import Capacity, CapacityHistory, Service, ServiceAtLocation

if TYPE_CHECKING:
    from responders.models import User

MAX_PLACES = 100_000


def capacity_update(
    *,
    service_at_location: ServiceAtLocation,
    available: int,
    total: int,
    unit: str = "beds",
    note: str = "",
    by: User | None = None,
) -> Capacity:
    """Set the live capacity of a service at a location and append it to the history.

    Rule: 0 <= available <= total. The figure's `updated_at` is the freshness clock: search
    treats it as stale after CAPACITY_STALE_AFTER.
    """
    if available < 0 or total < 0:
        raise DomainError(
            "Capacity cannot be negative.",
            code="invalid_capacity",
            fields={"available": ["Must be 0 or more."]},
        )
    if total > MAX_PLACES:
        raise DomainError(
            "That is more places than any service has.",
            code="invalid_capacity",
            fields={"total": [f"At most {MAX_PLACES}."]},
        )
    if available > total:
        raise DomainError(
            "More places available than exist.",
            code="invalid_capacity",
            fields={"available": ["Must not exceed total."]},
        )
    unit = unit.strip() or "beds"
    if len(unit) > 32:
        raise DomainError(
            "The unit is too long.", code="invalid_capacity", fields={"unit": ["At most 32."]}
        )
    with transaction.atomic():
        # Lock the parent row so two partners updating at once leave history and figure in step.
        ServiceAtLocation.objects.select_for_update().get(pk=service_at_location.pk)
        capacity, _ = Capacity.objects.update_or_create(
            service_at_location=service_at_location,
            defaults={"available": available, "total": total, "unit": unit, "updated_by": by},
        )
        CapacityHistory.objects.create(
            service_at_location=service_at_location,
            available=available,
            total=total,
            unit=unit,
            note=note.strip()[:500],
            recorded_by=by,
        )
    return capacity


def service_verify(*, service: Service, at: datetime | None = None) -> Service:
    """Record that someone checked the listing against the provider (the 180-day review)."""
    service.last_verified_at = at or timezone.now()
    service.save(update_fields=["last_verified_at", "updated_at"])
    return service
