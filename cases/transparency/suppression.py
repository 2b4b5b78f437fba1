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
from cases.transparency.equity import BASE_FIGURE, split

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
    # Equity: the groups of one figure (month, district) add up to the figure over everyone
    # (for race, more: a person may name several), which other figures publish: a line.
    lines.extend(equity_lines(grid))
    return lines


def equity_lines(grid: Grid) -> list[list[Cell]]:
    by_figure: dict[tuple, list[Cell]] = {}
    for cell in grid.values():
        if METRICS[cell.metric].equity:
            figure, _group = split(cell.dimension)
            by_figure.setdefault((cell.month, cell.district, cell.metric, figure), []).append(cell)
    return list(by_figure.values())


def _tie_groups(grid: Grid) -> bool:
    """A group's "served" count is the denominator of its other shares: where it is hidden,
    they are hidden too (their denominators would give it away). True if anything changed."""
    changed = False
    hidden = {
        (c.month, c.district, c.metric, split(c.dimension)[1])
        for c in grid.values()
        if c.suppressed and METRICS[c.metric].equity and split(c.dimension)[0] == BASE_FIGURE
    }
    if not hidden:
        return False
    for cell in grid.values():
        if cell.suppressed or not METRICS[cell.metric].equity:
            continue
        if (cell.month, cell.district, cell.metric, split(cell.dimension)[1]) in hidden:
            cell.suppressed = COMPLEMENTARY
            changed = True
    return changed


def suppress(grid: Grid) -> Grid:
    """Mark the cells of `grid` that must not be published (in place); returns the grid."""
    for cell in grid.values():
        cell.suppressed = PRIMARY if is_small(cell) else ""
    lines = lines_of(grid)
    changed = True
    while changed:
        changed = _tie_groups(grid)
        for line in lines:
            if sum(1 for c in line if c.suppressed) != 1:
                continue
            shown = [c for c in line if not c.suppressed and c.count > 0]
            if not shown:
                # An equity figure's groups add up to a total other figures publish (the
                # named people served): with every other group at zero, the one hidden group
                # would be that total. Hiding a zero group too leaves the split unknown.
                zeros = [c for c in line if not c.suppressed]
                if zeros and METRICS[line[0].metric].equity:
                    min(zeros, key=lambda c: (c.district, c.dimension)).suppressed = COMPLEMENTARY
                    changed = True
                continue
            smallest = min(shown, key=lambda c: (c.count, c.district, c.dimension))
            smallest.suppressed = COMPLEMENTARY
            changed = True
    return grid


def suppressed_keys(cells: Iterable[Cell]) -> set[tuple]:
    return {c.key for c in cells if c.suppressed}
