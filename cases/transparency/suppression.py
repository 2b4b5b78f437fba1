"""Small-cell suppression: no published figure lets anyone single out a person.

The rule (docs/metrics.md, "Small cells"), applied to every district of each month, whatever
the page shows, so that no choice of filters reveals more than another:

1. Primary. A count is suppressed when it counts 1 to 9 records or 1 to 9 people. A share is
   suppressed when its numerator or its complement (denominator minus numerator) is 1 to 9, in
   records or in people: either one can be worked out from the share and its denominator. A
   duration is suppressed when 1 to 9 calls were measured. Zero is published: it is about no
   one, and a hidden zero would protect nothing (other figures often show it is zero).
2. Complementary. Cells that add up to a published total form a line: the parts of a
   breakdown with their total (one month and district), and the districts of one figure with
   the all-districts figure (one month). A line with exactly one suppressed cell would give
   it away by subtraction, so its smallest other non-zero cell is suppressed too; repeated
   until no line has exactly one.

Zero cells take no part in either step, so the result does not depend on which districts or
parts happen to have rows in the range read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from cases.models import ALL_DISTRICTS
from cases.transparency.definitions import METRICS, SMALL_CELL, Kind

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


@dataclass
class Cell:
    """One figure of the grid: (month, district, metric, dimension)."""

    month: date
    district: str
    metric: str
    dimension: str = ""
    count: int = 0
    people: int = 0
    denominator: int | None = None
    denominator_people: int | None = None
    median_seconds: float | None = None
    p90_seconds: float | None = None
    suppressed: str = ""  # "", PRIMARY or COMPLEMENTARY

    @property
    def key(self) -> tuple[date, str, str, str]:
        return (self.month, self.district, self.metric, self.dimension)

    @property
    def share(self) -> float | None:
        if not self.denominator:
            return None
        return self.count / self.denominator


def _small(n: int | None) -> bool:
    return n is not None and 0 < n < SMALL_CELL


def is_small(cell: Cell) -> bool:
    """The primary rule for one cell."""
    kind = METRICS[cell.metric].kind
    if kind is Kind.DURATION:
        return _small(cell.count)
    if kind is Kind.SHARE:
        denominator = cell.denominator or 0
        denominator_people = cell.denominator_people or 0
        return (
            _small(cell.count)
            or _small(cell.people)
            or _small(denominator - cell.count)
            # Conservative where one person is behind several records (referrals): the
            # people outside the numerator are at least this many.
            or _small(denominator_people - cell.people)
        )
    return _small(cell.count) or _small(cell.people)


Grid = dict[tuple[date, str, str, str], Cell]


def lines_of(grid: Grid) -> list[list[Cell]]:
    """Every set of cells that adds up to a published total, the total included."""
    lines: list[list[Cell]] = []
    parts: dict[tuple, list[Cell]] = {}
    districts: dict[tuple, list[Cell]] = {}
    for cell in grid.values():
        definition = METRICS[cell.metric]
        if definition.total is not None:
            parts.setdefault((cell.month, cell.district, cell.metric), []).append(cell)
        if definition.kind is not Kind.DURATION and cell.district != ALL_DISTRICTS:
            districts.setdefault((cell.month, cell.metric, cell.dimension), []).append(cell)
    for (month, district, metric), cells in parts.items():
        total_metric, total_dimension = METRICS[metric].total
        total = grid.get((month, district, total_metric, total_dimension))
        lines.append([*cells, total] if total is not None else cells)
    for (month, metric, dimension), cells in districts.items():
        total = grid.get((month, ALL_DISTRICTS, metric, dimension))
        lines.append([*cells, total] if total is not None else cells)
    return lines


def suppress(grid: Grid) -> Grid:
    """Mark the cells of `grid` that must not be published (in place); returns the grid."""
    for cell in grid.values():
        cell.suppressed = PRIMARY if is_small(cell) else ""
    lines = lines_of(grid)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for c in line if c.suppressed) != 1:
                continue
            shown = [c for c in line if not c.suppressed and c.count > 0]
            if not shown:
                continue
            smallest = min(shown, key=lambda c: (c.count, c.district, c.dimension))
            smallest.suppressed = COMPLEMENTARY
            changed = True
    return grid


def suppressed_keys(cells: Iterable[Cell]) -> set[tuple]:
    return {c.key for c in cells if c.suppressed}
