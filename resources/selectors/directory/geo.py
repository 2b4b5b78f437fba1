"""Places on the Earth: a point, the distance to a location and the box around a point that the
locations' GiST index answers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import BooleanField, F, FloatField, Func, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Least

from acs.errors import DomainError
from resources.models import earth_point
from resources.models.directory import EARTH_RADIUS_KM, Cube

MAX_RADIUS_KM = 500.0


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise DomainError(
                "The point is not on Earth.",
                code="invalid",
                fields={"point": ["Latitude must be within ±90 and longitude within ±180."]},
            )


def _earth_point_at(point: Point) -> Func:
    return Func(
        Value(float(point.latitude)),
        Value(float(point.longitude)),
        function="resources_earth_point",
        output_field=Cube(),
    )


def _point_of(location: str, place: str | None) -> Func | F:
    """The Earth point of a row: a search row's stored `point` when `place` (the path to a
    SearchPlace, "" for its own queryset) is given, else computed from the location's
    latitude and longitude (`location`: the path to a Location). Each has its GiST index."""
    if place is not None:
        return F(f"{place}point")
    return earth_point(f"{location}latitude", f"{location}longitude")


def earth_box(
    point: Point, radius_km: float, *, location: str = "location__", place: str | None = None
) -> Func:
    """True where the location lies in the cube around `point` holding every place within
    `radius_km` (a superset, answered by the GiST index on locations, or on search rows with
    `place`): `point <@ box`."""
    # The straight-line (chord) length of an arc of radius_km on the sphere.
    chord = 2 * EARTH_RADIUS_KM * math.sin(min(radius_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
    return in_chord_box(point, Value(chord), location=location, place=place)


def in_chord_box(
    point: Point, chord: Value, *, location: str = "location__", place: str | None = None
) -> Func:
    """The location lies in the cube around `point` enlarged by `chord` km in each direction
    (a superset of the places within that straight-line distance; the GiST index's `<@`)."""
    box = Func(_earth_point_at(point), chord, Value(3), function="cube_enlarge")
    return Func(
        _point_of(location, place),
        box,
        template="(%(expressions)s)",
        arg_joiner=" <@ ",
        output_field=BooleanField(),
    )


class WithinRadius(Func):
    """True where the location lies within `radius_km` of `point`: in the cube around it that
    the GiST index answers (earth_box), and at most that far by great-circle distance
    (distance_km). One expression, so a reader of the query can tell the radius from the
    other filters: the nearest-first cut looks at the nearest places without it (search.py,
    _nearest_cut)."""

    template = "(%(expressions)s)"
    arg_joiner = " AND "
    output_field = BooleanField()

    def __init__(
        self,
        point: Point,
        radius_km: float,
        *,
        location: str = "location__",
        place: str | None = None,
    ) -> None:
        self.point, self.radius_km = point, float(radius_km)
        self.location, self.place = location, place
        super().__init__(
            earth_box(point, radius_km, location=location, place=place), self.at_most()
        )

    def at_most(self) -> Func:
        """The exact half alone, `distance <= radius`: no index, read on rows found otherwise."""
        return Func(
            distance_km(self.point, location=self.location, place=self.place),
            Value(self.radius_km),
            template="(%(expressions)s)",
            arg_joiner=" <= ",
            output_field=BooleanField(),
        )


def chord_km(point: Point, *, location: str = "location__", place: str | None = None) -> Func:
    """The straight-line distance through the Earth from `point` to the location: grows with
    the great-circle distance, and ordering by it ("nearest first") is the GiST index's `<->`."""
    return Func(
        _point_of(location, place),
        _earth_point_at(point),
        template="(%(expressions)s)",
        arg_joiner=" <-> ",
        output_field=FloatField(),
    )


def distance_km(
    point: Point, *, location: str = "location__", place: str | None = None
) -> CombinedExpression:
    """Great-circle distance in km from `point` to the location, in SQL (from the chord: the
    haversine formula's value, on the same sphere)."""
    half = chord_km(point, location=location, place=place) / Value(2 * EARTH_RADIUS_KM)
    return Value(2 * EARTH_RADIUS_KM) * ASin(Least(Value(1.0), half))
