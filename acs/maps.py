"""What every map of ours is told (static/js/acs_map.js): where tiles come from (none: marks on
a plain background), their credit, and the unit distances are shown in."""

from __future__ import annotations

from django.conf import settings

KM_PER_MILE = 1.609344


def map_config() -> dict[str, object]:
    return {
        "tile_url": settings.TILE_URL,
        "attribution": settings.TILE_ATTRIBUTION,
        "distance_unit": settings.DISTANCE_UNIT,
    }


def distance_label(km: float | None) -> str:
    """A distance in the city's unit (DISTANCE_UNIT: miles by default): "0.4 mi", "12 km"."""
    if km is None:
        return ""
    unit = settings.DISTANCE_UNIT
    value = km if unit == "km" else km / KM_PER_MILE
    return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
