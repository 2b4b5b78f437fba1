"""The transparency dashboard's small-cell rule (cases/transparency/suppression.py)."""

import pytest

from cases.transparency.suppression import COMPLEMENTARY, PRIMARY, Cell, suppress
from tests.cases.transparency_world import APRIL, JUNE, MARCH, MAY

pytestmark = pytest.mark.django_db


# --- the small-cell rule ----------------------------------------------------------------------


def grid_of(*cells):
    return {cell.key: cell for cell in cells}


def test_a_count_under_10_is_suppressed_and_10_is_shown():
    nine = Cell(MARCH, "*", "calls_received", count=9, people=9)
    ten = Cell(APRIL, "*", "calls_received", count=10, people=10)
    suppress(grid_of(nine, ten))
    assert nine.suppressed == PRIMARY
    assert not ten.suppressed


def test_a_count_of_many_records_about_few_people_is_suppressed():
    cell = Cell(MARCH, "*", "encounters", count=40, people=6)
    suppress(grid_of(cell))
    assert cell.suppressed == PRIMARY


def test_a_share_is_suppressed_when_its_numerator_or_complement_is_small():
    def share(month, count, denominator):
        return Cell(month, "*", "escalated", count=count, people=count,
                    denominator=denominator, denominator_people=denominator)  # fmt: skip

    small_part, small_rest, fine = share(MARCH, 8, 100), share(APRIL, 95, 100), share(MAY, 50, 100)
    none_of_many = share(JUNE, 0, 100)
    suppress(grid_of(small_part, small_rest, fine, none_of_many))
    assert small_part.suppressed == small_rest.suppressed == PRIMARY
    assert not fine.suppressed
    assert not none_of_many.suppressed  # 0 of 100: about no one


def test_a_duration_measured_on_fewer_than_10_calls_is_suppressed():
    few = Cell(MARCH, "*", "response_time", count=9, people=9, median_seconds=600)
    many = Cell(APRIL, "*", "response_time", count=10, people=10, median_seconds=600)
    suppress(grid_of(few, many))
    assert few.suppressed and not many.suppressed


def test_the_smallest_other_part_of_a_breakdown_is_suppressed_with_a_small_one():
    total = Cell(MARCH, "*", "calls_received", count=100, people=100)
    parts = [
        Cell(MARCH, "*", "calls_by_source", "911", count=50, people=50),
        Cell(MARCH, "*", "calls_by_source", "311", count=5, people=5),
        Cell(MARCH, "*", "calls_by_source", "hotline", count=45, people=45),
    ]
    suppress(grid_of(total, *parts))
    assert [p.suppressed for p in parts] == ["", PRIMARY, COMPLEMENTARY]
    assert not total.suppressed


def test_a_suppressed_district_takes_another_district_with_it():
    cells = [
        Cell(MARCH, "1", "calls_received", count=30, people=30),
        Cell(MARCH, "2", "calls_received", count=4, people=4),
        Cell(MARCH, "3", "calls_received", count=25, people=25),
        Cell(MARCH, "*", "calls_received", count=59, people=59),
    ]
    suppress(grid_of(*cells))
    assert [c.suppressed for c in cells] == ["", PRIMARY, COMPLEMENTARY, ""]


def test_two_small_parts_need_no_third():
    total = Cell(MARCH, "*", "calls_received", count=100, people=100)
    parts = [
        Cell(MARCH, "*", "calls_by_source", "911", count=92, people=92),
        Cell(MARCH, "*", "calls_by_source", "311", count=5, people=5),
        Cell(MARCH, "*", "calls_by_source", "hotline", count=3, people=3),
    ]
    suppress(grid_of(total, *parts))
    assert [p.suppressed for p in parts] == ["", PRIMARY, PRIMARY]


def test_a_suppressed_total_hides_a_part_too():
    # 12 calls, but about 6 people: the total is small; its one non-zero part would give it.
    total = Cell(MARCH, "2", "calls_received", count=12, people=6)
    parts = [
        Cell(MARCH, "2", "call_outcomes", "attended", count=12, people=12),
        Cell(MARCH, "2", "call_outcomes", "cancelled", count=0, people=0),
    ]
    suppress(grid_of(total, *parts))
    assert total.suppressed == PRIMARY
    assert parts[0].suppressed == COMPLEMENTARY
    assert not parts[1].suppressed  # a zero is about no one, and hides nothing


def test_zero_is_published_and_never_chosen_to_hide_a_small_cell():
    cells = [
        Cell(MARCH, "1", "calls_received", count=0, people=0),
        Cell(MARCH, "2", "calls_received", count=4, people=4),
        Cell(MARCH, "3", "calls_received", count=25, people=25),
        Cell(MARCH, "*", "calls_received", count=29, people=29),
    ]
    suppress(grid_of(*cells))
    assert [c.suppressed for c in cells] == ["", PRIMARY, COMPLEMENTARY, ""]
