"""A choropleth of one figure by council district, drawn on the server as SVG (no script).

The boundaries come from a GeoJSON FeatureCollection (setting `TRANSPARENCY_DISTRICTS_GEOJSON`;
the default is a small synthetic demo file, cases/data/council_districts_demo.geojson): each
feature a Polygon or MultiPolygon in longitude/latitude with a `district` property matching
the calls' `council_district`. The shapes are projected once per file (equirectangular,
scaled by the cosine of the mean latitude: exact enough for a city) and cached. Each map has
a <title> and <desc>, text labels, a legend, and the page puts the same figures in a table
under it. A hidden figure is hatched, never coloured.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from cases.transparency.charts import number_text

WIDTH = 360
# Five classes of a sequential palette (light to dark), readable as text on the darkest.
CLASSES = ("m1", "m2", "m3", "m4", "m5")


@dataclass(frozen=True)
class Shape:
    district: str
    name: str
    path: str  # the SVG path's d
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Region:
    """One district's figure as the map sees it."""

    district: str
    label: str
    value: float | None  # None: hidden or nothing to show
    text: str
    suppressed: bool = False


def _rings(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    raise ValueError(f"unsupported geometry {geometry['type']!r}")


@lru_cache(maxsize=4)
def _shapes(path: str, mtime: float) -> tuple[tuple[Shape, ...], float]:
    doc = json.loads(Path(path).read_text())
    features = [f for f in doc["features"] if f.get("geometry")]
    points = [pt for f in features for ring in _rings(f["geometry"]) for pt in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    scale_x = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = (max(lons) - min(lons)) * scale_x
    span_y = max(lats) - min(lats)
    unit = (WIDTH - 8) / span_x
    height = span_y * unit + 8

    def xy(pt):
        return (4 + (pt[0] - min(lons)) * scale_x * unit, 4 + (max(lats) - pt[1]) * unit)

    shapes = []
    for feature in features:
        props = feature.get("properties") or {}
        rings = [[xy(pt) for pt in ring] for ring in _rings(feature["geometry"])]
        d = " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + " Z" for ring in rings)
        outer = rings[0]
        cx = sum(x for x, _ in outer[:-1]) / max(len(outer) - 1, 1)
        cy = sum(y for _, y in outer[:-1]) / max(len(outer) - 1, 1)
        district = str(props.get("district", ""))
        shapes.append(Shape(district, str(props.get("name") or district), d, cx, cy))
    return tuple(shapes), height


def district_shapes() -> tuple[tuple[Shape, ...], float]:
    """The configured boundaries, projected (cached until the file changes)."""
    path = Path(settings.TRANSPARENCY_DISTRICTS_GEOJSON)
    return _shapes(str(path), path.stat().st_mtime)


def _class_of(value: float, low: float, high: float) -> str:
    if high <= low:
        return CLASSES[2]
    index = min(int((value - low) / (high - low) * len(CLASSES)), len(CLASSES) - 1)
    return CLASSES[index]


def choropleth(*, regions: list[Region], title: str, desc: str, map_id: str) -> SafeString:
    """The SVG of `regions` on the configured boundaries."""
    shapes, height = district_shapes()
    by_district = {r.district: r for r in regions}
    values = [r.value for r in regions if r.value is not None]
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    e = escape
    parts = [
        f'<svg class="district-map" viewBox="0 0 {WIDTH} {height + 34:.0f}" role="img" '
        f'aria-labelledby="{map_id}-title {map_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{map_id}-title">{e(title)}</title>',
        f'<desc id="{map_id}-desc">{e(desc)}</desc>',
        '<defs><pattern id="hidden-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="hidden-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="hidden-line"/></pattern></defs>',
    ]
    for shape in shapes:
        region = by_district.get(shape.district)
        if region is None or (region.value is None and not region.suppressed):
            css, text = "none", region.text if region else gettext("no figures")
        elif region.suppressed:
            css, text = "hidden", region.text
        else:
            css, text = _class_of(region.value, low, high), region.text
        # A district without figures is named as the others are (in the page's language).
        name = region.label if region else _district_name(shape)
        parts.append(
            f'<path d="{shape.path}" class="{css}"><title>{e(name)}: {e(text)}</title></path>'
        )
        parts.append(
            f'<text x="{shape.label_x:.1f}" y="{shape.label_y:.1f}" class="label {css}" '
            f'aria-hidden="true">{e(shape.district)}</text>'
        )
    # The legend: the lowest and highest figure shown, and what hatching means.
    y = height + 8
    parts.append(f'<g class="legend" aria-hidden="true" transform="translate(4,{y:.0f})">')
    for i, css in enumerate(CLASSES):
        parts.append(f'<rect x="{i * 18}" y="0" width="18" height="10" class="{css}"/>')
    if values:
        parts.append(f'<text x="0" y="22">{e(_short(low))}</text>')
        parts.append(
            f'<text x="{len(CLASSES) * 18}" y="22" text-anchor="end">{e(_short(high))}</text>'
        )
    parts.append('<rect x="110" y="0" width="18" height="10" fill="url(#hidden-hatch)"/>')
    parts.append('<text x="132" y="9">&lt;10</text></g></svg>')
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _district_name(shape: Shape) -> str:
    from cases.transparency.definitions import district_label

    return district_label(shape.district) if shape.district.isdigit() else shape.name


def _short(value: float) -> str:
    return number_text(value, 1) if value < 100 else number_text(value)
